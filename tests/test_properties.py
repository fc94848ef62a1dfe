"""Property tests (hypothesis): every op sample of tests/op_samples.py, at random shapes and random values
inside its domain, in float32 and float64 — the reverse rule against finite differences, the forward
rule against finite differences and against the reverse rule (adjoint), and the second derivative.

Shapes come from the sample's entry in `op_samples.SHAPES` (broadcasting, size-one and empty dims,
0-d tensors, where the op allows them); values from `op_samples.sample_inputs` with a seed that
hypothesis draws. `make test` runs a few derandomized examples per sample; `make test-deep`
(AUTOGRAD_LITE_DEEP=1) many random ones (the settings profiles are in conftest.py).

Tolerances. Finite differences are always taken in float64 (central, eps = 1e-6: truncation error
~eps² and rounding error ~1e-16/eps = 1e-10, relative to the size of the function), at the very points
the rule saw (float32 inputs are rounded first). Each comparison is scaled by the size of the terms
it adds up (`scale`), since a sum of large terms of both signs may cancel to a small number:
* float64 rules: rtol 1e-6 — the finite-difference error above, with a wide margin.
* float32 rules: rtol 1e-3 — float32 keeps ~7 digits, and a few ops in a row (softmax's
  sum-and-subtract, pow, the loss functions) lose one or two more; a wrong rule is off by O(1).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as ag
from autograd_lite.autograd import forward_ad as fwAD

from .op_samples import (
    BROADCAST,
    BROADCAST_INTO_FIRST,
    RENAME,
    RENAME_NONEMPTY,
    SAME,
    SAME_NONEMPTY,
    SAMPLES,
    SHAPES,
    sample_inputs,
)

EPS = 1e-6
RTOL = {np.float32: 1e-3, np.float64: 1e-6}
ATOL = {np.float32: 1e-5, np.float64: 1e-9}
DTYPES = [pytest.param(np.float64, id="float64"), pytest.param(np.float32, id="float32")]


# --------------------------------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------------------------------
# Hypothesis tries "simple" values first (and the quick run sees only a few examples), so the strategies
# list typical choices first: size 2 before 1, 3 and the empty 0; two dims before 1, 0 (a 0-d tensor), 3.
def _sizes(nonempty):
    return st.sampled_from([2, 1, 3] if nonempty else [2, 1, 3, 0])


def _shape(nonempty=False):
    return st.sampled_from([2, 1, 0, 3]).flatmap(lambda ndim: st.tuples(*[_sizes(nonempty)] * ndim))


@st.composite
def specs(draw, name, spec):
    """The sample's [(shape, domain)] with shapes redrawn as its SHAPES entry allows."""
    kind = SHAPES.get(name)
    if kind is None:
        return spec
    domains = [domain for _, domain in spec]
    if kind in (SAME, SAME_NONEMPTY):
        shape = draw(_shape(kind == SAME_NONEMPTY))
        return [(shape, d) for d in domains]
    if kind in (BROADCAST, BROADCAST_INTO_FIRST):
        full = draw(_shape())
        shapes = []
        for i in range(len(spec)):
            if i == 0 and kind == BROADCAST_INTO_FIRST:
                shapes.append(full)
                continue
            drop = draw(st.integers(0, len(full)))  # leading dims this input lacks
            ones = draw(st.lists(st.booleans(), min_size=len(full) - drop, max_size=len(full) - drop))  # dims of size 1
            shapes.append(tuple(1 if one else size for one, size in zip(ones, full[drop:])))
        return list(zip(shapes, domains))
    assert kind in (RENAME, RENAME_NONEMPTY), kind
    symbols = sorted({s for shape, _ in spec for s in shape if s != 1})
    sizes = {s: draw(_sizes(kind == RENAME_NONEMPTY)) for s in symbols}
    return [(tuple(sizes.get(s, s) for s in shape), d) for shape, d in spec]


# --------------------------------------------------------------------------------------------------
# evaluation helpers
# --------------------------------------------------------------------------------------------------
def _tensors(arrays, dtype, requires_grad=False):
    return [ag.tensor(a.astype(dtype), requires_grad=requires_grad) for a in arrays]


def _eval64(fn, arrays):
    with ag.no_grad():
        return np.asarray(fn(*_tensors(arrays, np.float64))._data, dtype=np.float64)


def _fd(fn, arrays, directions):
    plus = [a + EPS * u for a, u in zip(arrays, directions)]
    minus = [a - EPS * u for a, u in zip(arrays, directions)]
    return (_eval64(fn, plus) - _eval64(fn, minus)) / (2 * EPS)


def _dot(a, b):
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


