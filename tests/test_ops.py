"""Every op's rules against central finite differences, in float64, in both modes — one table-driven test.

For f with inputs x_i and random directions: reverse mode must give <w, J u> through vᵀJ, forward mode
J u through the tangent, and both must agree with (f(x + eps u) - f(x - eps u)) / (2 eps). The adjoint
check <w, J u> == <Jᵀ w, u> ties the two rules together. Second order: the reverse rules, recorded with
create_graph=True, are differentiated again and checked against finite differences of the gradient.
The harness (finite differences, vᵀJ, J u, the second derivative) is tests/rule_check.py.
"""
import math

import numpy as np
import pytest

import autograd_lite as ag
import autograd_lite.nn.functional as F
from autograd_lite.autograd import forward_ad as fwAD

from .op_samples import SAMPLES, sample_inputs
from .rule_check import (
    dot,
    fd_directional,
    fd_vjp_dot,
    jvp,
    leaves,
    random_directions,
    value_float64,
    vjp,
    vjp_dot,
    vjp_dot_grads,
)

IDS = [s[0] for s in SAMPLES]


@pytest.mark.parametrize("name,fn,spec", SAMPLES, ids=IDS)
def test_reverse_rule_matches_finite_differences(name, fn, spec):
    rng = np.random.default_rng(0)
    arrays = sample_inputs(spec, rng)
    xs = leaves(arrays)
    out = fn(*xs)
    w = rng.standard_normal(out.shape)
    grads = vjp(out, xs, w)
    for i, (g, x) in enumerate(zip(grads, xs)):
        assert g.shape == x.shape, f"gradient of input {i} has shape {g.shape}, input {x.shape}"
    u = random_directions(arrays, rng)
    predicted = sum(dot(g._data, ui) for g, ui in zip(grads, u))
    numeric = dot(w, fd_directional(fn, arrays, u))
    assert np.isclose(predicted, numeric, rtol=1e-5, atol=1e-7), (predicted, numeric)


