"""autograd_lite.func: torch.func-style transforms, checked against finite differences and against each other."""
import importlib

import numpy as np
import pytest

import autograd_lite as ag
import autograd_lite.nn.functional as F
from autograd_lite.autograd import forward_ad as fwAD
from autograd_lite.func import (
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    vjp,
)

EPS = 1e-6


def t64(a):
    return ag.tensor(np.asarray(a, dtype=np.float64))


def numeric_jacobian(f, x):
    """Central differences, column by column: shape out.shape + x.shape."""
    x0 = x.numpy().astype(np.float64)
    cols = []
    for k in range(x0.size):
        step = np.zeros(x0.size)
        step[k] = EPS
        step = step.reshape(x0.shape)
        with ag.no_grad():
            cols.append((f(t64(x0 + step)).numpy() - f(t64(x0 - step)).numpy()) / (2 * EPS))
    out_shape = cols[0].shape
    return np.stack(cols, axis=-1).reshape(out_shape + x0.shape)


_A = np.random.default_rng(0).standard_normal((4, 3))
_B = np.random.default_rng(1).standard_normal((3, 2))
_T = np.array([1.0, 0.0, 1.0, 1.0])

# name, function, input shape: elementwise, matmul, reductions, losses
FUNCTIONS = [
    ("tanh", lambda x: ag.tanh(x), (3,)),
    ("exp_times_sin", lambda x: x.exp() * x.sin() + x**2, (2, 3)),
    ("sigmoid_of_sqrt", lambda x: ag.sigmoid((x * x + 1).sqrt()), (4,)),
    ("mv", lambda x: t64(_A) @ x, (3,)),
    ("matrix_times_matrix", lambda x: x @ t64(_B), (4, 3)),
    ("tanh_of_affine", lambda x: ag.tanh(t64(_A) @ x + 1.0), (3,)),
    ("sum_dim", lambda x: (x**3).sum(1), (2, 3)),
    ("mean", lambda x: x.mean(), (5,)),
    ("max_dim", lambda x: x.max(0).values, (3, 2)),
    ("softmax", lambda x: F.softmax(x, 0), (4,)),
    ("mse_loss", lambda x: F.mse_loss(x, t64(_T)), (4,)),
    ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, t64(_T)), (4,)),
    ("cross_entropy", lambda x: F.cross_entropy(x, ag.tensor([2, 0])), (2, 3)),
]


