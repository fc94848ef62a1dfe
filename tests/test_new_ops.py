"""narrow, select, repeat, movedim, hstack/vstack, prod, masked_fill, logsumexp, softplus and the in-place
exp_ / tanh_ / sigmoid_ / relu_ / clamp_: values, gradients, node names and errors.

Their rules are checked against finite differences by the sample table (tests/op_samples.py). Here: the
points the table avoids (zeros in a product, -inf in a logsumexp, the softplus threshold), values recorded
from PyTorch 2.13 (these tests need no torch), and, when torch is installed, the same expressions run in
both libraries side by side.
"""
import math

import numpy as np
import pytest

import autograd_lite as ag
import autograd_lite.nn.functional as F
from autograd_lite.autograd import forward_ad as fwAD

from .rule_check import fd_directional, fd_vjp_dot, vjp_dot, vjp_dot_grads


LEAF_IN_PLACE = "^a leaf Variable that requires grad is being used in an in-place operation.$"


def _leaf(values):
    return ag.tensor(values, dtype=ag.float64, requires_grad=True)


def _grad(fn, values):
    x = _leaf(values)
    out = fn(x)
    out.sum().backward()
    return out, x.grad.tolist()


# --------------------------------------------------------------------------------------------------
# prod: zeros in the input
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("values,grad", [
    ([2.0, 5.0, 3.0], [15.0, 6.0, 10.0]),
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),  # one zero: only the zero's gradient is nonzero (the product of the others)
    ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),  # two zeros: every product of "the others" has a zero
])
def test_prod_gradient_with_zeros_as_pytorch(values, grad):
    out, g = _grad(lambda x: x.prod(), values)
    assert out.grad_fn.name() == "ProdBackward0" and g == grad


def test_prod_over_a_dim_with_zeros_in_some_rows():
    m = [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]]
    out, g = _grad(lambda x: x.prod(1), m)
    assert out.grad_fn.name() == "ProdBackward1" and out.tolist() == [0.0, 0.0, 6.0]
    assert g == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]]  # PyTorch 2.13's
    out, g = _grad(lambda x: x.prod(0, keepdim=True), m)
    assert out.shape == (1, 3) and g == [[0.0, 0.0, 9.0], [2.0, 0.0, 9.0], [0.0, 0.0, 9.0]]


