"""Second derivatives of every op sample (tests/op_samples.py) by every composition of the transforms in func.py.

For each sample f, the Hessian of the scalar loss L = <w, f(x)> (fixed random weights w) is computed four ways:

* forward-over-reverse, `func.hessian` = jacfwd(jacrev): the reverse rules run while the inputs carry tangents,
  and the tangents are pushed through the ops the rules are made of;
* reverse-over-reverse, jacrev(jacrev): the reverse rules are recorded (create_graph) and differentiated again;
* forward-over-forward, jacfwd(jacfwd): the inner forward pass by the double-backward trick, inside the outer
  level (tangents pushed through reverse rules again);
* central finite differences of the gradient.

They must agree at the samples' inputs, and at inputs with special values where a rule branches on the data:
zeros (prod, norms, abs, relu, where), ties (max/min, maximum/minimum, norm(inf)), bounds (clamp), a constant row
(std). A rule may take a shortcut that is exact at the point only, not around it (prod's derivative at a zero
was one); forward-over-reverse differentiates that shortcut and got a wrong Hessian silently, while
reverse-over-reverse, which recorded the exact formula, was right.

Where the function is not twice differentiable at the special point (a kink: abs at 0, a tie of max) finite
differences mean nothing: the transforms must then agree with each other, entry by entry where neither gives NaN
(reverse-over-reverse gives NaN for the norm at 0, as PyTorch's does). With PyTorch installed, `torch.func.hessian`
of the same sample code must agree as well (`AUTOGRAD_LITE_DEEP=1`: also jacrev(jacrev), and more inputs).
"""
import types
import warnings

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import func
from autograd_lite.autograd import forward_ad as fwAD

from . import op_samples
from .op_samples import SAMPLES, sample_inputs

EPS = 1e-6
BY_NAME = {name: (fn, spec) for name, fn, spec in SAMPLES}
IDS = [s[0] for s in SAMPLES]


def _loss(fn, arrays, seed=1):
    """L(*xs) = <w, fn(*xs)>, with w random of the output's shape."""
    with ag.no_grad():
        shape = fn(*[ag.tensor(a) for a in arrays]).shape
    w = np.random.default_rng(seed).standard_normal(shape)
    return (lambda *xs: (fn(*xs) * ag.tensor(w)).sum()), w


def _as_matrix(h, shapes):
    """The nested blocks h[i][j] (d²L / dx_i dx_j, of shape x_i.shape + x_j.shape) as one square matrix."""
    sizes = [int(np.prod(s)) for s in shapes]
    return np.block([[np.asarray(h[i][j]).reshape(sizes[i], sizes[j]) for j in range(len(shapes))]
                     for i in range(len(shapes))])