@pytest.mark.parametrize("name,f,shape", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_jacrev_equals_jacfwd_equals_finite_differences(name, f, shape):
    x = t64(np.random.default_rng(3).standard_normal(shape))
    expected = numeric_jacobian(f, x)
    by_reverse, by_forward = jacrev(f)(x), jacfwd(f)(x)
    assert by_reverse.shape == by_forward.shape == expected.shape == f(x).shape + x.shape
    np.testing.assert_allclose(by_reverse.numpy(), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(by_forward.numpy(), by_reverse.numpy(), rtol=1e-12, atol=1e-12)


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose():
    a = np.random.default_rng(4).standard_normal((4, 4))
    f = lambda x: x @ (t64(a) @ x)  # xᵀAx
    x = t64(np.random.default_rng(5).standard_normal(4))
    np.testing.assert_allclose(hessian(f)(x).numpy(), a + a.T, rtol=1e-12)


def test_hessian_of_a_cubic_is_analytic():
    f = lambda x: (x**3).sum() + x[0] * x[1] * x[2]
    x0 = np.array([1.0, -2.0, 0.5])
    expected = np.diag(6 * x0) + np.array([[0, x0[2], x0[1]], [x0[2], 0, x0[0]], [x0[1], x0[0], 0]])
    np.testing.assert_allclose(hessian(f)(t64(x0)).numpy(), expected, rtol=1e-12)


def test_hessian_by_every_composition_agrees():
    f = lambda x: (ag.tanh(x) * x.exp()).sum() * x.sum()
    x = t64([0.3, -0.7, 1.1])
    forward_over_reverse = hessian(f)(x).numpy()
    reverse_over_reverse = jacrev(jacrev(f))(x).numpy()
    reverse_over_forward = jacrev(jacfwd(f))(x).numpy()
    forward_over_forward = jacfwd(jacfwd(f))(x).numpy()  # inner jacfwd: double-backward trick
    np.testing.assert_allclose(numeric_jacobian(grad(f), x), forward_over_reverse, rtol=1e-6, atol=1e-8)
    for other in (reverse_over_reverse, reverse_over_forward, forward_over_forward):
        np.testing.assert_allclose(other, forward_over_reverse, rtol=1e-10, atol=1e-12)


def test_second_derivative_of_x_cubed_at_2_is_12():
    x = ag.tensor(2.0, requires_grad=True)
    (dy,) = ag.autograd.grad(x**3, x, create_graph=True)
    dy.backward()
    assert x.grad.item() == 12.0
    assert grad(grad(lambda x: x**3))(ag.tensor(2.0)).item() == 12.0
    assert hessian(lambda x: x**3)(ag.tensor(2.0)).item() == 12.0


def test_third_derivative_through_nested_transforms():
    f = lambda x: (x**4).sum()  # d³/dx³ = 24 x
    x = t64([1.0, 2.0])
    third = jacfwd(hessian(f))(x).numpy()  # the outer forward level forces the inner jacfwd to use double backward
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0], expected[1, 1, 1] = 24.0, 48.0
    np.testing.assert_allclose(third, expected, rtol=1e-12)
    np.testing.assert_allclose(jacrev(hessian(f))(x).numpy(), expected, rtol=1e-12)


def test_transforms_treat_functions_as_pure():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    g = grad(lambda x: (x**2).sum())(ag.tensor([1.0, 2.0]))  # input does not require grad: fine
    assert g.tolist() == [2.0, 4.0] and g.grad_fn is None
    with ag.no_grad():  # as torch.func: an outer no_grad does not stop the transform
        assert jacrev(lambda x: x * 3)(x).tolist() == [[3.0, 0.0], [0.0, 3.0]]
    assert x.grad is None  # nothing accumulated into the input's .grad


def test_gradient_of_a_tracked_input_can_be_differentiated_by_ordinary_autograd():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    g = grad(lambda x: (x**3).sum())(x)  # 3x², still connected to x
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_closure_over_a_tracked_tensor_stays_differentiable():
    w = ag.tensor(3.0, requires_grad=True)
    g = grad(lambda x: (w * x**2).sum())(ag.tensor([1.0, 2.0]))  # 2 w x
    g.sum().backward()
    assert g.tolist() == [6.0, 12.0] and w.grad.item() == 6.0


def test_argnums_select_arguments_and_nest_results():
    a, b = ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])
    f = lambda a, b: a * b
    ja, jb = jacrev(f, argnums=(0, 1))(a, b)
    assert ja.tolist() == [[3.0, 0.0], [0.0, 4.0]] and jb.tolist() == [[1.0, 0.0], [0.0, 2.0]]
    assert jacfwd(f, argnums=-1)(a, b).tolist() == jb.tolist()
    ga, gb = grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(a, b)
    assert ga.tolist() == [3.0, 4.0] and gb.tolist() == [1.0, 2.0]
    assert isinstance(jacfwd(f, argnums=(1,))(a, b), tuple)


def test_several_outputs_nest_outputs_outside_arguments_inside():
    a, b = ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])
    f = lambda a, b: (a * b, (a + b).sum())
    for jac in (jacrev, jacfwd):
        (j00, j01), (j10, j11) = jac(f, argnums=(0, 1))(a, b)
        assert j00.tolist() == [[3.0, 0.0], [0.0, 4.0]] and j01.tolist() == [[1.0, 0.0], [0.0, 2.0]]
        assert j10.tolist() == [1.0, 1.0] and j11.tolist() == [1.0, 1.0]


