"""The error catalogue: every user mistake the engine detects, its exception and exact message, and
proof that the failed call changed nothing.

Each entry below sets up a mistake and returns `(action, tensors)`: the call that must fail and every
tensor involved. The test snapshots those tensors (values, `.grad`, version counter, `requires_grad`,
`grad_fn`, and whether each node of their graphs still holds its saved values), runs the action, checks
the exception's type and message, and compares the snapshot: a failed call must leave no trace.

Messages are PyTorch's (recorded by running PyTorch 2.13), with `torch.` replaced by `autograd_lite.`
where the message names one of our types (`autograd_lite.Size`, `autograd_lite.FloatTensor`). The few
places where ours differ on purpose are marked DIFFERS, with the reason.
"""
import numpy as np
import pytest

import autograd_lite as ag
import autograd_lite.nn.functional as F
from autograd_lite.autograd import forward_ad as fwAD
from autograd_lite.graph import FREED_MESSAGE

CATALOGUE = []


def mistake(exception, message, midway=False):
    """Register a case: the setup function below it, the exception type, and the exact message.

    midway: the error is found by the backward walk after it started, so (as in PyTorch) the nodes that
    already ran have freed their saved values and the leaves reached have their new `.grad`; only the
    tensors' values, versions and histories must be as they were.
    """

    def register(setup):
        CATALOGUE.append(pytest.param(setup, exception, message, midway, id=setup.__name__))
        return setup

    return register


def randn(*shape, **kwargs):
    return ag.tensor(np.random.default_rng(len(CATALOGUE)).standard_normal(shape), dtype=ag.float32, **kwargs)


def modified(what, shape, version, expected, dtype="FloatTensor"):
    where = f", which is output 0 of {what}," if what else ""
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[autograd_lite.{dtype} {shape}]{where} is at version {version}; expected version {expected} instead. "
        "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "autograd_lite.autograd.set_detect_anomaly(True, check_nan=False)."
    )


# ==================================================================================================
# backward on something that cannot be backwarded
# ==================================================================================================
@mistake(RuntimeError, "grad can be implicitly created only for scalar outputs")
def backward_of_a_non_scalar_without_gradient():
    x = randn(2, 3, requires_grad=True)
    y = x * 2
    return y.backward, [x, y]


@mistake(RuntimeError, "grad can be implicitly created only for scalar outputs")
def autograd_grad_of_a_non_scalar_without_grad_outputs():
    x = randn(2, 3, requires_grad=True)
    y = x * 2
    return (lambda: ag.autograd.grad(y, x)), [x, y]