@pytest.mark.parametrize("name,fn,spec", SAMPLES, ids=IDS)
def test_forward_rule_matches_finite_differences_and_is_adjoint(name, fn, spec):
    rng = np.random.default_rng(1)
    arrays = sample_inputs(spec, rng)
    u = random_directions(arrays, rng)
    primal, tangent = jvp(fn, arrays, u)
    numeric = fd_directional(fn, arrays, u)
    assert tangent is not None
    assert tangent.shape == primal.shape
    np.testing.assert_allclose(tangent._data, numeric, rtol=1e-5, atol=1e-7)
    # adjoint: <w, J u> (forward) equals <Jᵀ w, u> (reverse)
    xs = leaves(arrays)
    w = rng.standard_normal(primal.shape)
    grads = vjp(fn(*xs), xs, w)
    reverse = sum(dot(g._data, ui) for g, ui in zip(grads, u))
    assert np.isclose(dot(w, tangent._data), reverse, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name,fn,spec", SAMPLES, ids=IDS)
def test_reverse_rules_differentiate_again(name, fn, spec):
    """d/dx <v, ∇_x <w, f(x)>> by double backward equals the finite difference of the gradient."""
    rng = np.random.default_rng(2)
    arrays = sample_inputs(spec, rng)
    w = rng.standard_normal(value_float64(fn, arrays).shape)
    u = random_directions(arrays, rng)
    xs, _, s = vjp_dot(fn, arrays, w, u)
    second = vjp_dot_grads(s, xs)  # zeros when f is linear in every input
    d = random_directions(arrays, rng)
    numeric = fd_vjp_dot(fn, arrays, w, u, d)
    predicted = sum(dot(g, di) for g, di in zip(second, d))
    assert np.isclose(predicted, numeric, rtol=1e-4, atol=1e-6), (predicted, numeric)


@pytest.mark.parametrize("name,fn,spec", [s for s in SAMPLES if len(s[2]) > 1], ids=[s[0] for s in SAMPLES
                                                                                    if len(s[2]) > 1])
def test_each_input_alone_gets_the_same_gradient(name, fn, spec):
    """With one input requiring grad, an op saves only what that input's gradient reads (as PyTorch):
    the gradient must be the one computed with every input requiring grad, to first and second order."""
    rng = np.random.default_rng(3)
    arrays = sample_inputs(spec, rng)
    w = rng.standard_normal(value_float64(fn, arrays).shape)
    xs = leaves(arrays)
    full = vjp(fn(*xs), xs, w)
    u = random_directions(arrays, rng)
    for i in range(len(arrays)):
        xs = [ag.tensor(a) for a in arrays]
        xs[i].requires_grad_()
        (alone,) = vjp(fn(*xs), [xs[i]], w, create_graph=True)
        np.testing.assert_allclose(alone._data, full[i]._data, rtol=1e-12, atol=1e-12, err_msg=f"input {i}")
        if alone.requires_grad:  # second order through the rule recorded with only this input tracked
            (second,) = ag.autograd.grad((alone * ag.tensor(u[i])).sum(), [xs[i]], allow_unused=True,
                                         materialize_grads=True)
            assert second.shape == xs[i].shape


# --------------------------------------------------------------------------------------------------
# Every op has a sample: an op missing from the table above would get none of its checks
# --------------------------------------------------------------------------------------------------
# Ops that no sample can exercise, because they are not differentiable: a backward or a tangent through
# them raises PyTorch's error (pinned in test_floor_divide_is_not_differentiable_and_remainder_is_as_in_pytorch).
NOT_DIFFERENTIABLE = {
    ag.ops.FloorDivide,  # x // y
    ag.ops.RemainderOfNumber,  # c % x for a number c
    ag.ops.Argmax, ag.ops.Argmin,  # indices: no gradient, no node (ops so that compile traces them)
}


def _op_classes_with_nodes():
    """Every subclass of Op (at any depth) defined in the package that records a node."""
    found, stack = set(), [ag.ops.Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.node_class is not None and sub.__module__.startswith("autograd_lite."):
                found.add(sub)  # (Op subclasses that a notebook or a test defines are not the package's)
    return found


def _ops_in_graph(roots):
    """The op class of every node reachable from the roots (grad_fns) through next_functions, iteratively."""
    ops, seen, stack = set(), set(), [r for r in roots if r is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        ops.add(type(node).op)  # None for AccumulateGrad
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return ops


def test_ops_lists_every_op_class():
    missing = sorted(c.__qualname__ for c in _op_classes_with_nodes() - set(ag.ops.OPS))
    assert not missing, f"op classes missing from autograd_lite.ops.OPS: {missing}"
    assert len(set(ag.ops.OPS)) == len(ag.ops.OPS), "OPS lists an op class twice"


def test_every_op_class_has_a_sample():
    """Each op class in OPS records a node when some sample runs, or when its reverse rule runs with
    create_graph=True (TanhBackward, IndexAdd: ops that rules use), so it gets the checks above."""
    exercised = set()
    for name, fn, spec in SAMPLES:
        rng = np.random.default_rng(0)
        xs = leaves(sample_inputs(spec, rng))
        out = fn(*xs)
        grads = vjp(out, xs, rng.standard_normal(out.shape), create_graph=True)
        exercised |= _ops_in_graph([out.grad_fn, *(g.grad_fn for g in grads)])
    assert not NOT_DIFFERENTIABLE & exercised, "an op listed as not differentiable has a sample: drop it from the list"
    missing = sorted(c.__qualname__ for c in set(ag.ops.OPS) - exercised - NOT_DIFFERENTIABLE)
    assert not missing, f"op classes with no sample in tests/op_samples.py: {missing}"


def test_inf_and_nan_arithmetic_warns_nothing_as_in_pytorch():
    """sqrt'(0) = inf and 0 * inf = nan are computed silently, forward and backward: numpy's RuntimeWarnings,
    which would name a file of the package, must not reach the user. Run in a fresh interpreter, because
    pytest restores the warning filters that were in place before the package was imported."""
    import subprocess
    import sys

    code = (
        "import numpy as np, autograd_lite as ag\n"
        "x = ag.tensor([0.0, 1.0, 4.0], requires_grad=True)\n"
        "y = ag.where(x > 0, ag.sqrt(x), 0.0).sum() + (1 / x).sum() + ag.log(x).sum() + ag.exp(x * 1000).sum()\n"
        "y.backward()\n"
        "print(x.grad)\n"
        "np.array([1.0]) / 0  # the user's own numpy code still warns\n"
    )
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("tensor([nan, inf, inf])")
    assert done.stderr.count("RuntimeWarning") == 1 and "<string>:6" in done.stderr, done.stderr


# --------------------------------------------------------------------------------------------------
# Behaviour at the points the finite-difference tests avoid (ties, kinks, zeros), and node names,
# pinned to what PyTorch 2.13 gives
# --------------------------------------------------------------------------------------------------
def _grads(fn, *values):
    xs = [ag.tensor(v, dtype=ag.float64, requires_grad=True) for v in values]
    out = fn(*xs)
    out.sum().backward()
    return out, [x.grad.tolist() for x in xs]


def test_maximum_and_minimum_split_the_gradient_at_ties():
    out, grads = _grads(ag.maximum, [1.0, 2.0, 3.0], [1.0, 3.0, 2.0])
    assert out.grad_fn.name() == "MaximumBackward0" and grads == [[0.5, 0.0, 1.0], [0.5, 1.0, 0.0]]
    out, grads = _grads(ag.minimum, [1.0, 2.0, 3.0], [1.0, 3.0, 2.0])
    assert out.grad_fn.name() == "MinimumBackward0" and grads == [[0.5, 1.0, 0.0], [0.5, 0.0, 1.0]]
    with fwAD.dual_level():  # the forward rule splits the tangent the same way
        x = fwAD.make_dual(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 1.0]))
        assert fwAD.unpack_dual(ag.maximum(x, ag.tensor([1.0, 0.0]))).tangent.tolist() == [0.5, 1.0]


def test_max_and_min_of_two_tensors_are_maximum_and_minimum():
    a, b = ag.tensor([1.0, 5.0], requires_grad=True), ag.tensor([1.0, 3.0])
    assert ag.max(a, b).grad_fn.name() == "MaximumBackward0" and ag.min(a, b).grad_fn.name() == "MinimumBackward0"
    assert a.maximum(b).tolist() == [1.0, 5.0] and a.minimum(b).tolist() == [1.0, 3.0]
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'other' \(position 2\) must be Tensor, not float"):
        ag.maximum(a, 1.0)



def test_norm_at_zero_and_its_orders_as_pytorch():
    out, grads = _grads(lambda x: x.norm(), [0.0, 0.0])
    assert out.item() == 0.0 and grads == [[0.0, 0.0]]  # 0 where the norm is 0 (x / |x| is nan there)
    assert _grads(lambda x: x.norm(float("inf")), [2.0, 1.0, -2.0])[1] == [[0.5, 0.0, -0.5]]  # shared by the maxima
    assert _grads(lambda x: x.norm(1), [0.0, 1.0, -2.0])[1] == [[0.0, 1.0, -1.0]]
    assert np.allclose(_grads(lambda x: x.norm(0.5), [0.0, 1.0, -2.0])[1], [[0.0, 2.41421356237, -1.70710678119]])
    x = ag.tensor([0.0, 1.0, -2.0], requires_grad=True)
    x.norm(0).backward()  # counts the nonzero elements: no gradient at all, as in PyTorch
    assert x.norm(0).item() == 2.0 and x.grad is None
    assert ag.ones(2, 3).norm(keepdim=True).shape == (1, 1) and ag.ones(2, 3).norm(2, 1, True).shape == (2, 1)
    assert ag.tensor(-2.0).norm(dim=0).item() == 2.0 and np.isclose(ag.ones(2, 3).norm(dim=[]).item(), 6**0.5)


def test_norm_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        ag.tensor([3, 4]).norm()
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor because the operation"):
        ag.ones(0).norm(float("inf"))
    with pytest.raises(RuntimeError, match="the -1 norm on the dimension 1because this dimension is empty"):
        ag.ones(2, 0).norm(-1, dim=1)
    with pytest.raises(RuntimeError, match="If dim is not specified but ord is, the input must be 1D or 2D. Got 3D."):
        ag.linalg.norm(ag.ones(2, 2, 2), 2)
    assert ag.linalg.norm(ag.ones(2, 2, 2), "fro", dim=(0, 1)).tolist() == [2.0, 2.0]
    with pytest.raises(NotImplementedError, match="only 'fro'"):
        ag.linalg.norm(ag.ones(2, 2), 1)



def test_var_and_std_corrections_and_degenerate_cases_as_pytorch():
    x = [[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]]
    assert np.isclose(ag.tensor(x).var().item(), 1.55)
    assert np.isclose(ag.tensor(x).var(correction=0).item(), 1.55 * 5 / 6)
    assert ag.tensor(x).var(False).item() == ag.tensor(x).var(unbiased=False).item()  # `unbiased` given first
    assert ag.tensor(x).std(1, True, True).shape == (2, 1) and ag.tensor(x).var(keepdim=True).shape == (1, 1)
    out, grads = _grads(lambda t: t.std(1), [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    assert out.tolist() == [0.0, 0.0] and grads == [[[0.0] * 3] * 2]  # 0 where std is 0, as PyTorch
    with pytest.warns(UserWarning, match=r"std\(\): degrees of freedom is <= 0") as caught, np.errstate(all="ignore"):
        out, grads = _grads(lambda t: t.std(), [3.0])  # one value, correction 1: nan, as PyTorch
    assert caught[0].filename == __file__  # the warning names the user's line
    assert np.isnan(out.item()) and np.isnan(grads[0][0])
    with pytest.raises(RuntimeError, match="std and var only support floating point and complex dtypes"):
        ag.tensor([1, 2]).var()



def test_diag_of_vectors_and_of_non_square_matrices():
    assert ag.diag(ag.tensor([1, 2]), -1).tolist() == [[0, 0, 0], [1, 0, 0], [0, 2, 0]]  # integers stay integers
    out, grads = _grads(lambda m: m.diag(1), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert out.tolist() == [2.0, 6.0] and grads == [[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]
    assert ag.ones(2, 3).diag(5).shape == (0,)
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 3D"):
        ag.diag(ag.ones(2, 2, 2))



def test_outer_is_recorded_as_pytorch_records_it():
    v, w = ag.tensor([1.0, 2.0, 3.0], requires_grad=True), ag.tensor([1.0, -1.0], requires_grad=True)
    out = v.outer(w)
    assert out.tolist() == [[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]]
    assert [type(n).__name__ for n, _ in out.grad_fn.next_functions] == ["ViewBackward0", "AccumulateGrad"]
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument vec2, but got 0-D"):
        ag.outer(v, ag.tensor(1.0))



def test_floor_divide_is_not_differentiable_and_remainder_is_as_in_pytorch():
    v = ag.tensor([5.5, -3.25], requires_grad=True)
    q = v // 2
    assert q.tolist() == [2.0, -2.0] and q.requires_grad  # recorded, so that backward can say what is wrong
    with pytest.raises(RuntimeError, match="^derivative for aten::floor_divide is not implemented$"):
        q.sum().backward()
    with pytest.raises(RuntimeError, match="^derivative for aten::remainder is not implemented$"):
        (7.5 % v).sum().backward()
    with fwAD.dual_level(), pytest.raises(NotImplementedError, match="forward AD with aten::floor_divide that"):
        fwAD.make_dual(ag.tensor([1.0]), ag.tensor([1.0])) // 2
    w = ag.tensor([2.0, -1.5], requires_grad=True)
    (v % w).sum().backward()
    assert (v % w).tolist() == [1.5, -0.25] and v.grad.tolist() == [1.0, 1.0] and w.grad.tolist() == [-2.0, -2.0]
    i = ag.tensor([7, -7])
    assert (i // 2).tolist() == [3, -4] and (i % 3).tolist() == [1, 2] and (-7 // i).tolist() == [-1, 1]
    assert (i // 2).dtype is ag.int64 and (i // 2.5).dtype is ag.float32
    assert (ag.tensor([7, -7], dtype=ag.int32) // 2).dtype is ag.int32
    with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):
        i % ag.tensor([1, 0])
    assert (ag.tensor([1.0, -1.0]) // 0).tolist() == [math.inf, -math.inf]


def test_argmax_and_the_indices_of_max_carry_no_graph_and_no_tangent():
    """Argmax / Argmin are ops (compile traces the indices) without a derivative: no node, no tangent, as PyTorch."""
    x = ag.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]], requires_grad=True)
    for i in (x.argmax(1), x.argmin(), x.max(1).indices, x.min(0, keepdim=True).indices):
        assert i.dtype is ag.int64 and not i.requires_grad and i.grad_fn is None
    assert x.argmax(1).tolist() == [1, 0] and x.max(1, keepdim=True).indices.tolist() == [[1], [0]]
    with fwAD.dual_level():
        i = fwAD.make_dual(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 1.0])).argmax()
        assert fwAD.unpack_dual(i).tangent is None and i.item() == 1


def test_gelu_and_erf_values_are_pytorchs():
    x = ag.tensor([-1.0, 0.5, 2.0], dtype=ag.float64)
    assert np.allclose(F.gelu(x).tolist(), [-0.15865525393145707, 0.34573123063700656, 1.9544997361036416])
    assert np.allclose(F.gelu(x, approximate="tanh").tolist(), [-0.158808009392, 0.345714009825, 1.954597694088])
    assert np.allclose(ag.erf(x).tolist(), [-0.8427007929497149, 0.5204998778130465, 0.9953222650189527])
    assert ag.erf(ag.tensor([1, 2])).dtype is ag.float32
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(x, approximate="exact")



def test_an_empty_dim_list_reduces_every_dim_as_in_pytorch():
    x = ag.ones(2, 3, requires_grad=True)
    assert x.sum([]).item() == 6.0 and x.mean(()).item() == 1.0 and x.sum([], keepdim=True).shape == (1, 1)
    assert x.sum([]).grad_fn.name() == "SumBackward1" and x.mean([]).grad_fn.name() == "MeanBackward1"
    x.mean([]).backward()
    assert np.allclose(x.grad.tolist(), 1 / 6)


_X = ag.tensor([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]], requires_grad=True)
NODE_NAMES = [  # expression on x (2x3, requires grad), PyTorch 2.13's grad_fn name
    ("ag.maximum(x, x.detach())", "MaximumBackward0"),
    ("ag.log1p(x.abs())", "Log1PBackward0"),
    ("ag.expm1(x)", "Expm1Backward0"),
    ("x.square()", "PowBackward0"), ("ag.square(x)", "PowBackward0"),
    ("x.norm()", "LinalgVectorNormBackward0"), ("ag.linalg.norm(x, dim=1)", "LinalgVectorNormBackward0"),
    ("x.var()", "VarBackward0"), ("ag.var(x, 1, keepdim=True)", "VarBackward0"),
    ("x.std(correction=0)", "StdBackward0"), ("ag.std(x, 0)", "StdBackward0"),
    ("ag.diag(x[0])", "DiagEmbedBackward0"), ("x.diag(1)", "DiagonalBackward0_copy"),
    ("ag.outer(x[0], x[1])", "MulBackward0"),
    ("x % 2", "RemainderBackward0"), ("x % x.detach()", "RemainderBackward1"), ("x // 2", "NotImplemented"),
    ("2 % x", "NotImplemented"),
    ("x[1:, None]", "UnsqueezeBackward0"), ("x[..., None]", "UnsqueezeBackward0"), ("x[0, None]", "UnsqueezeBackward0"),
    ("x[None, 1:]", "SliceBackward0"), ("x[1:, None, 1]", "SelectBackward0"), ("x[1:, None, :]", "UnsqueezeBackward0"),
    ("x.erf()", "ErfBackward0"), ("F.gelu(x)", "GeluBackward0"), ("F.gelu(x, approximate='tanh')", "GeluBackward0"),
    ("F.leaky_relu(x)", "LeakyReluBackward0"), ("F.leaky_relu(x * 1, 0.2, inplace=True)", "LeakyReluBackward1"),
]


@pytest.mark.parametrize("expression,name", NODE_NAMES, ids=[e for e, _ in NODE_NAMES])
def test_grad_fn_names_are_pytorchs(expression, name):
    assert eval(expression, {"ag": ag, "F": ag.nn.functional, "x": _X}).grad_fn.name() == name


def test_max_of_all_elements_gives_the_others_zero_even_for_a_nan_gradient():
    # found by tests/test_differential.py: PyTorch fills zeros, then the gradient at the maximum (not grad * mask)
    x = ag.tensor([[0.21, -0.22], [0.68, 0.19]], requires_grad=True)
    x.max().backward(ag.tensor(float("nan")))
    assert np.isnan(x.grad[1, 0].item()) and x.grad.sum().isnan() and (x.grad == 0).sum().item() == 3
    y = ag.tensor([1.0, float("nan"), 2.0], requires_grad=True)
    y.max().backward()  # the maximum is the NaN: its gradient goes there
    assert y.grad.tolist() == [0.0, 1.0, 0.0]


def test_select_down_to_0d_is_still_a_view():
    # found by tests/test_differential.py: select(x, 0, i) of a 1-d tensor gave numpy's copied scalar
    x = ag.tensor([0.25, -0.5])
    v = ag.select(x, 0, 0)
    v.add_(v)
    x.select(0, -1).mul_(2)
    assert x.tolist() == [0.5, -1.0]
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    (ag.select(w, 0, 1) * 3).backward()
    assert w.grad.tolist() == [0.0, 3.0]


def test_max_and_min_along_an_empty_dim_raise_pytorchs_index_error():
    # found by tests/test_differential.py: numpy's ValueError (argmin of an empty sequence) came through
    with pytest.raises(IndexError, match=r"^min\(\): Expected reduction dim 0 to have non-zero size\.$"):
        ag.zeros(0, 2).min(0)
    with pytest.raises(IndexError, match=r"^max\(\): Expected reduction dim 1 to have non-zero size\.$"):
        ag.zeros(2, 0).max(-1)
    assert ag.zeros(0, 2).max(1).values.shape == (0,)  # only the reduced dim must be non-empty


def test_index_with_an_int_in_every_dim_is_0d():
    # found by tests/test_views.py (jacfwd of jacfwd through `b.t()[2, 1] = v`): setitem's VJP for v, Index at (2, 1),
    # was 1-d (np.ascontiguousarray of numpy's scalar); inside vmap the engine does not fit it back, and numpy's
    # add.at, given that gradient, failed with a garbage shape (or crashed)
    x = ag.arange(6.0).reshape(2, 3)
    assert ag.ops.Index.apply(x, index=(1, 2)).shape == ()
    batch = ag.arange(12.0).reshape(3, 2, 2)
    per_example = ag.func.vmap(lambda g: ag.ops.Index.apply(g, index=(1, 0)))(batch)
    assert per_example.shape == (3,) and per_example.tolist() == [2.0, 6.0, 10.0]