def test_dict_of_parameters():
    params = {"w": ag.tensor([1.0, 2.0]), "b": ag.tensor(0.5)}
    loss = lambda p, x: ((p["w"] * x).sum() + p["b"]) ** 2
    g = grad(loss)(params, ag.tensor([3.0, 4.0]))  # loss = 11.5², d/dw = 2·11.5·x, d/db = 2·11.5
    assert list(g) == ["w", "b"]
    assert g["w"].tolist() == [69.0, 92.0] and g["b"].item() == 23.0


def test_has_aux():
    x = ag.tensor([1.0, 2.0])
    assert [t.tolist() for t in grad(lambda a: ((a**2).sum(), a * 10), has_aux=True)(x)] == [[2.0, 4.0], [10.0, 20.0]]
    g, (value, aux) = grad_and_value(lambda a: ((a**2).sum(), a.sum()), has_aux=True)(x)
    assert (g.tolist(), value.item(), aux.item()) == ([2.0, 4.0], 5.0, 3.0)
    jac, aux = jacrev(lambda a: (a * 2, a.sum()), has_aux=True)(x)
    assert jac.tolist() == [[2.0, 0.0], [0.0, 2.0]] and aux.item() == 3.0 and aux.grad_fn is None
    jac, aux = jacfwd(lambda a: (a * 2, a.sum()), has_aux=True)(x)
    assert jac.tolist() == [[2.0, 0.0], [0.0, 2.0]] and aux.item() == 3.0
    _out, fn, aux = vjp(lambda a: (a * 2, a.sum()), x, has_aux=True)
    assert fn(ag.ones(2))[0].tolist() == [2.0, 2.0] and aux.item() == 3.0
    _out, tangent, aux = jvp(lambda a: (a * 2, a.sum()), (x,), (ag.ones(2),), has_aux=True)
    assert tangent.tolist() == [2.0, 2.0] and aux.item() == 3.0


def test_vjp_and_jvp_return_torch_func_structures():
    x = ag.tensor([1.0, 2.0, 3.0])
    out, vjp_fn = vjp(ag.sin, x)
    first, again = vjp_fn(ag.ones(3)), vjp_fn(ag.ones(3) * 2)  # the graph is kept: call it twice
    assert type(first) is tuple and len(first) == 1
    np.testing.assert_allclose(first[0].numpy(), np.cos([1.0, 2.0, 3.0]), rtol=1e-6)
    np.testing.assert_allclose(again[0].numpy(), 2 * np.cos([1.0, 2.0, 3.0]), rtol=1e-6)
    assert out.grad_fn is None
    result = jvp(lambda a, b: a * b, (x, x), (ag.ones(3), ag.ones(3)))
    assert type(result) is tuple and [t.tolist() for t in result] == [[1.0, 4.0, 9.0], [2.0, 4.0, 6.0]]
    (_s, _c), (_ds, dc) = jvp(lambda a: (a.sin(), a.cos()), (x,), (ag.ones(3),))
    np.testing.assert_allclose(dc.numpy(), -np.sin([1.0, 2.0, 3.0]), rtol=1e-6)


def test_linearize_gives_the_jvp_at_fixed_primals():
    x = t64([0.5, 1.0])
    out, jvp_fn = linearize(lambda a: a.exp() * a, x)
    np.testing.assert_allclose(out.numpy(), np.exp([0.5, 1.0]) * [0.5, 1.0])
    np.testing.assert_allclose(jvp_fn(t64([1.0, 0.0])).numpy(), [np.exp(0.5) * 1.5, 0.0])


def test_empty_input_gives_an_empty_jacobian():
    f = lambda x: x.sum() + 1.0
    for jac in (jacrev, jacfwd):
        assert jac(f)(ag.zeros(0)).shape == (0,)