@pytest.mark.parametrize("values,hessian", [
    ([2.0, 0.0, 3.0], [[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]]),
    ([0.0, 0.0, 3.0], [[0.0, 3.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
    ([2.0, 5.0, 3.0], [[0.0, 3.0, 5.0], [3.0, 0.0, 2.0], [5.0, 2.0, 0.0]]),
])
def test_prod_second_derivative_is_exact_at_zeros(values, hessian):
    """The gradient recorded with create_graph stays differentiable where the input has zeros (PyTorch's too)."""
    h = ag.autograd.functional.hessian(lambda x: x.prod(), ag.tensor(values, dtype=ag.float64))
    np.testing.assert_allclose(h.tolist(), hessian, rtol=1e-15, atol=1e-15)  # (z / x: rounding where no zero)


def test_prod_rules_at_zeros_match_finite_differences_to_second_order():
    """A product is a polynomial, so finite differences hold at zeros too: the table's checks, at one and two zeros."""
    rng = np.random.default_rng(0)
    for fn in (lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.prod(0, keepdim=True)):
        for zeros in ([(0, 1)], [(0, 1), (1, 2)], [(0, 1), (0, 2)]):
            a = rng.standard_normal((2, 3))
            for i in zeros:
                a[i] = 0.0
            u, d = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
            with fwAD.dual_level():
                tangent = fwAD.unpack_dual(fn(fwAD.make_dual(ag.tensor(a), ag.tensor(u)))).tangent
            np.testing.assert_allclose(tangent._data, fd_directional(fn, [a], [u]), rtol=1e-6, atol=1e-9)
            w = rng.standard_normal(tangent.shape)
            xs, grads, s = vjp_dot(fn, [a], w, [u])
            assert np.isclose(float(s), float(np.sum(w * tangent._data)))  # reverse and forward agree
            second = vjp_dot_grads(s, xs)[0]
            assert np.isclose(float(np.sum(second * d)), fd_vjp_dot(fn, [a], w, [u], [d]), rtol=1e-6, atol=1e-9)


def test_prod_dtypes_and_empty_input_as_pytorch():
    assert ag.tensor([2, 3], dtype=ag.int32).prod(0).dtype is ag.int64
    assert ag.tensor([True, False]).prod().dtype is ag.int64
    assert ag.tensor([2.0, 3.0]).prod(dtype=ag.float64).dtype is ag.float64
    assert ag.ones(0).prod().item() == 1.0 and ag.ones(2, 0).prod(1).tolist() == [1.0, 1.0]
    out, g = _grad(lambda x: x.prod(0), 0.0)  # a 0-d tensor: dim 0 reduces nothing
    assert out.shape == () and g == 1.0
    with pytest.raises(TypeError, match=r"prod\(\) received an invalid combination of arguments - got \(tuple\)"):
        ag.ones(2, 2).prod((0, 1))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        ag.ones(2, 2).prod(2)


# --------------------------------------------------------------------------------------------------
# logsumexp
# --------------------------------------------------------------------------------------------------
def test_logsumexp_is_stable_and_its_gradient_finite_at_minus_infinity():
    out, g = _grad(lambda x: x.logsumexp(0), [1000.0, 1000.0])
    assert np.isclose(out.item(), 1000.0 + math.log(2), rtol=1e-15) and np.allclose(g, [0.5, 0.5], rtol=1e-12)
    out, g = _grad(lambda x: x.logsumexp(0), [0.0, -math.inf, 1.0])
    assert np.isclose(out.item(), 1.3132616875182228) and np.allclose(g, [0.2689414213699951, 0.0, 0.7310585786300049])
    with np.errstate(invalid="ignore"):  # inf - inf in the rule, as in PyTorch's: -inf, and nan gradients
        out, g = _grad(lambda x: x.logsumexp(0), [-math.inf, -math.inf])
        assert out.item() == -math.inf and all(math.isnan(v) for v in g)
        out, g = _grad(lambda x: x.logsumexp(0), [math.inf, 1.0])
    assert out.item() == math.inf and math.isnan(g[0]) and g[1] == 0.0
    assert out.grad_fn.name() == "LogsumexpBackward0"


def test_logsumexp_dims_shapes_and_dtypes():
    x = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.logsumexp(1, keepdim=True).shape == (2, 1) and ag.logsumexp(x, (0, 1)).shape == ()
    assert np.isclose(ag.logsumexp(x, [0, 1]).item(), math.log(sum(math.exp(v) for v in range(1, 7))))
    assert ag.tensor([1, 2]).logsumexp(0).dtype is ag.float32
    assert ag.tensor(3.0).logsumexp(0).item() == 3.0 and ag.ones(0).logsumexp(0).item() == -math.inf
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.logsumexp((0, 0))


# --------------------------------------------------------------------------------------------------
# softplus
# --------------------------------------------------------------------------------------------------
def test_softplus_values_and_gradient_on_both_sides_of_the_threshold():
    x = [-30.0, 0.0, 5.0, 10.0, 11.0, 200.0]  # beta * x = 20 at x = 10: below, log(1 + e^(2x)) / 2; above, x
    out, g = _grad(lambda t: F.softplus(t, beta=2, threshold=20), x)
    expected = [4.37825538134826e-27, 0.34657359027997264, 5.000022699449609, 10.000000001030577, 11.0, 200.0]
    assert np.allclose(out.tolist(), expected, rtol=1e-14, atol=0) and out.grad_fn.name() == "SoftplusBackward0"
    assert np.allclose(g, [8.75651076269652e-27, 0.5, 0.9999546021312976, 0.9999999979388464, 1.0, 1.0], rtol=1e-14)
    assert F.softplus(ag.tensor([1000.0], dtype=ag.float64), threshold=2000).item() == math.inf  # as PyTorch
    with pytest.raises(NotImplementedError, match="\"softplus_cpu\" not implemented for 'Long'"):
        F.softplus(ag.tensor([1, 2]))


def test_softplus_module():
    assert repr(ag.nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(ag.nn.Softplus(2.0, 5.0)) == "Softplus(beta=2.0, threshold=5.0)"
    x = ag.tensor([-1.0, 0.5, 4.0])
    assert ag.nn.Softplus(2.0, 5.0)(x).tolist() == F.softplus(x, 2.0, 5.0).tolist()


# --------------------------------------------------------------------------------------------------
# masked_fill
# --------------------------------------------------------------------------------------------------
def test_masked_fill_values_gradients_and_node_names():
    x = _leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    v = ag.tensor(7.0, dtype=ag.float64, requires_grad=True)
    mask = ag.tensor([True, False, True])  # broadcast over the rows
    out = x.masked_fill(mask, v)
    assert out.tolist() == [[7.0, 2.0, 7.0], [7.0, 5.0, 7.0]] and out.grad_fn.name() == "MaskedFillBackward1"
    (out * ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=ag.float64)).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 0.0], [0.0, 5.0, 0.0]] and v.grad.item() == 1 + 3 + 4 + 6
    assert x.masked_fill(mask, 0.0).grad_fn.name() == "MaskedFillBackward0"
    assert ag.masked_fill(x[0, 0], ag.ones(2, 3, dtype=ag.bool), 1.0).shape == (2, 3)  # the tensor broadcasts too
    assert ag.tensor([1, 2]).masked_fill(ag.tensor([True, False]), 1.5).tolist() == [1, 2]  # cast to x's dtype
    value = ag.tensor(1.5, dtype=ag.float64)
    assert ag.tensor([1.0, 2.0]).masked_fill(ag.tensor([True, False]), value).dtype is ag.float32


def test_masked_fill_in_place():
    y = _leaf([1.0, -2.0, 3.0]) * 1
    version = y._version
    assert y.masked_fill_(y < 0, 0.0) is y and y.tolist() == [1.0, 0.0, 3.0] and y._version == version + 1
    assert y.grad_fn.name() == "MaskedFillBackward0"
    with pytest.raises(RuntimeError, match=LEAF_IN_PLACE):
        _leaf([1.0]).masked_fill_(ag.tensor([True]), 0.0)


def test_masked_fill_errors_are_pytorchs():
    x = ag.ones(2, 3)
    for mask, name in [(ag.ones(3), "float"), (ag.tensor([1, 0, 1]), "long int"), (ag.tensor([1, 0, 1], dtype=ag.uint8),
                                                                                 "unsigned char")]:
        with pytest.raises(RuntimeError, match=f"only supports boolean masks, but got mask with dtype {name}$"):
            x.masked_fill(mask, 0.0)
    with pytest.raises(RuntimeError, match=r"only supports a 0-dimensional value tensor, but got tensor with 1 dim"):
        x.masked_fill(ag.ones(3, dtype=ag.bool), ag.tensor([1.0]))
    bad = ag.ones(4, dtype=ag.bool)
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(4\) must match the size of tensor b \(3\) at non"):
        x.masked_fill(bad, 1.0)  # out of place, PyTorch names the mask first...
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of tensor b \(4\) at non"):
        x.masked_fill_(bad, 1.0)  # ...in place, the tensor
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        ag.ones(3).masked_fill_(ag.ones(2, 3, dtype=ag.bool), 1.0)
    with pytest.raises(TypeError, match=r"masked_fill\(\) received an invalid combination of arguments - got \(list"):
        x.masked_fill([True, False, True], 1.0)


# --------------------------------------------------------------------------------------------------
# narrow, select, repeat, movedim, hstack, vstack
# --------------------------------------------------------------------------------------------------
def test_narrow_and_select_are_views_recorded_as_pytorch():
    x = _leaf(np.arange(12.0).reshape(3, 4))
    n = x.narrow(1, -3, 2)
    assert n.tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]] and n.grad_fn.name() == "SliceBackward0"
    assert n._base is x and np.shares_memory(n._data, x._data)
    s = ag.select(x, -2, 1)
    assert s.tolist() == [4.0, 5.0, 6.0, 7.0] and s.grad_fn.name() == "SelectBackward0" and s._base is x
    (n.sum() + 2 * s.sum()).backward()
    assert x.grad.tolist() == [[0.0, 1.0, 1.0, 0.0], [2.0, 3.0, 3.0, 2.0], [0.0, 1.0, 1.0, 0.0]]
    assert ag.narrow(x, 0, 3, 0).shape == (0, 4)  # start may equal the size when the length is 0