def _scale(a, b):
    return float(np.sum(np.abs(np.asarray(a, np.float64) * np.asarray(b, np.float64))))


def _close(predicted, numeric, scale, dtype, what):
    tol = RTOL[dtype] * (scale + abs(numeric)) + ATOL[dtype]
    assert abs(predicted - numeric) <= tol, f"{what}: {predicted!r} vs finite differences {numeric!r} (tol {tol:.3g})"


def _grads(fn, xs, w, create_graph=False):
    return ag.autograd.grad(fn(*xs), xs, w, create_graph=create_graph, allow_unused=True, materialize_grads=True)


# --------------------------------------------------------------------------------------------------
# the property
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,spec", SAMPLES, ids=[s[0] for s in SAMPLES])
@given(data=st.data())
def test_rules_agree_with_finite_differences_and_each_other(name, fn, spec, dtype, data):
    drawn = data.draw(specs(name, spec), label="shapes")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    # the point the rules see, in their dtype; finite differences are taken in float64 at the same point
    arrays = [a.astype(dtype).astype(np.float64) for a in sample_inputs(drawn, rng)]
    u = [rng.standard_normal(a.shape) for a in arrays]  # input directions
    out64 = _eval64(fn, arrays)
    w = rng.standard_normal(out64.shape)  # output weights
    fd = _fd(fn, arrays, u)  # J u

    # reverse: <Jᵀ w, u> against <w, J u>
    xs = _tensors(arrays, dtype, requires_grad=True)
    out = fn(*xs)
    assert out.shape == out64.shape
    grads = ag.autograd.grad(out, xs, ag.tensor(w.astype(out._data.dtype)), allow_unused=True, materialize_grads=True)
    for i, (g, x) in enumerate(zip(grads, xs)):
        assert g.shape == x.shape and g.dtype is x.dtype, f"gradient {i}: {g.shape} {g.dtype} for {x.shape} {x.dtype}"
    reverse = sum(_dot(g._data, ui) for g, ui in zip(grads, u))
    reverse_scale = sum(_scale(g._data, ui) for g, ui in zip(grads, u))
    _close(reverse, _dot(w, fd), reverse_scale + _scale(w, fd), dtype, "reverse rule")

    # forward: J u as a tangent, elementwise against finite differences, and adjoint to the reverse rule
    with fwAD.dual_level():
        duals = [fwAD.make_dual(ag.tensor(a.astype(dtype)), ag.tensor(ui.astype(dtype))) for a, ui in zip(arrays, u)]
        primal, tangent = fwAD.unpack_dual(fn(*duals))
    assert tangent is not None and tangent.shape == primal.shape and tangent.dtype is primal.dtype
    t = tangent._data.astype(np.float64)
    if t.size:
        bound = RTOL[dtype] * (np.abs(fd) + np.abs(fd).max()) + ATOL[dtype]
        worst = np.argmax(np.abs(t - fd) - bound)
        assert np.all(np.abs(t - fd) <= bound), f"forward rule: {t.flat[worst]!r} vs {fd.flat[worst]!r}"
    _close(_dot(w, t), reverse, _scale(w, t) + reverse_scale, dtype, "forward rule vs reverse rule")

    # second order: d/dx <∇<w, f>, u> in a direction d, by double backward, against finite differences
    d = [rng.standard_normal(a.shape) for a in arrays]

    def grad_dot_u(arrs, as_dtype):
        leaves = _tensors(arrs, as_dtype, requires_grad=True)
        gs = _grads(fn, leaves, ag.tensor(w.astype(fn(*leaves)._data.dtype)), create_graph=True)
        return leaves, gs, sum((g * ag.tensor(ui.astype(g._data.dtype))).sum() for g, ui in zip(gs, u))

    leaves, first, s = grad_dot_u(arrays, dtype)
    if isinstance(s, ag.Tensor) and s.requires_grad:
        second = [g._data for g in ag.autograd.grad(s, leaves, allow_unused=True, materialize_grads=True)]
    else:  # linear in every input: the gradient is constant, its derivative zero
        second = [np.zeros(a.shape) for a in arrays]
    plus = grad_dot_u([a + EPS * di for a, di in zip(arrays, d)], np.float64)[2]
    minus = grad_dot_u([a - EPS * di for a, di in zip(arrays, d)], np.float64)[2]
    numeric = (float(plus) - float(minus)) / (2 * EPS)
    predicted = sum(_dot(g, di) for g, di in zip(second, d))
    first_scale = sum(_scale(g._data, ui) for g, ui in zip(first, u))  # rounding in the differenced gradient
    _close(predicted, numeric, sum(_scale(g, di) for g, di in zip(second, d)) + 1e-3 * first_scale, dtype,
           "second derivative")