@pytest.mark.parametrize("call,message", [
    (lambda: grad(lambda x: x * 2)(ag.randn(3)),
     ("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with 1 dims. Maybe you "
     "wanted to use the vjp or jacrev APIs instead?")),
    (lambda: grad(lambda x: x.sum())(ag.tensor([1, 2])), "only Tensors of floating point dtype can require gradients"),
    (lambda: grad(lambda x: x.sum(), argnums=1)(ag.randn(3)), "Got argnum=1, but only 1 positional inputs"),
    (lambda: grad(lambda x: (x.sum(), 1))(ag.randn(3)),
     "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got <class 'tuple'>"),
    (lambda: grad(lambda x: 3.0)(ag.randn(3)), "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got <class 'float'>"),
    (lambda: grad(lambda a: ((a**2).sum(), "aux"), has_aux=True)(ag.ones(2)), "Expected tensors, got unsupported type <class 'str'>"),
    (lambda: grad(lambda a: (a**2).sum(), has_aux=True)(ag.ones(2)),
     "grad_and_value(f)(*args): output of function f should be a tuple: (output, aux) if has_aux is True"),
    (lambda: jacrev(lambda a, b: a, argnums=(0, 0))(ag.ones(2), ag.ones(2)), "argnums elements must be unique, got (0, 0)"),
    (lambda: jacrev(lambda a: a, argnums=())(ag.ones(2)), "argnums must be non-empty"),
    (lambda: jacrev(lambda a: a, argnums=[0])(ag.ones(2)), "argnums must be int or Tuple[int, ...], got: <class 'list'>"),
    (lambda: jacrev(lambda a: 2.0)(ag.ones(2)), ("vjp(f, *primals): expected f(*primals) to return only tensors, got "
     "unsupported type <class 'float'>")),
    (lambda: jvp(ag.sin, ag.ones(2), (ag.ones(2),)), ("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
     "should be valid to call f(*primals).")),
    (lambda: jacrev(ag.sin, chunk_size=0), "jacrev: `chunk_size` should be greater than 0."),
])
def test_errors_use_torch_func_wording(call, message):
    with pytest.raises((RuntimeError, ValueError)) as info:
        call()
    assert str(info.value) == message


def test_autograd_grad_keeps_the_tangent_of_its_result_inside_a_dual_level():
    # d/dx of the gradient in direction v is the Hessian-vector product (forward-over-reverse).
    x = t64([1.0, 2.0, 3.0])
    v = t64([1.0, 0.0, 0.0])
    with fwAD.dual_level():
        leaf = fwAD.make_dual(x.clone().requires_grad_(), v)
        (g,) = ag.autograd.grad((leaf**3).sum() + leaf[0] * leaf[1], leaf)
        primal, tangent = fwAD.unpack_dual(g)
    np.testing.assert_allclose(primal.numpy(), [5.0, 13.0, 27.0])
    np.testing.assert_allclose(tangent.numpy(), [6.0, 1.0, 0.0])  # first column of diag(6x) + [[0,1],[1,0]]
    assert g.grad_fn is None