def test_narrow_and_select_errors_are_pytorchs():
    x = ag.ones(2, 3, 4)
    out_of_range = r"^{} out of range for tensor of size \[2, 3, 4\] at dimension 1$"
    cases = [
        (lambda: x.narrow(1, 4, 1), IndexError, r"^start out of range \(expected to be in .*\[-3, 3\], but got 4\)$"),
        (lambda: x.narrow(1, -1, 3), RuntimeError, r"^start \(2\) \+ length \(3\) exceeds dimension size \(3\)\.$"),
        (lambda: x.narrow(1, 0, -1), RuntimeError, r"^narrow\(\): length must be non-negative\.$"),
        (lambda: ag.tensor(1.0).narrow(0, 0, 1), RuntimeError, r"^narrow\(\) cannot be applied to a 0-dim tensor\.$"),
        (lambda: x.narrow(5, 0, 1), IndexError, r"^Dimension out of range \(expected .*\[-3, 2\], but got 5\)$"),
        (lambda: x.select(-2, 5), IndexError, out_of_range.format(r"select\(\): index 5")),
        (lambda: x.select(1, -4), IndexError, out_of_range.format(r"select\(\): index -4")),
        (lambda: ag.tensor(1.0).select(0, 0), IndexError, r"^select\(\) cannot be applied to a 0-dim tensor\.$"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_repeat_values_gradient_and_errors():
    x = _leaf([[1.0], [2.0]])
    y = x.repeat(2, 1, 3)
    assert y.shape == (2, 2, 3) and y.grad_fn.name() == "RepeatBackward0"
    assert y.tolist() == [[[1.0] * 3, [2.0] * 3]] * 2
    (y * ag.arange(12.0, dtype=ag.float64).reshape(2, 2, 3)).sum().backward()
    assert x.grad.tolist() == [[0 + 1 + 2 + 6 + 7 + 8], [3 + 4 + 5 + 9 + 10 + 11]]
    assert x.repeat((0, 1)).shape == (0, 1) and ag.zeros(0, 3).repeat(-1, 2).shape == (0, 6)
    with pytest.raises(RuntimeError, match="^Number of dimensions of repeat dims can not be smaller than number of"):
        ag.ones(2, 3, 4).repeat(2, 2)
    with pytest.raises(RuntimeError, match=r"^Trying to create tensor with negative dimension -3: \[4, -3, 4\]$"):
        ag.ones(2, 3, 4).repeat(2, -1, 1)
    with pytest.raises(TypeError, match='repeat\\(\\) missing 1 required positional arguments: "repeats"'):
        ag.ones(2).repeat()


def test_movedim_orders_and_errors():
    x = _leaf(np.zeros((2, 3, 4)))
    assert x.movedim(0, 2).shape == (3, 4, 2) and x.movedim(0, 2).grad_fn.name() == "PermuteBackward0"
    assert x.moveaxis((0, 1), (2, 0)).shape == (3, 4, 2) and ag.movedim(x, -1, 0).shape == (4, 2, 3)
    assert ag.moveaxis(x, [0, 1], [1, 0]).shape == (3, 2, 4) and x.movedim(0, 0).grad_fn.name() == "PermuteBackward0"
    assert _leaf(1.0).movedim(0, -1).grad_fn.name() == "AliasBackward0"  # a 0-d tensor: PyTorch's alias
    with pytest.raises(RuntimeError, match=r"source \(\[0, 1\] dims\) should contain the same number of dims as"):
        x.movedim((0, 1), (2,))
    with pytest.raises(RuntimeError, match=r"^movedim: repeated dim in `source` \(\[-3, 0\]\)$"):
        x.movedim((-3, 0), (1, 2))
    with pytest.raises(RuntimeError, match=r"^movedim: repeated dim in `destination` \(\[-1, 2\]\)$"):
        x.movedim((0, 1), (-1, 2))


def test_hstack_and_vstack_are_cats_as_in_pytorch():
    v, m = _leaf([1.0, 2.0]), _leaf([[3.0, 4.0]])
    h = ag.hstack([v, v])
    assert h.tolist() == [1.0, 2.0, 1.0, 2.0] and h.grad_fn.name() == "CatBackward0"
    s = ag.vstack([v, m])
    assert s.tolist() == [[1.0, 2.0], [3.0, 4.0]] and s.grad_fn.name() == "CatBackward0"
    assert [type(n).__name__ for n, _ in s.grad_fn.next_functions] == ["UnsqueezeBackward0", "AccumulateGrad"]
    n = _leaf(5.0)
    assert ag.hstack([n, n]).shape == (2,) and ag.vstack([n, n]).shape == (2, 1)
    assert [type(e).__name__ for e, _ in ag.vstack([n, n]).grad_fn.next_functions] == ["ViewBackward0"] * 2
    assert ag.hstack([m, m]).shape == (1, 4)
    with pytest.raises(RuntimeError, match="^hstack expects a non-empty TensorList$"):
        ag.hstack([])
    with pytest.raises(RuntimeError, match="^vstack expects a non-empty TensorList$"):
        ag.vstack(())
    with pytest.raises(TypeError, match=r"^hstack\(\): argument 'tensors' \(position 1\) must be tuple of Tensors"):
        ag.hstack(v)
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions: got 1 and 2"):
        ag.hstack([v, m])


# --------------------------------------------------------------------------------------------------
# in-place exp_, tanh_, sigmoid_, relu_, clamp_
# --------------------------------------------------------------------------------------------------
INPLACE = [  # method, PyTorch's node, the out-of-place function
    ("exp_", "ExpBackward0", np.exp), ("tanh_", "TanhBackward0", np.tanh),
    ("sigmoid_", "SigmoidBackward0", lambda a: 1 / (1 + np.exp(-a))),
    ("relu_", "ReluBackward0", lambda a: np.maximum(a, 0)),
]


@pytest.mark.parametrize("method,node,fn", INPLACE, ids=[m for m, _, _ in INPLACE])
def test_inplace_elementwise_ops_record_the_ops_node(method, node, fn):
    x = _leaf([-1.0, 0.5, 2.0])
    y = x * 1
    out = getattr(y, method)()
    assert out is y and y._version == 1 and y.grad_fn.name() == node
    np.testing.assert_allclose(y.tolist(), fn(np.array([-1.0, 0.5, 2.0])), rtol=1e-15)
    y.sum().backward()
    expected = {"exp_": np.exp([-1.0, 0.5, 2.0]), "tanh_": 1 - np.tanh([-1.0, 0.5, 2.0]) ** 2,
                "sigmoid_": fn(np.array([-1.0, 0.5, 2.0])) * (1 - fn(np.array([-1.0, 0.5, 2.0]))),
                "relu_": [0.0, 1.0, 1.0]}[method]
    np.testing.assert_allclose(x.grad.tolist(), expected, rtol=1e-15)
    with pytest.raises(RuntimeError, match=LEAF_IN_PLACE):
        getattr(_leaf([1.0]), method)()
    y = ag.tensor([-1.0, 2.0])  # no grad: the values change, nothing is recorded
    assert getattr(ag, method)(y) is y and y.grad_fn is None and y._version == 1


def test_inplace_on_integers_and_clamp_and_relu_spellings():
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired output type Long$"):
        ag.tensor([1, 2]).exp_()
    assert ag.tensor([-1, 2]).relu_().tolist() == [0, 2]
    y = _leaf([-1.0, 0.25, 2.0]) * 1
    assert ag.clamp_(y, -0.5, 0.5) is y and y.tolist() == [-0.5, 0.25, 0.5] and y.grad_fn.name() == "ClampBackward1"
    for relu in (lambda t: F.relu(t, inplace=True), F.relu_, ag.nn.ReLU(inplace=True)):
        y = _leaf([-1.0, 2.0]) * 1
        assert relu(y) is y and y.grad_fn.name() == "ReluBackward0" and y.tolist() == [0.0, 2.0]


# --------------------------------------------------------------------------------------------------
# side by side with PyTorch, when it is installed
# --------------------------------------------------------------------------------------------------
_A = np.random.default_rng(7).standard_normal((2, 3, 4))
_A[0, 1, 2] = 0.0  # one zero in some products, two in one row
_A[1, 2, :2] = 0.0
_A[1, 0, 3] = -np.inf  # for logsumexp only (see _input)

EXPRESSIONS = [  # on x (2x3x4, float64, requires grad), with lib = torch or autograd_lite and F its functional
    "x.narrow(2, 1, 2)", "lib.narrow(x, -1, -2, 2)", "x.select(1, -1)", "lib.select(x, 0, 1)",
    "x.repeat(2, 1, 1, 2)", "x.repeat(1, 2, 1)", "x.movedim(0, -1)", "lib.movedim(x, (0, 2), (1, 0))",
    "x.moveaxis(-1, 0)", "lib.hstack([x, x * 2])", "lib.vstack([x[0, 0], x[1]])", "lib.hstack([x[0, 0, 0], x[1, 1]])",
    "lib.vstack([x[0, 0, 0], x[1, 1, :1]])",
    "x.prod()", "x.prod(2)", "x.prod(1, keepdim=True)", "lib.prod(x[1], 1)", "x[0].prod()", "x[1, 2].prod()",
    "x.masked_fill(x > 0, 0.5)", "x.masked_fill(x[0] > 0, lib.tensor(2.0, dtype=lib.float64))",
    "lib.masked_fill(x, x[:, :1] < 0, -1.0)", "(x * 1).masked_fill_(x > 0.5, 3.0)",
    "F.softplus(x)", "F.softplus(x * 10, beta=3.0, threshold=4.0)",
    "(x * 1).exp_()", "(x * 1).tanh_()", "(x * 1).sigmoid_()", "(x * 1).relu_()", "lib.relu_(x * 1)",
    "(x * 1).clamp_(-0.5, 0.5)", "(x * 1).clamp_(min=0.0)", "F.relu(x * 1, inplace=True)",
]
LSE = ["x.logsumexp(1)", "lib.logsumexp(x, (0, 2), keepdim=True)", "lib.logsumexp(x, -1)"]


def _input(lib, expression):
    a = _A if "logsumexp" in expression else np.where(np.isinf(_A), 1.5, _A)
    return lib.tensor(a, dtype=lib.float64, requires_grad=True)


def _run(lib, expression):
    x = _input(lib, expression)
    out = eval(expression, {"lib": lib, "F": lib.nn.functional, "x": x})
    w = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)), dtype=lib.float64)
    (g,) = lib.autograd.grad((out * w).sum(), x, create_graph=True)
    second = None  # the second derivative too, where the gradient depends on x
    if g.requires_grad:
        (gg,) = lib.autograd.grad((g * g).sum(), x, allow_unused=True)
        second = None if gg is None else gg.detach().numpy()
    return out.grad_fn.name(), out.detach().numpy(), g.detach().numpy(), second