@mistake(RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn")
def backward_of_a_tensor_that_does_not_require_grad():
    x = randn(3)
    return (lambda: x.sum().backward()), [x]


@mistake(RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn")
def backward_of_a_result_computed_under_no_grad():
    y = randn(3, requires_grad=True)
    with ag.no_grad():
        z = (y * 2).sum()
    return z.backward, [y, z]


@mistake(RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn")
def backward_of_a_detached_tensor():
    y = randn(3, requires_grad=True)
    return (lambda: y.detach().sum().backward()), [y]


@mistake(RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn")
def autograd_grad_of_an_output_that_does_not_require_grad():
    x = randn(3, requires_grad=True)
    return (lambda: ag.autograd.grad(ag.ones(3).sum(), x)), [x]


@mistake(RuntimeError, "One of the differentiated Tensors does not require grad")
def autograd_grad_with_respect_to_a_tensor_that_does_not_require_grad():
    x, y = randn(3), randn(3, requires_grad=True)
    return (lambda: ag.autograd.grad((y * 2).sum(), [y, x])), [x, y]


@mistake(RuntimeError, "The differentiated Tensor at index 1 appears to not have been used in the graph. Set "
                       "allow_unused=True if this is the desired behavior.")
def autograd_grad_with_respect_to_an_unused_tensor():
    x, u = randn(3, requires_grad=True), randn(3, requires_grad=True)
    y = (x * x).sum()
    return (lambda: ag.autograd.grad(y, [x, u])), [x, u, y]


@mistake(RuntimeError, "`inputs` argument to `backward()` cannot be empty.")
def backward_with_empty_inputs():
    x = randn(3, requires_grad=True)
    loss = (x * x).sum()
    return (lambda: loss.backward(inputs=[])), [x, loss]


# DIFFERS: PyTorch says "can't retain_grad on Tensor that has requires_grad=False", naming an internal
# step; ours gives the message PyTorch itself uses for the same mistake in autograd.grad.
@mistake(RuntimeError, "One of the differentiated Tensors does not require grad")
def backward_inputs_naming_a_tensor_that_does_not_require_grad():
    x = randn(3, requires_grad=True)
    loss = (x * x).sum()
    return (lambda: loss.backward(inputs=[randn(3)])), [x, loss]


@mistake(TypeError, "'float' object is not iterable")
def backward_with_a_number_as_gradient():
    x = randn(2, 3, requires_grad=True)
    y = x * 2
    return (lambda: y.backward(2.0)), [x, y]


# ==================================================================================================
# gradients of the wrong shape
# ==================================================================================================
@mistake(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of autograd_lite.Size([3]) and output[0] has "
                       "a shape of autograd_lite.Size([2, 3]).")
def backward_gradient_of_the_wrong_shape():
    x = randn(2, 3, requires_grad=True)
    (x * 3).sum().backward()  # x.grad exists: it must stay as it is
    y = x * 2
    return (lambda: y.backward(ag.ones(3))), [x, y]


@mistake(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of autograd_lite.Size([3, 2]) and output[0] "
                       "has a shape of autograd_lite.Size([2, 3]).")
def backward_gradient_transposed():
    x = randn(2, 3, requires_grad=True)
    y = x * 2
    return (lambda: y.backward(ag.ones(3, 2))), [x, y]


@mistake(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of autograd_lite.Size([1]) and output[0] has "
                       "a shape of autograd_lite.Size([]).")
def backward_gradient_of_shape_1_for_a_0d_output():
    x = randn(2, 3, requires_grad=True)
    y = (x * 2).sum()
    return (lambda: y.backward(ag.ones(1))), [x, y]


@mistake(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of autograd_lite.Size([3]) and output[0] has "
                       "a shape of autograd_lite.Size([2, 3]).")
def autograd_grad_outputs_of_the_wrong_shape():
    x = randn(2, 3, requires_grad=True)
    y = x * 2
    return (lambda: ag.autograd.grad(y, x, ag.ones(3))), [x, y]


@mistake(RuntimeError, "got 2 tensors and 1 gradients")
def autograd_grad_with_fewer_grad_outputs_than_outputs():
    x = randn(2, 3, requires_grad=True)
    a, b = (x * 2).sum(), x.sum()
    return (lambda: ag.autograd.grad([a, b], x, grad_outputs=[ag.tensor(1.0)])), [x, a, b]


# ==================================================================================================
# freed graphs and values modified in place
# ==================================================================================================
@mistake(RuntimeError, FREED_MESSAGE)
def second_backward_through_a_freed_graph():
    x = randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    return y.backward, [x, y]


@mistake(RuntimeError, FREED_MESSAGE)
def second_backward_of_x_times_a_number():
    x = randn(3, requires_grad=True)
    y = (x * 2).sum()  # the node saved the number 2: a re-run needs it
    y.backward()
    return y.backward, [x, y]


@mistake(RuntimeError, FREED_MESSAGE)
def second_backward_of_the_source_notebook_loss():
    w, b = randn(5, 3, requires_grad=True), randn(3, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(ag.ones(5) @ w + b, ag.zeros(3))
    loss.backward()
    return loss.backward, [w, b, loss]


@mistake(RuntimeError, FREED_MESSAGE)
def autograd_grad_through_a_freed_graph():
    x = randn(3, requires_grad=True)
    y = (x * x).sum()
    ag.autograd.grad(y, x)
    return (lambda: ag.autograd.grad(y, x)), [x, y]


@mistake(RuntimeError, FREED_MESSAGE)
def backward_after_autograd_grad_freed_the_graph():
    x = randn(3, requires_grad=True)
    z = x.exp().sum()
    ag.autograd.grad(z, x)
    return z.backward, [x, z]


@mistake(RuntimeError, FREED_MESSAGE)
def reading_saved_tensors_after_backward():
    x = randn(3, requires_grad=True)
    m = x * x
    m.sum().backward()
    return (lambda: m.grad_fn.saved_tensors), [x, m]


@mistake(RuntimeError, modified("Sigmoid", [2, 3], 1, 0), midway=True)
def inplace_change_of_a_saved_output():
    x = randn(2, 3, requires_grad=True)
    b = (x * 1).sigmoid()
    b.mul_(2)
    return (lambda: b.sum().backward()), [x, b]


@mistake(RuntimeError, modified("Sigmoid", [2, 3], 1, 0, "DoubleTensor"), midway=True)
def inplace_change_of_a_saved_float64_output():
    x = randn(2, 3).double().requires_grad_()
    b = (x * 1).sigmoid()
    b.mul_(2)
    return (lambda: b.sum().backward()), [x, b]


@mistake(RuntimeError, modified("Exp", [2, 3], 1, 0))
def inplace_add_to_an_exp_output():
    x = randn(2, 3, requires_grad=True)
    a = x.exp()
    a.add_(1)
    return (lambda: a.sum().backward()), [x, a]


@mistake(RuntimeError, modified("Exp", [], 1, 0))
def inplace_change_of_a_0d_saved_output():
    s = ag.tensor(1.0, requires_grad=True)
    e = s.exp()
    e.add_(1)
    return e.backward, [s, e]


@mistake(RuntimeError, modified("Add", [2, 3], 1, 0))
def inplace_change_of_a_saved_input():
    x = randn(2, 3, requires_grad=True)
    m = x * 1
    p = m * m
    m.add_(1)  # m is now the output of AddBackward0, at version 1
    return (lambda: p.sum().backward()), [x, m, p]


@mistake(RuntimeError, modified(None, [3], 1, 0))
def inplace_change_of_a_leaf_under_no_grad_after_use():
    w = randn(3, requires_grad=True)
    q = (w * w).sum()
    with ag.no_grad():
        w.add_(1)
    return q.backward, [w, q]


@mistake(RuntimeError, modified("Tanh", [3], 1, 0))
def item_assignment_into_a_saved_output():
    v = randn(3, requires_grad=True)
    h = v.tanh()
    h[0] = 0.0
    return (lambda: h.sum().backward()), [v, h]


@mistake(RuntimeError, modified(None, [3], 2, 1))
def inplace_change_through_detach():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.detach()
    d[0] = 100.0
    y = x * x
    d.add_(1)
    return (lambda: y.sum().backward()), [x, d, y]


# ==================================================================================================
# in-place on leaves that require grad
# ==================================================================================================
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_INPLACE = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def _leaf_case(action):
    def setup():
        x = ag.ones(3, requires_grad=True)
        return (lambda: action(x)), [x]

    return setup


def _iadd(x):
    x += 1


def _setitem(x):
    x[0] = 5.0


for _name, _action, _message in [
    ("add_", lambda x: x.add_(1), LEAF_INPLACE),
    ("mul_", lambda x: x.mul_(2), LEAF_INPLACE),
    ("iadd", _iadd, LEAF_INPLACE),
    ("sub_alpha", lambda x: x.sub_(ag.ones(3), alpha=0), LEAF_INPLACE),
    ("div_", lambda x: x.div_(2), LEAF_INPLACE),
    ("zero_", lambda x: x.zero_(), LEAF_INPLACE),
    ("copy_", lambda x: x.copy_(ag.zeros(3)), LEAF_INPLACE),
    ("fill_", lambda x: x.fill_(0), LEAF_INPLACE),
    ("setitem", _setitem, VIEW_INPLACE),
    ("view_add_", lambda x: x[0].add_(1), VIEW_INPLACE),
]:
    _setup = _leaf_case(_action)
    _setup.__name__ = f"inplace_{_name}_on_a_leaf_requiring_grad"
    mistake(RuntimeError, _message)(_setup)


# ==================================================================================================
# requires_grad, hooks, retain_grad, .grad, .numpy()
# ==================================================================================================
@mistake(RuntimeError, "Only Tensors of floating point and complex dtype can require gradients")
def requires_grad_on_integer_data():
    return (lambda: ag.tensor([1, 2], requires_grad=True)), []


@mistake(RuntimeError, "Only Tensors of floating point and complex dtype can require gradients")
def requires_grad_on_bool_data():
    return (lambda: ag.tensor([True], requires_grad=True)), []


@mistake(RuntimeError, "Only Tensors of floating point and complex dtype can require gradients")
def requires_grad_on_an_integer_factory():
    return (lambda: ag.arange(3, requires_grad=True)), []


@mistake(RuntimeError, "only Tensors of floating point dtype can require gradients")
def requires_grad_method_on_a_long_tensor():
    t = ag.ones(2, dtype=ag.int64)
    return t.requires_grad_, [t]


@mistake(RuntimeError, "only Tensors of floating point and complex dtype can require gradients")
def requires_grad_attribute_on_a_long_tensor():
    t = ag.ones(2, dtype=ag.int64)

    def action():
        t.requires_grad = True

    return action, [t]


@mistake(RuntimeError, "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                       "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
def requires_grad_false_on_a_non_leaf():
    x = randn(3, requires_grad=True)
    y = x * 2
    return (lambda: y.requires_grad_(False)), [x, y]


@mistake(RuntimeError, "can't retain_grad on Tensor that has requires_grad=False")
def retain_grad_on_a_tensor_without_grad():
    c = randn(3)
    return c.retain_grad, [c]


@mistake(RuntimeError, "cannot register a hook on a tensor that doesn't require gradient")
def hook_on_a_tensor_without_grad():
    c = randn(3)
    return (lambda: c.register_hook(lambda g: g)), [c]


@mistake(RuntimeError, "attempting to assign a gradient of size '[3]' to a tensor of size '[2, 3]'. Please ensure "
                       "that the gradient and the tensor are the same size")
def assigning_a_grad_of_the_wrong_size():
    x = randn(2, 3, requires_grad=True)

    def action():
        x.grad = ag.ones(3)

    return action, [x]


# DIFFERS: PyTorch goes on "You can set the tensor's grad_dtype attribute with a specific dtype, or None to
# allow any dtype. ..."; autograd_lite has no grad_dtype attribute, so that advice is left out.
@mistake(RuntimeError, "attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype 'Float'. The "
                       "gradient must match the tensor's grad_dtype (defaults to the tensor's dtype).")
def assigning_a_grad_of_another_dtype():
    x = randn(2, 3, requires_grad=True)

    def action():
        x.grad = ag.ones(2, 3, dtype=ag.float64)

    return action, [x]


@mistake(TypeError, "assigned grad expected to be a Tensor or None but got grad of type list")
def assigning_a_list_as_grad():
    x = randn(2, 3, requires_grad=True)

    def action():
        x.grad = [1.0, 2.0]

    return action, [x]


@mistake(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
def numpy_of_a_leaf_requiring_grad():
    x = randn(3, requires_grad=True)
    return x.numpy, [x]


@mistake(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
def numpy_of_a_result_requiring_grad():
    x = randn(3, requires_grad=True)
    y = x * 2
    return y.numpy, [x, y]


@mistake(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
def np_asarray_of_a_tensor_requiring_grad():
    x = randn(3, requires_grad=True)
    return (lambda: np.asarray(x)), [x]


# ==================================================================================================
# forward mode
# ==================================================================================================
@mistake(RuntimeError, "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                       "enter_dual_level() first.")
def make_dual_outside_dual_level():
    p, t = ag.ones(3), ag.ones(3)
    return (lambda: fwAD.make_dual(p, t)), [p, t]


@mistake(RuntimeError, "Trying to set a forward gradient that has a different size than that of the original "
                       "Tensor, this is not supported. Tensor is of size [3] while the given forward gradient is of "
                       "size [2].")
def make_dual_with_a_tangent_of_another_shape():
    p, t = ag.ones(3), ag.ones(2)

    def action():
        with fwAD.dual_level():
            fwAD.make_dual(p, t)

    return action, [p, t]


@mistake(RuntimeError, "Nested forward mode AD is not supported at the moment")
def nested_dual_levels():
    def action():
        with fwAD.dual_level():
            with fwAD.dual_level():
                pass

    return action, []


@mistake(ValueError, "Expected primal to be floating point or complex, but got: autograd_lite.int64")
def make_dual_of_integer_data():
    p = ag.ones(3, dtype=ag.int64)

    def action():
        with fwAD.dual_level():
            fwAD.make_dual(p, p)

    return action, [p]


# ==================================================================================================
# matmul: shapes and dtypes
# ==================================================================================================
def _matmul_case(a_shape, b_shape, a_dtype=ag.float32, b_dtype=ag.float32, grad=False, fn=None):
    def setup():
        a = randn(*a_shape).to(a_dtype).requires_grad_(grad)
        b = randn(*b_shape).to(b_dtype)
        return (lambda: (fn or ag.matmul)(a, b)), [a, b]

    return setup


f32, f64, i64 = ag.float32, ag.float64, ag.int64
for _name, _args, _message in [
    ("2x3_4x5", ((2, 3), (4, 5)), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("2x3_4x5_requiring_grad", ((2, 3), (4, 5), f32, f32, True), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("vec3_vec4", ((3,), (4,)), "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
                                "elements, but got 3 and 4 elements respectively"),
    ("2x3_vec4", ((2, 3), (4,)), "size mismatch, got input (2), mat (2x3), vec (4)"),
    ("vec3_4x5", ((3,), (4, 5)), "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
    ("batch_batch", ((5, 2, 3), (5, 4, 5)), "Expected size for first two dimensions of batch2 tensor to be: [5, 3] but "
                                            "got: [5, 4]."),
    ("batch_broadcast", ((5, 2, 3), (4, 3, 4)), "The size of tensor a (5) must match the size of tensor b (4) at "
                                                "non-singleton dimension 0"),
    ("batch_matrix", ((5, 2, 3), (4, 5)), "mat1 and mat2 shapes cannot be multiplied (10x3 and 4x5)"),
    ("batch_vec", ((5, 2, 3), (4,)), "size mismatch, got input (10), mat (10x3), vec (4)"),
    ("vec_batch", ((4,), (5, 3, 4)), "Expected size for first two dimensions of batch2 tensor to be: [5, 4] but got: "
                                     "[5, 3]."),
    ("matrix_batch", ((2, 3), (5, 4, 5)), "Expected size for first two dimensions of batch2 tensor to be: [5, 3] but "
                                          "got: [5, 4]."),
    ("0d_vec", ((), (3,)), "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ("vec_0d", ((3,), ()), "both arguments to matmul need to be at least 1D, but they are 1D and 0D"),
    ("mm_of_a_vector", ((3,), (3, 4), f32, f32, False, ag.mm), "self must be a matrix"),
    ("mm_2x3_4x5", ((2, 3), (4, 5), f32, f32, False, ag.mm), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("dot_3_4", ((3,), (4,), f32, f32, False, ag.dot), "inconsistent tensor size, expected tensor [3] and src [4] to "
                                                       "have the same number of elements, but got 3 and 4 elements "
                                                       "respectively"),
    ("dot_of_matrices", ((2, 3), (2, 3), f32, f32, False, ag.dot), "1D tensors expected, but got 2D and 2D tensors"),
    # wrong dtype mixes: matmul does not promote, unlike + and *
    ("float32_float64", ((2, 3), (3, 4), f32, f64), "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("float64_float32", ((2, 3), (3, 4), f64, f32), "expected m1 and m2 to have the same dtype, but got: double != float"),
    ("float32_long", ((2, 3), (3, 4), f32, i64), "expected m1 and m2 to have the same dtype, but got: float != long int"),
    ("long_float32", ((2, 3), (3, 4), i64, f32), "expected m1 and m2 to have the same dtype, but got: long int != float"),
    ("vec_float64_vec", ((3,), (3,), f32, f64), "dot : expected both vectors to have same dtype, but found Float and "
                                                "Double"),
    ("matrix_float64_vec", ((2, 3), (3,), f32, f64), "addmv input tensors must have the same dtype, but got Double, "
                                                     "Float, and Double"),
    ("vec_float64_matrix", ((3,), (3, 4), f32, f64), "expected m1 and m2 to have the same dtype, but got: float != "
                                                     "double"),
    ("batch_float64_batch", ((5, 2, 3), (5, 3, 4), f32, f64), "expected scalar type Float but found Double"),
    ("batch_float64_matrix", ((5, 2, 3), (3, 4), f32, f64), "expected m1 and m2 to have the same dtype, but got: "
                                                            "float != double"),
    ("mm_float64_float32", ((2, 3), (3, 4), f64, f32, False, ag.mm), "expected m1 and m2 to have the same dtype, but "
                                                                      "got: double != float"),
]:
    _setup = _matmul_case(*_args)
    _setup.__name__ = f"matmul_{_name}"
    mistake(RuntimeError, _message)(_setup)


@mistake(RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 5x4)")
def linear_with_a_weight_of_the_wrong_shape():
    x, w = randn(2, 3, requires_grad=True), randn(4, 5, requires_grad=True)
    return (lambda: F.linear(x, w)), [x, w]


# ==================================================================================================
# shapes: view, reshape, cat, stack, broadcasting, expand, dims
# ==================================================================================================
def _x_case(action, shape=(2, 3), grad=True):
    def setup():
        x = randn(*shape, requires_grad=grad)
        return (lambda: action(x)), [x]

    return setup


DIM_2 = "Dimension out of range (expected to be in range of [-2, 1], but got {})"
for _name, _exc, _action, _message in [
    ("view_4_2", RuntimeError, lambda x: x.view(4, 2), "shape '[4, 2]' is invalid for input of size 6"),
    ("view_minus1_4", RuntimeError, lambda x: x.view(-1, 4), "shape '[-1, 4]' is invalid for input of size 6"),
    ("view_two_minus1", RuntimeError, lambda x: x.view(-1, -1), "only one dimension can be inferred"),
    ("view_of_a_transpose", RuntimeError, lambda x: x.t().view(6),
     "view size is not compatible with input tensor's size and stride (at least one dimension spans across two "
     "contiguous subspaces). Use .reshape(...) instead."),
    ("view_minus1_of_a_transpose", RuntimeError, lambda x: x.t().view(-1),
     "view size is not compatible with input tensor's size and stride (at least one dimension spans across two "
     "contiguous subspaces). Use .reshape(...) instead."),
    ("reshape_4_2", RuntimeError, lambda x: x.reshape(4, 2), "shape '[4, 2]' is invalid for input of size 6"),
    ("reshape_5", RuntimeError, lambda x: x.reshape(5), "shape '[5]' is invalid for input of size 6"),
    ("reshape_minus1_4", RuntimeError, lambda x: x.reshape(-1, 4), "shape '[-1, 4]' is invalid for input of size 6"),
    ("cat_sizes", RuntimeError, lambda x: ag.cat([x, randn(2, 4)]),
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the "
     "list."),
    ("cat_ndims", RuntimeError, lambda x: ag.cat([x, randn(3)]), "Tensors must have same number of dimensions: got 2 and 1"),
    ("cat_dim", IndexError, lambda x: ag.cat([x, randn(2, 4)], dim=2), DIM_2.format(2)),
    ("cat_nothing", ValueError, lambda x: ag.cat([]), "torch.cat(): expected a non-empty list of Tensors"),
    ("cat_a_tensor", TypeError, lambda x: ag.cat(x),
     "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"),
    ("stack_sizes", RuntimeError, lambda x: ag.stack([x, randn(2, 4)]),
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at entry 1"),
    ("stack_transposed", RuntimeError, lambda x: ag.stack([x, randn(3, 2)]),
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 2] at entry 1"),
    ("stack_nothing", RuntimeError, lambda x: ag.stack([]), "stack expects a non-empty TensorList"),
    ("stack_a_tensor", TypeError, lambda x: ag.stack(x),
     "stack(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"),
    ("add_3x2", RuntimeError, lambda x: x + randn(3, 2),
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1"),
    ("add_4", RuntimeError, lambda x: x + randn(4),
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("mul_2", RuntimeError, lambda x: x * randn(2),
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1"),
    ("expand_4_3", RuntimeError, lambda x: x.expand(4, 3),
     "The expanded size of the tensor (4) must match the existing size (2) at non-singleton dimension 0.  Target "
     "sizes: [4, 3].  Tensor sizes: [2, 3]"),
    ("expand_too_few", RuntimeError, lambda x: x.expand(2),
     "expand(autograd_lite.FloatTensor{[2, 3]}, size=[2]): the number of sizes provided (1) must be greater or equal "
     "to the number of dimensions in the tensor (2)"),
    ("expand_float64_too_few", RuntimeError, lambda x: x.double().expand(2),
     "expand(autograd_lite.DoubleTensor{[2, 3]}, size=[2]): the number of sizes provided (1) must be greater or "
     "equal to the number of dimensions in the tensor (2)"),
    ("squeeze_5", IndexError, lambda x: x.squeeze(5), DIM_2.format(5)),
    ("unsqueeze_3", IndexError, lambda x: x.unsqueeze(3), "Dimension out of range (expected to be in range of [-3, 2], "
                                                          "but got 3)"),
    ("transpose_0_2", IndexError, lambda x: x.transpose(0, 2), DIM_2.format(2)),
    ("permute_too_few", RuntimeError, lambda x: x.permute(0),
     "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering "
     "of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 1"),
    ("permute_duplicate", RuntimeError, lambda x: x.permute(0, 0), "permute(): duplicate dims are not allowed."),
    ("flatten_2", IndexError, lambda x: x.flatten(2), DIM_2.format(2)),
    ("flatten_backwards", RuntimeError, lambda x: x.flatten(1, 0),
     "flatten() has invalid args: start_dim cannot come after end_dim"),
    ("t_of_3d", RuntimeError, lambda x: x.reshape(1, 2, 3).t(), "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    ("mT_of_1d", RuntimeError, lambda x: x[0].mT,
     "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."),
    # reductions
    ("sum_dim_5", IndexError, lambda x: x.sum(dim=5), DIM_2.format(5)),
    ("sum_dim_minus3", IndexError, lambda x: x.sum(-3), DIM_2.format(-3)),
    ("mean_dim_2", IndexError, lambda x: x.mean(2), DIM_2.format(2)),
    ("sum_repeated_dim", RuntimeError, lambda x: x.sum((0, 0)), "dim 0 appears multiple times in the list of dims"),
    ("sum_repeated_negative_dim", RuntimeError, lambda x: x.sum((1, -1)), "dim 1 appears multiple times in the list "
                                                                          "of dims"),
    ("max_dim_5", IndexError, lambda x: x.max(dim=5), DIM_2.format(5)),
    ("max_dim_2", IndexError, lambda x: x.max(2), DIM_2.format(2)),
    ("softmax_dim_2", IndexError, lambda x: x.softmax(2), DIM_2.format(2)),
    ("F_softmax_dim_2", IndexError, lambda x: F.softmax(x, dim=2), DIM_2.format(2)),
    ("F_log_softmax_dim_2", IndexError, lambda x: F.log_softmax(x, dim=2), DIM_2.format(2)),
    ("size_2", IndexError, lambda x: x.size(2), DIM_2.format(2)),
    ("clamp_without_bounds", RuntimeError, lambda x: x.clamp(), "torch.clamp: At least one of 'min' or 'max' must not "
                                                                "be None"),
    # indexing and conversion to numbers
    ("index_10", IndexError, lambda x: x[10], "index 10 is out of bounds for dimension 0 with size 2"),
    ("index_column_3", IndexError, lambda x: x[:, 3], "index 3 is out of bounds for dimension 1 with size 3"),
    ("index_0_5", IndexError, lambda x: x[0, 5], "index 5 is out of bounds for dimension 1 with size 3"),
    ("index_three_ints", IndexError, lambda x: x[0, 0, 0], "too many indices for tensor of dimension 2"),
    ("index_minus3", IndexError, lambda x: x[-3], "index -3 is out of bounds for dimension 0 with size 2"),
    ("index_list", IndexError, lambda x: x[[0, 5]], "index 5 is out of bounds for dimension 0 with size 2"),
    ("index_mask", IndexError, lambda x: x[ag.tensor([True, False, True])],
     "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [2, 3] at index 0"),
    ("index_mask_2d", IndexError, lambda x: x[ag.tensor([[True, False, True]])],
     "The shape of the mask [1, 3] at index 0 does not match the shape of the indexed tensor [2, 3] at index 0"),
    ("index_mask_second_dim", IndexError, lambda x: x[:, ag.tensor([True, False])],
     "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [2, 3] at index 1"),
    ("index_mask_after_int", IndexError, lambda x: x[0, ag.tensor([True, False])],
     "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [3] at index 0"),
    ("index_float_tensor", IndexError, lambda x: x[ag.tensor([0.5])],
     "tensors used as indices must be long, int, byte or bool tensors"),
    ("index_of_0d", IndexError, lambda x: x.sum()[0],
     "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim "
     "tensor to a number"),
    ("item_of_6", RuntimeError, lambda x: x.item(), "a Tensor with 6 elements cannot be converted to Scalar"),
    ("item_of_empty", RuntimeError, lambda x: x[:0].item(), "a Tensor with 0 elements cannot be converted to Scalar"),
    ("float_of_6", ValueError, lambda x: float(x.detach()), "only one element tensors can be converted to Python scalars"),
    ("int_of_2", ValueError, lambda x: int(ag.tensor([1, 2])), "only one element tensors can be converted to Python "
                                                              "scalars"),
    ("bool_of_6", RuntimeError, lambda x: bool(x), "Boolean value of Tensor with more than one value is ambiguous"),
    ("bool_of_empty", RuntimeError, lambda x: bool(x[:0]), "Boolean value of Tensor with no values is ambiguous"),
    ("len_of_0d", TypeError, lambda x: len(x.sum()), "len() of a 0-d tensor"),
    ("iter_of_0d", TypeError, lambda x: iter(x.sum()), "iteration over a 0-d tensor"),
    ("where_float_condition", RuntimeError, lambda x: ag.where(x, x, x),
     "where expected condition to be a boolean tensor, but got a tensor with dtype Float"),
]:
    _setup = _x_case(_action)
    _setup.__name__ = _name
    mistake(_exc, _message)(_setup)


# ==================================================================================================
# dtypes: in place, integers, losses
# ==================================================================================================
@mistake(RuntimeError, "result type Float can't be cast to the desired output type Long")
def inplace_add_of_a_float_into_a_long_tensor():
    a = ag.ones(2, dtype=ag.int64)
    return (lambda: a.add_(1.5)), [a]


@mistake(RuntimeError, "result type Double can't be cast to the desired output type Long")
def inplace_add_of_a_double_tensor_into_a_long_tensor():
    # PyTorch names float64 Double here (this message once said Float for every floating type)
    a, b = ag.ones(2, dtype=ag.int64), ag.ones(2, dtype=ag.float64)
    return (lambda: a.add_(b)), [a, b]


@mistake(RuntimeError, "result type Float can't be cast to the desired output type Long")
def inplace_true_division_of_a_long_tensor():
    a = ag.ones(2, dtype=ag.int64)

    def action():
        nonlocal a
        a /= 2

    return action, [a]


@mistake(RuntimeError, "output with shape [3] doesn't match the broadcast shape [2, 3]")
def inplace_add_that_would_broadcast_the_target():
    b = ag.ones(3)
    return (lambda: b.add_(ag.ones(2, 3))), [b]


@mistake(RuntimeError, "fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions.")
def fill_with_a_1d_tensor():
    b = ag.ones(2, 3)
    return (lambda: b.fill_(ag.ones(2))), [b]


@mistake(RuntimeError, "Integers to negative integer powers are not allowed.")
def integer_to_a_negative_integer_power():
    a = ag.tensor([1, 2])
    return (lambda: a**-1), [a]


@mistake(RuntimeError, "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
                       "dtype. Got: Long")
def mean_of_integers():
    a = ag.tensor([1, 2])
    return a.mean, [a]


@mistake(RuntimeError, "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
                       "dim with the 'dim' argument.")
def max_of_an_empty_tensor():
    a = ag.zeros(0)
    return a.max, [a]


@mistake(RuntimeError, "all elements of input should be between 0 and 1")
def bce_of_an_input_above_1():
    p, t = ag.tensor([1.5, 0.5], requires_grad=True), ag.tensor([1.0, 0.0])
    return (lambda: F.binary_cross_entropy(p, t)), [p, t]


@mistake(RuntimeError, "all elements of input should be between 0 and 1")
def bce_of_a_nan_input():
    p, t = ag.tensor([float("nan"), 0.5]), ag.tensor([1.0, 0.0])
    return (lambda: F.binary_cross_entropy(p, t)), [p, t]


@mistake(RuntimeError, "all elements of target should be between 0 and 1")
def bce_of_a_target_below_0():
    p, t = ag.tensor([0.5, 0.5]), ag.tensor([-1.0, 0.0])
    return (lambda: F.binary_cross_entropy(p, t)), [p, t]


@mistake(ValueError, "Using a target size (autograd_lite.Size([3])) that is different to the input size "
                     "(autograd_lite.Size([2])) is deprecated. Please ensure they have the same size.")
def bce_with_target_of_another_size():
    p, t = ag.tensor([0.5, 0.5]), ag.tensor([1.0, 0.0, 1.0])
    return (lambda: F.binary_cross_entropy(p, t)), [p, t]


@mistake(RuntimeError, "Found dtype Long but expected Float")
def bce_with_integer_targets():
    p, t = ag.tensor([0.5, 0.5]), ag.tensor([1, 0])
    return (lambda: F.binary_cross_entropy(p, t)), [p, t]


@mistake(RuntimeError, "Found dtype Double but expected Float")
def bce_with_float64_targets():
    p, t = ag.full((3,), 0.5), ag.ones(3, dtype=ag.float64)
    return (lambda: F.binary_cross_entropy(p, t)), [p, t]


@mistake(ValueError, "Target size (autograd_lite.Size([3])) must be the same as input size (autograd_lite.Size([2]))")
def bce_with_logits_with_target_of_another_size():
    z, t = ag.tensor([0.5, 0.5], requires_grad=True), ag.tensor([1.0, 0.0, 1.0])
    return (lambda: F.binary_cross_entropy_with_logits(z, t)), [z, t]


@mistake(RuntimeError, "result type Float can't be cast to the desired output type Long")
def bce_with_logits_with_integer_targets():
    z, t = ag.tensor([0.5, 0.5], requires_grad=True), ag.tensor([1, 0])
    return (lambda: F.binary_cross_entropy_with_logits(z, t)), [z, t]


@mistake(IndexError, "Target 5 is out of bounds.")
def cross_entropy_with_a_class_index_too_large():
    x, t = randn(2, 3, requires_grad=True), ag.tensor([0, 5])
    return (lambda: F.cross_entropy(x, t)), [x, t]


@mistake(IndexError, "Target -1 is out of bounds.")
def cross_entropy_with_a_negative_class_index():
    x, t = randn(2, 3, requires_grad=True), ag.tensor([0, -1])
    return (lambda: F.cross_entropy(x, t)), [x, t]


@mistake(ValueError, "Expected input batch_size (2) to match target batch_size (3).")
def cross_entropy_with_more_targets_than_rows():
    x, t = randn(2, 3, requires_grad=True), ag.tensor([0, 1, 2])
    return (lambda: F.cross_entropy(x, t)), [x, t]


@mistake(RuntimeError, "expected target dtype to be Long or Byte, but got Float")
def cross_entropy_with_float_class_indices():
    x, t = randn(2, 3, requires_grad=True), ag.tensor([0.0, 1.0])
    return (lambda: F.cross_entropy(x, t)), [x, t]


@mistake(RuntimeError, "expected target dtype to be Long or Byte, but got Float")
def nll_loss_with_float_class_indices():
    x, t = randn(2, 3, requires_grad=True), ag.tensor([0.0, 1.0])
    return (lambda: F.nll_loss(x, t)), [x, t]


@mistake(IndexError, "Target 5 is out of bounds.")
def nll_loss_with_a_class_index_too_large():
    x, t = randn(2, 3, requires_grad=True), ag.tensor([0, 5])
    return (lambda: F.nll_loss(x, t)), [x, t]


@mistake(ValueError, "avg is not a valid value for reduction")
def loss_with_an_unknown_reduction():
    x, t = randn(2, 3, requires_grad=True), ag.tensor([0, 1])
    return (lambda: F.cross_entropy(x, t, reduction="avg")), [x, t]


@mistake(RuntimeError, "The expanded size of the tensor (4) must match the existing size (5) at non-singleton "
                       "dimension 1.  Target sizes: [2, 4].  Tensor sizes: [5]")
def linear_with_a_bias_of_the_wrong_size():
    x, w, b = randn(2, 3), randn(4, 3, requires_grad=True), randn(5, requires_grad=True)
    return (lambda: F.linear(x, w, b)), [x, w, b]


# ==================================================================================================
# the test
# ==================================================================================================
def _graph_nodes(tensors):
    """Every node reachable from the tensors' grad_fns (iteratively)."""
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(child for child, _ in node.next_functions if child is not None)
    return seen


def _snapshot(tensors):
    state = []
    for t in tensors:
        grad = t._grad
        state.append((
            t._data.copy(), t._data.dtype, t._vc[0], t._requires_grad, t.grad_fn,
            None if grad is None else (id(grad), grad._data.copy(), grad._vc[0]),
        ))
    nodes = {node: (node._freed, node._saved is not None, node._out is not None) for node in _graph_nodes(tensors)}
    return state, nodes


def _assert_same(before, after, midway=False):
    (state0, nodes0), (state1, nodes1) = before, after
    for i, (s0, s1) in enumerate(zip(state0, state1)):
        data0, dtype0, version0, req0, fn0, grad0 = s0
        data1, dtype1, version1, req1, fn1, grad1 = s1
        assert dtype0 == dtype1 and np.array_equal(data0, data1, equal_nan=True), f"tensor {i}: values changed"
        assert version0 == version1, f"tensor {i}: version {version0} -> {version1}"
        assert req0 == req1, f"tensor {i}: requires_grad changed"
        assert fn0 is fn1, f"tensor {i}: grad_fn changed"
        if midway:
            continue
        if grad0 is None or grad1 is None:
            assert grad0 is grad1, f"tensor {i}: .grad changed from {grad0} to {grad1}"
        else:
            assert grad0[0] == grad1[0] and np.array_equal(grad0[1], grad1[1]) and grad0[2] == grad1[2], \
                f"tensor {i}: .grad changed"
    if not midway:
        assert nodes0 == nodes1, "a failed call freed (or changed) saved values of the graph"


@pytest.mark.parametrize("setup,exception,message,midway", CATALOGUE)
def test_mistake_raises_pytorchs_error_and_changes_nothing(setup, exception, message, midway):
    action, tensors = setup()
    before = _snapshot(tensors)
    with pytest.raises(exception) as info:
        action()
    assert type(info.value) is exception
    assert str(info.value) == message
    _assert_same(before, _snapshot(tensors), midway)
    assert ag.is_grad_enabled()
    from autograd_lite.grad_mode import forward_ad_state

    assert forward_ad_state.level is None, "a failed call left a dual level open"


def test_the_catalogue_covers_the_mistakes_the_issues_name():
    names = {p.id for p in CATALOGUE}
    for required in ["backward_of_a_non_scalar_without_gradient", "requires_grad_on_integer_data",
                     "backward_of_a_tensor_that_does_not_require_grad", "matmul_2x3_4x5",
                     "second_backward_through_a_freed_graph", "inplace_change_of_a_saved_output",
                     "autograd_grad_through_a_freed_graph", "backward_gradient_of_the_wrong_shape",
                     "numpy_of_a_leaf_requiring_grad", "inplace_add__on_a_leaf_requiring_grad",
                     "make_dual_outside_dual_level", "matmul_float32_float64", "cat_sizes", "stack_sizes",
                     "view_4_2", "reshape_4_2", "index_10"]:
        assert required in names, required


def test_state_is_usable_after_an_error():
    """After a failed backward the graph still works: fix the mistake and backward succeeds."""
    x = randn(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError):
        y.backward()
    y.backward(ag.ones(2, 3))
    assert x.grad.tolist() == [[2.0] * 3] * 2