def test_same_results_as_torch_func():
    torch = pytest.importorskip("torch")
    from torch import func as tf

    f_ag = lambda x: ag.tanh(t64(_A) @ x).sum() * x[0]
    f_torch = lambda x: torch.tanh(torch.tensor(_A) @ x).sum() * x[0]
    x = np.array([0.2, -0.4, 0.9])
    for ours, theirs in [(jacrev(f_ag), tf.jacrev(f_torch)), (jacfwd(f_ag), tf.jacfwd(f_torch)),
                         (hessian(f_ag), tf.hessian(f_torch))]:
        np.testing.assert_allclose(ours(t64(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["autograd_lite", "torch"])
def test_the_jvp_of_a_product_of_one_element_is_not_connected_to_the_input(name):
    """PyTorch's prod rule takes another path for torch.func's wrapped values: over one element (a dim of size 1,
    or all of a one-element tensor) it multiplies the tangent by ones, so func.jvp's tangent does not require grad
    where forward_ad's does. Recorded from PyTorch 2.13, and compared with it when it is installed."""
    lib = ag if name == "autograd_lite" else pytest.importorskip("torch")
    x = lib.tensor([[0.5], [2.0]], dtype=lib.float64, requires_grad=True)
    u = lib.tensor([[1.0], [3.0]], dtype=lib.float64)
    seen = []
    for f in (lambda t: t.prod(1), lambda t: t[0].prod(), lambda t: t.prod(0), lambda t: t[0, 0].prod()):
        by_func = lib.func.jvp(f, (x,), (u,))[1]
        with lib.autograd.forward_ad.dual_level():
            by_dual = lib.autograd.forward_ad.unpack_dual(f(lib.autograd.forward_ad.make_dual(x, u))).tangent
        seen.append((by_func.tolist(), by_func.requires_grad, by_dual.tolist(), by_dual.requires_grad))
    assert seen == [([1.0, 3.0], False, [1.0, 3.0], True), (1.0, False, 1.0, True),  # one element
                    ([3.5], True, [3.5], True), (1.0, False, 1.0, False)]  # two elements; 0-d: ones on both paths


def test_jacfwd_through_in_place_ops_on_views_agrees_with_jacrev():
    """Batched tangents (one per column) are written in place like any tangent, views' ones included."""
    def f(x):
        y = x * 2.0
        y.mul_(x)
        y[1:].exp_()
        z = y % 1.5
        z.add_(x)
        return y + z

    x = t64([0.3, -0.2, 0.7])
    y_t = [4 * 0.3, 4 * -0.2 * np.exp(2 * 0.04), 4 * 0.7 * np.exp(2 * 0.49)]  # y = 2x², then y[1:] = exp(y[1:])
    expected = np.diag([2 * d + 1 for d in y_t])  # y + z, z = y % 1.5 + x
    np.testing.assert_allclose(jacfwd(f)(x).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(jacrev(f)(x).numpy(), expected, rtol=1e-12)


def test_vjp_fn_checks_its_cotangents():
    _, vjp_fn = vjp(lambda a: (a * 2, a.sum()), ag.ones(2))
    with pytest.raises(RuntimeError, match="Expected pytree structure of cotangents to be the same as pytree structure "
                                           r"of outputs to the function. cotangents: \*, primal output: tuple\(\*, \*\)"):
        vjp_fn(ag.ones(2))
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of"):
        vjp_fn((ag.ones(3), ag.tensor(1.0)))
    assert vjp_fn((ag.ones(2), ag.tensor(1.0)))[0].tolist() == [3.0, 3.0]


def test_output_that_is_an_outer_leaf_stays_differentiable():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    out, vjp_fn = vjp(lambda x: w, ag.ones(2))
    assert out.requires_grad  # w itself, still in the graph of its owner
    assert vjp_fn(ag.ones(2))[0].tolist() == [0.0, 0.0]


# -- in-place ops on a transform's inputs: torch.func makes each input a leaf of the transform's own level ----------
def _input(lib, kind):
    """[1, 2, 3] in float64: a leaf that requires grad, a result (not a leaf) of one, or a tensor outside autograd."""
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=kind != "plain")
    return x * 1 if kind == "result" else x


def _no_grad(x):
    """no_grad() of x's library (autograd_lite or torch)."""
    return importlib.import_module(type(x).__module__.split(".")[0]).no_grad()


def _mul_(x):
    x.mul_(2)
    return x * 1


def _view_mul_(x):
    x[0:2].mul_(2)
    return x * 1


def _no_grad_mul_after_use(x):
    y = x.exp()
    with _no_grad(x):
        x.mul_(2)
    return y


def _no_grad_on_a_view(x):
    v = x[0:2]
    with _no_grad(x):
        v.mul_(2)
    return x * v.sum()


def _on_an_intermediate(x):
    y = x * 2
    y.mul_(3)
    y[0:1].mul_(2)
    return y


FUNCS = {f.__name__: f for f in (_mul_, _view_mul_, _no_grad_mul_after_use, _no_grad_on_a_view, _on_an_intermediate)}
LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."
IN_FUNC = [  # (transform, input, function) -> what PyTorch 2.13 gives: an error, or (output, its vjp or jvp)
    ("vjp", "leaf", "_mul_", LEAF), ("vjp", "result", "_mul_", LEAF), ("vjp", "plain", "_mul_", LEAF),
    ("vjp", "result", "_view_mul_", VIEW_OF_LEAF), ("vjp", "plain", "_view_mul_", VIEW_OF_LEAF),
    ("vjp", "leaf", "_no_grad_mul_after_use", ([2.718282, 7.389056, 20.085537], [2.718282, 7.389056, 20.085537])),
    ("vjp", "result", "_no_grad_on_a_view", ([12.0, 24.0, 18.0], [15.0, 15.0, 6.0])),
    ("vjp", "plain", "_on_an_intermediate", ([12.0, 12.0, 18.0], [12.0, 6.0, 6.0])),
    ("jvp", "leaf", "_mul_", VIEW_OF_LEAF),  # the dual is a view of the input, as make_dual's is
    ("jvp", "result", "_view_mul_", ([2.0, 4.0, 3.0], [2.0, 2.0, 1.0])),
    ("jvp", "plain", "_view_mul_", ([2.0, 4.0, 3.0], [2.0, 2.0, 1.0])),
    ("jvp", "result", "_no_grad_on_a_view", ([12.0, 24.0, 18.0], [20.0, 28.0, 18.0])),
    ("jvp", "leaf", "_on_an_intermediate", ([12.0, 12.0, 18.0], [12.0, 6.0, 6.0])),
]


def _in_func(lib, transform, kind, name):
    x = _input(lib, kind)
    ones = lib.ones(3, dtype=lib.float64)
    try:
        if transform == "vjp":
            out, vjp_fn = lib.func.vjp(FUNCS[name], x)
            other = vjp_fn(ones)[0]
        else:
            out, other = lib.func.jvp(FUNCS[name], (x,), (ones,))
    except RuntimeError as e:
        return str(e)
    return [round(v, 6) for v in out.tolist()], [round(v, 6) for v in other.tolist()]


@pytest.mark.parametrize("transform,kind,name,recorded", IN_FUNC, ids=["-".join(c[:3]) for c in IN_FUNC])
def test_in_place_ops_inside_a_transform_treat_its_inputs_as_leaves(transform, kind, name, recorded):
    assert _in_func(ag, transform, kind, name) == recorded


@pytest.mark.parametrize("transform,kind,name,recorded", IN_FUNC, ids=["-".join(c[:3]) for c in IN_FUNC])
def test_in_place_ops_inside_a_transform_as_in_torch_func(transform, kind, name, recorded):
    torch = pytest.importorskip("torch")
    assert _in_func(torch, transform, kind, name) == recorded


def test_in_place_ops_torch_func_allows_stay_allowed():
    """On an argument that is not differentiated, on intermediates, under no_grad; and the gradient of a result that
    an outer backward differentiates goes on through the input into the outer graph."""
    y, x = t64([3.0, 4.0]), t64([1.0, 2.0])

    def f(x, y):
        y.add_(1.0)  # y is not differentiated: the tensor itself, changed
        return (x * y).sum()

    assert grad(f)(x, y).tolist() == [4.0, 5.0] and y.tolist() == [4.0, 5.0]
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in an in-place"):
        grad(f)(x, t64([3.0, 4.0]).requires_grad_())
    w = ag.tensor([0.5, -1.0], dtype=ag.float64, requires_grad=True)
    g = grad(lambda x: _on_an_intermediate(x).sum())(w * 1)  # x: a result of w, so g stays in w's graph
    (g * w).sum().backward()
    assert g.tolist() == [12.0, 6.0] and w.grad.tolist() == [12.0, 6.0]
    with pytest.raises(RuntimeError, match="^a leaf Variable"):  # the input is a leaf of the transform's level
        grad(lambda x: _mul_(x).sum())(w * 1)