@pytest.mark.parametrize("expression", EXPRESSIONS + LSE)
def test_values_gradients_and_node_names_match_pytorch(expression):
    torch = pytest.importorskip("torch")
    name, value, grad, second = _run(ag, expression)
    t_name, t_value, t_grad, t_second = _run(torch, expression)
    assert name == t_name
    np.testing.assert_allclose(value, t_value, rtol=1e-12, atol=0)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-300)
    if t_second is None or second is None:  # no second derivative: both find none (or zeros)
        assert not np.any(second if second is not None else t_second if t_second is not None else 0)
    else:
        np.testing.assert_allclose(second, t_second, rtol=1e-10, atol=1e-300)


ERRORS = [
    "x.narrow(1, 4, 1)", "x.narrow(1, -1, 3)", "x.narrow(1, 0, -1)", "x.select(2, 4)", "x.select(-3, -3)",
    "lib.tensor(1.).select(0, 0)", "lib.tensor(1.).narrow(0, 0, 1)", "x.repeat(2, 2)", "x.repeat(2, -1, 1)",
    "x.movedim((0, 1), (2,))", "x.movedim((0, 0), (1, 2))", "lib.hstack([])", "lib.vstack([x, x[0, 0]])",
    "x.masked_fill(x, 0.)", "x.masked_fill(x > 0, x[0])", "x.masked_fill(lib.ones(5, dtype=lib.bool), 0.)",
    "x.masked_fill_(x > 0, 1.)", "x.exp_()", "lib.tensor([1, 2]).sigmoid_()", "F.softplus(lib.tensor([1]))",
    "x.logsumexp((1, 1))", "x.prod(3)",
]