def _by_transform(outer, inner, loss, arrays):
    argnums = tuple(range(len(arrays)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vmap's warning for an op without a batching rule is tested on its own
        h = outer(inner(loss, argnums), argnums)(*[ag.tensor(a) for a in arrays])
    return _as_matrix([[b.numpy() for b in row] for row in h], [a.shape for a in arrays])


def forward_over_reverse(loss, arrays):
    argnums = tuple(range(len(arrays)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = func.hessian(loss, argnums)(*[ag.tensor(a) for a in arrays])
    return _as_matrix([[b.numpy() for b in row] for row in h], [a.shape for a in arrays])


def reverse_over_reverse(loss, arrays):
    return _by_transform(func.jacrev, func.jacrev, loss, arrays)


def forward_over_forward(loss, arrays):
    return _by_transform(func.jacfwd, func.jacfwd, loss, arrays)


def reverse_over_forward(loss, arrays):
    return _by_transform(func.jacrev, func.jacfwd, loss, arrays)


def finite_differences(loss, arrays):
    """Column k: the central difference of the gradient (by reverse mode) along input element k."""
    def gradient(arrs):
        xs = [ag.tensor(a, requires_grad=True) for a in arrs]
        gs = ag.autograd.grad(loss(*xs), xs, allow_unused=True, materialize_grads=True)
        return np.concatenate([g.numpy().ravel() for g in gs])

    columns = []
    for i, a in enumerate(arrays):
        for k in range(a.size):
            plus, minus = [b.copy() for b in arrays], [b.copy() for b in arrays]
            plus[i].flat[k] += EPS
            minus[i].flat[k] -= EPS
            columns.append((gradient(plus) - gradient(minus)) / (2 * EPS))
    return np.stack(columns, axis=1)


def _same(got, want, what, **tol):
    np.testing.assert_allclose(got, want, **(tol or {"rtol": 1e-8, "atol": 1e-9}), err_msg=what)


def _same_where_defined(got, want, what):
    """Equal wherever neither is NaN (a second derivative that does not exist, at a kink)."""
    assert got.shape == want.shape, what
    both = ~(np.isnan(got) | np.isnan(want))
    np.testing.assert_allclose(got[both], want[both], rtol=1e-8, atol=1e-9, err_msg=what)


def _all_compositions_agree(loss, arrays, smooth=True):
    h = forward_over_reverse(loss, arrays)
    others = {"jacrev(jacrev)": reverse_over_reverse(loss, arrays),
              "jacfwd(jacfwd)": forward_over_forward(loss, arrays)}
    if smooth:
        assert np.isfinite(h).all(), h
        for what, other in others.items():
            _same(h, other, f"hessian (jacfwd(jacrev)) against {what}")
        _same(h, finite_differences(loss, arrays), "hessian against finite differences", rtol=1e-4, atol=1e-6)
    else:
        for what, other in others.items():
            _same_where_defined(h, other, f"hessian (jacfwd(jacrev)) against {what}")
    return h


@pytest.mark.parametrize("name", IDS)
def test_every_composition_gives_the_same_hessian_at_the_sample_inputs(name):
    fn, spec = BY_NAME[name]
    arrays = sample_inputs(spec, np.random.default_rng(0))
    loss, _ = _loss(fn, arrays)
    _all_compositions_agree(loss, arrays)


# Inputs with special values, written out: (sample, what is special, the inputs, whether the function is twice
# differentiable there, so that finite differences hold).
SPECIAL = [
    ("prod", "one zero", [[[1.5, 0.0, -2.0], [0.5, 3.0, -1.0]]], True),
    ("prod", "two zeros", [[[1.5, 0.0, -2.0], [0.5, 0.0, -1.0]]], True),
    ("prod", "three zeros", [[[0.0, 0.0, -2.0], [0.5, 0.0, -1.0]]], True),
    ("prod_dim", "one or two zeros per product", [[[[1.5, 0.0], [0.0, 2.0], [-1.0, 3.0]],
                                                   [[0.0, 0.0], [0.5, 0.0], [2.0, -1.0]]]], True),
    ("prod_dim_keepdim", "one or two zeros per product", [[[0.0, 0.0], [2.0, 0.0], [-1.0, 3.0]]], True),
    ("norm", "one zero", [[[0.0, 1.0, -2.0], [0.5, 3.0, -1.0]]], True),
    ("norm", "all zero", [np.zeros((2, 3))], False),
    ("norm_dim_keepdim", "a zero row", [[[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]], False),
    ("norm_p1", "zeros", [[[0.0, 1.0, -2.0], [0.5, 0.0, -1.0]]], False),
    ("norm_p1_5", "zeros", [[[0.5, 0.0, -1.2], [0.0, 0.0, 2.0]]], False),
    ("norm_p3", "zeros", [[[0.0, 1.0, -2.0], [0.0, 0.0, 0.0]]], False),
    ("norm_inf", "ties of |x|", [[[1.5, -2.0, 0.0], [1.5, 2.0, 0.0]]], False),
    ("max", "a tie of three", [[[1.0, 3.0, -2.0], [3.0, 0.5, 3.0]]], False),
    ("min", "a tie of two", [[[1.0, -3.0, -2.0], [-3.0, 0.5, 2.0]]], False),
    ("max_dim", "ties", [[[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]]], False),
    ("min_dim_keepdim", "ties", [[[1.0, -3.0, 0.5], [1.0, 2.0, 0.5]]], False),
    ("maximum", "ties", [[[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], [[1.0, -1.0, 0.5], [0.0, 2.0, -1.0]]], False),
    ("minimum_broadcast", "ties", [[[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], [1.0, 3.0, -1.0]], False),
    *[(name, "zeros", [[[0.0, 1.5, -0.5], [0.3, 0.0, -2.0]]], False)
      for name in ("abs", "sign", "sgn", "relu", "relu_inplace", "leaky_relu", "leaky_relu_inplace", "clamp_min")],
    *[(name, "zeros", [[[1.0, -2.0, 0.5], [0.3, 1.2, -1.0]], [[0.0, 1.5, -0.5], [0.3, 0.0, -2.0]]], False)
      for name in ("threshold_backward", "leaky_relu_backward")],
    ("clamp", "at the bounds", [[[0.5, -0.5, 0.2], [1.0, -0.5, 0.5]]], False),
    ("clamp_inplace", "at the bounds", [[[0.5, -0.5, 0.2], [1.0, -0.5, 0.5]]], False),
    ("where", "zeros", [[[0.0, 1.5, -0.5], [0.3, 0.0, -2.0]], [[1.0, -2.0, 0.5], [0.3, 1.2, -1.0]]], False),
    ("where_broadcast", "zeros", [[[0.0, 1.5, -0.5], [0.3, 0.0, -2.0]], [1.0, -2.0, 0.5]], False),
    ("std", "constant", [np.full((2, 3), 0.5)], False),
    ("std_dim_correction0", "a constant row", [[[0.5, 0.5, 0.5], [1.0, -2.0, 0.25]]], False),
    ("std_mean", "a constant column", [[[0.5, 1.0], [0.5, -2.0], [0.5, 0.25]]], False),
    ("var", "constant", [np.full((2, 3), 0.5)], True),
    ("var_mean", "a constant row", [[[0.5, 1.0, -2.0, 0.25], [0.5] * 4, [1.0, 2.0, 3.0, -1.0]]], True),
    ("softplus_beta_threshold", "at the threshold", [[[0.625, -0.3, 1.0], [0.1, 0.625, -1.0]]], False),
    ("remainder", "at multiples", [[[1.0, -3.0, 4.0], [2.5, -1.5, 6.0]], [[0.5, -1.5, 2.0], [1.25, -0.75, 3.0]]],
     False),
    ("pow_scalar", "zeros", [[[0.0, 1.5, -0.5], [0.3, 0.0, -2.0]]], True),
    ("pow_tensor", "zero bases", [[[0.0, 1.5, 0.5], [0.3, 0.0, 2.0]], [[3.0, -1.0, 0.5], [1.0, 2.5, 0.3]]], False),
    ("mul", "zeros", [[[0.0, 1.5, -0.5], [0.3, 0.0, -2.0]], [[0.0, -2.0, 0.5], [0.3, 1.2, 0.0]]], True),
    ("div", "zero numerators", [[[0.0, 1.5, -0.5], [0.3, 0.0, -2.0]], [[1.0, -2.0, 0.5], [0.3, 1.2, -1.0]]], True),
    ("logsumexp", "ties", [[[1.0, 1.0, -2.0], [0.5, 0.5, 0.5]]], True),
]
SPECIAL_IDS = [f"{name}-{what.replace(' ', '_')}" for name, what, _, _ in SPECIAL]


def _special_arrays(name, values):
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    assert [a.shape for a in arrays] == [shape for shape, _ in BY_NAME[name][1]], name
    return arrays


@pytest.mark.parametrize("name,what,values,smooth", SPECIAL, ids=SPECIAL_IDS)
def test_every_composition_gives_the_same_hessian_at_special_values(name, what, values, smooth):
    arrays = _special_arrays(name, values)
    loss, _ = _loss(BY_NAME[name][0], arrays)
    _all_compositions_agree(loss, arrays, smooth)


def test_hessian_of_prod_at_a_zero():
    """The case that was wrong: forward-over-reverse pushed tangents through the branch of prod's rule meant for a
    plain backward (the product of the others at the zero, 0 elsewhere: exact at x, not around it)."""
    x = ag.tensor([0.0, 2.0, 3.0])
    expected = [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
    for transform in (func.hessian, lambda f: func.jacrev(func.jacrev(f)), lambda f: func.jacfwd(func.jacfwd(f))):
        assert transform(lambda x: x.prod())(x).tolist() == expected
    # the same through forward_ad and a plain backward (no create_graph): the gradient's tangent is H u
    with fwAD.dual_level():
        dual = fwAD.make_dual(x.clone().requires_grad_(), ag.tensor([1.0, 0.0, 0.0]))
        (g,) = ag.autograd.grad(dual.prod(), dual)
        assert fwAD.unpack_dual(g).tangent.tolist() == expected[0]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", IDS)
def test_every_composition_gives_the_same_hessian_at_more_inputs(name, seed):
    fn, spec = BY_NAME[name]
    arrays = sample_inputs(spec, np.random.default_rng(seed))
    loss, _ = _loss(fn, arrays, seed)
    h = _all_compositions_agree(loss, arrays)
    _same(h, reverse_over_forward(loss, arrays), "hessian against jacrev(jacfwd)")


# -- against PyTorch ---------------------------------------------------------------------------------------------
# Samples that call autograd_lite's internal ops (the rules of other ops, written as ops): PyTorch has no twin.
NO_TWIN = {"tanh_backward", "sigmoid_backward", "threshold_backward", "leaky_relu_backward", "to_copy", "alias",
           "as_strided_scatter", "as_strided", "index_add_repeats"}  # (internal ops: no torch name)
# Where PyTorch's second derivative differs, and on which entries of the Hessian (a mask from the inputs). Softplus at
# exactly its threshold: PyTorch's first derivative takes the curved branch there (sigmoid) but its second derivative
# the linear one (`x < threshold` in softplus_double_backward); autograd_lite differentiates its own first
# derivative, so its second comes from the curved branch too. (At a kink: no second derivative exists.)
TORCH_DIFFERS = {("softplus_beta_threshold", "at the threshold"): lambda arrays: np.diag(arrays[0].ravel() == 0.625)}


def _torch_twin(fn, torch):
    """The sample's code run by PyTorch: its names `ag` and `F` (and its constant tensors) bound to PyTorch's."""
    names = dict(fn.__globals__)
    names.update(ag=torch, F=torch.nn.functional, _W3=torch.tensor(op_samples._W3.numpy()),
                 _MASK=torch.tensor(op_samples._MASK.numpy()), _MASK_ROW=torch.tensor(op_samples._MASK_ROW.numpy()),
                 _idx=lambda *a: torch.tensor(np.array(a)))
    return types.FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__, fn.__closure__)


def _torch_hessian(torch, name, arrays, w, outer_inner=None):
    fn = _torch_twin(BY_NAME[name][0], torch)
    weights = torch.tensor(w)
    argnums = tuple(range(len(arrays)))
    transform = outer_inner or (lambda f, a: torch.func.hessian(f, a))
    h = transform(lambda *xs: (fn(*xs) * weights).sum(), argnums)(*[torch.tensor(a) for a in arrays])
    return _as_matrix([[b.detach().numpy(force=True) for b in row] for row in h], [a.shape for a in arrays])


def _compare_with_torch(name, arrays, reverse_over_reverse_too=False, differs=None):
    """Ours against PyTorch's where PyTorch's is not NaN; on the entries `differs` marks, different (pinned)."""
    torch = pytest.importorskip("torch")
    loss, w = _loss(BY_NAME[name][0], arrays)
    pairs = [(forward_over_reverse(loss, arrays), _torch_hessian(torch, name, arrays, w), "torch.func.hessian")]
    if reverse_over_reverse_too:
        rr = _torch_hessian(torch, name, arrays, w, lambda f, a: torch.func.jacrev(torch.func.jacrev(f, a), a))
        pairs.append((reverse_over_reverse(loss, arrays), rr, "torch's jacrev(jacrev)"))
    for ours, theirs, what in pairs:
        if differs is not None:
            assert differs.any() and not np.isclose(ours[differs], theirs[differs]).any(), what
            ours, theirs = ours[~differs], theirs[~differs]
        _same_where_defined(ours, theirs, f"against {what}")


TWINS = [n for n in IDS if n not in NO_TWIN]
SPECIAL_TWINS = [pytest.param(*s, id=i) for s, i in zip(SPECIAL, SPECIAL_IDS) if s[0] not in NO_TWIN]


def _differs(name, what, arrays):
    mask = TORCH_DIFFERS.get((name, what))
    return None if mask is None else mask(arrays)


@pytest.mark.parametrize("name", TWINS)
def test_hessian_equals_torch_func_hessian_at_the_sample_inputs(name):
    _compare_with_torch(name, sample_inputs(BY_NAME[name][1], np.random.default_rng(0)))


@pytest.mark.parametrize("name,what,values,smooth", SPECIAL_TWINS)
def test_hessian_equals_torch_func_hessian_at_special_values(name, what, values, smooth):
    arrays = _special_arrays(name, values)
    _compare_with_torch(name, arrays, differs=_differs(name, what, arrays))


@pytest.mark.slow
@pytest.mark.parametrize("name", TWINS)
def test_both_hessians_equal_torchs_at_more_inputs(name):
    for seed in (1, 2):
        _compare_with_torch(name, sample_inputs(BY_NAME[name][1], np.random.default_rng(seed)), True)


@pytest.mark.slow
@pytest.mark.parametrize("name,what,values,smooth", SPECIAL_TWINS)
def test_both_hessians_equal_torchs_at_special_values(name, what, values, smooth):
    arrays = _special_arrays(name, values)
    _compare_with_torch(name, arrays, True, differs=_differs(name, what, arrays))