def _error(lib, expression):
    x = _input(lib, expression)
    try:
        eval(expression, {"lib": lib, "F": lib.nn.functional, "x": x})
    except Exception as e:  # noqa: BLE001 (the point is to compare whatever is raised)
        return type(e).__name__, str(e).split("\n")[0]
    return None


@pytest.mark.parametrize("expression", ERRORS)
def test_errors_match_pytorch(expression):
    torch = pytest.importorskip("torch")
    assert _error(ag, expression) == _error(torch, expression) != None  # noqa: E711


# -- round, floor, ceil, trunc, frac: steps with zero gradients (frac: one) -------------------------------------------
STEPS = ["round", "floor", "ceil", "trunc", "frac"]


def _steps(lib):
    x = lib.tensor([-1.5, -0.5, 0.5, 1.5, 2.5, 2.7], dtype=lib.float64, requires_grad=True)
    seen = []
    for name in STEPS:
        y = getattr(lib, name)(x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        seen.append((name, y.tolist(), y.grad_fn.name(), g.tolist(), g.requires_grad))
    y = x.round(decimals=1)
    seen.append(("decimals=1", y.tolist(), y.grad_fn.name()))
    wide = lib.tensor([1.0, 15.0, 25.0, -35.0, 0.125, 2.675], dtype=lib.float64)
    seen.append(("decimals", lib.round(wide, decimals=-1).tolist(), lib.round(wide, decimals=2).tolist()))
    ints = lib.tensor([1, 2, -3])
    copies = [getattr(lib, name)(ints) for name in STEPS[:4]]
    seen.append(("ints", [(c.tolist(), str(c.dtype), c.data_ptr() == ints.data_ptr()) for c in copies]))
    return seen


STEPS_IN_TORCH = [
    ("round", [-2.0, -0.0, 0.0, 2.0, 2.0, 3.0], "RoundBackward0", [0.0] * 6, False),
    ("floor", [-2.0, -1.0, 0.0, 1.0, 2.0, 2.0], "FloorBackward0", [0.0] * 6, False),
    ("ceil", [-1.0, -0.0, 1.0, 2.0, 3.0, 3.0], "CeilBackward0", [0.0] * 6, False),
    ("trunc", [-1.0, -0.0, 0.0, 1.0, 2.0, 2.0], "TruncBackward0", [0.0] * 6, False),
    ("frac", [-0.5, -0.5, 0.5, 0.5, 0.5, 0.7000000000000002], "FracBackward0", [1.0] * 6, False),
    ("decimals=1", [-1.5, -0.5, 0.5, 1.5, 2.5, 2.7], "RoundBackward1"),
    ("decimals", [0.0, 20.0, 20.0, -40.0, 0.0, 0.0], [1.0, 15.0, 25.0, -35.0, 0.12, 2.68]),
    ("ints", [([1, 2, -3], "LIB.int64", False)] * 4),
]


def test_round_floor_ceil_trunc_frac_as_pytorch():
    def named(lib):
        rows = _steps(lib)
        rows[-1] = ("ints", [(v, d.replace(lib.__name__, "LIB"), same) for v, d, same in rows[-1][1]])
        return rows

    assert named(ag) == STEPS_IN_TORCH
    torch = pytest.importorskip("torch")
    assert named(torch) == STEPS_IN_TORCH


@pytest.mark.parametrize("call,message", [
    (lambda lib: lib.round(lib.tensor([True])), "\"round_vml_cpu\" not implemented for 'Bool'"),
    (lambda lib: lib.floor(lib.tensor([True])), "\"floor_vml_cpu\" not implemented for 'Bool'"),
    (lambda lib: lib.ceil(lib.tensor([True])), "\"ceil_vml_cpu\" not implemented for 'Bool'"),
    (lambda lib: lib.trunc(lib.tensor([True])), "\"trunc_vml_cpu\" not implemented for 'Bool'"),
    (lambda lib: lib.frac(lib.tensor([1, 2])), "\"frac_cpu\" not implemented for 'Long'"),
    (lambda lib: lib.round(lib.tensor([15]), decimals=-1), "\"round_cpu\" not implemented for 'Long'"),
])
def test_round_and_friends_refuse_what_pytorch_refuses(call, message):
    with pytest.raises(NotImplementedError, match=f"^{message}$"):
        call(ag)
    torch = pytest.importorskip("torch")
    with pytest.raises(NotImplementedError, match=f"^{message}$"):
        call(torch)


def test_round_and_friends_in_place():
    x = ag.tensor([0.3, 1.6, -2.5], dtype=ag.float64, requires_grad=True)
    for name in STEPS:
        y = x * 1
        getattr(y, name + "_")()
        assert y.grad_fn.name() == getattr(ag, name)(x).grad_fn.name()
        np.testing.assert_array_equal(y.detach().numpy(), getattr(ag, name)(x).detach().numpy())
        (g,) = ag.autograd.grad(y.sum(), x)
        assert g.tolist() == ([1.0] * 3 if name == "frac" else [0.0] * 3)


def test_the_tangent_of_frac_is_its_own():
    """PyTorch's frac hands back x's tangent itself, so an in-place op on the result changes x's tangent (PyTorch:
    [2, 4] below, a wrong derivative); autograd_lite's result has a tangent of its own (a difference on purpose)."""
    with fwAD.dual_level():
        x = fwAD.make_dual(ag.tensor([0.21, 1.3], dtype=ag.float64), ag.tensor([1.0, 2.0], dtype=ag.float64))
        y = x.frac()
        y.add_(x)
        assert fwAD.unpack_dual(x).tangent.tolist() == [1.0, 2.0]
        assert fwAD.unpack_dual(y).tangent.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("name", ["sign", "sgn", "round", "floor", "ceil", "trunc"])
def test_a_steps_tangent_is_zeros_with_no_graph(name):
    """As PyTorch's: zeros, not `0 * tangent` (which would stay connected to a tangent that requires grad)."""
    x0 = ag.tensor([0.21, -0.22], dtype=ag.float64, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(ag.tensor([0.3, -1.7], dtype=ag.float64), x0 * 2)
        tangent = fwAD.unpack_dual(getattr(ag, name)(d)).tangent
    assert tangent.tolist() == [0.0, 0.0] and not tangent.requires_grad
