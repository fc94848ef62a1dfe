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
# tolerances (the finite differences, vᵀJ, J u and second derivatives come from tests/rule_check.py)
# --------------------------------------------------------------------------------------------------
def _scale(a, b):
    return float(np.sum(np.abs(np.asarray(a, np.float64) * np.asarray(b, np.float64))))


def _close(predicted, numeric, scale, dtype, what):
    tol = RTOL[dtype] * (scale + abs(numeric)) + ATOL[dtype]
    assert abs(predicted - numeric) <= tol, f"{what}: {predicted!r} vs finite differences {numeric!r} (tol {tol:.3g})"


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
    u = random_directions(arrays, rng)  # input directions
    out64 = value_float64(fn, arrays)
    w = rng.standard_normal(out64.shape)  # output weights
    fd = fd_directional(fn, arrays, u)  # J u

    # reverse: <Jᵀ w, u> against <w, J u>
    xs = leaves(arrays, dtype)
    out = fn(*xs)
    assert out.shape == out64.shape
    grads = vjp(out, xs, w)
    for i, (g, x) in enumerate(zip(grads, xs)):
        assert g.shape == x.shape and g.dtype is x.dtype, f"gradient {i}: {g.shape} {g.dtype} for {x.shape} {x.dtype}"
    reverse = sum(dot(g._data, ui) for g, ui in zip(grads, u))
    reverse_scale = sum(_scale(g._data, ui) for g, ui in zip(grads, u))
    _close(reverse, dot(w, fd), reverse_scale + _scale(w, fd), dtype, "reverse rule")

    # forward: J u as a tangent, elementwise against finite differences, and adjoint to the reverse rule
    primal, tangent = jvp(fn, arrays, u, dtype)
    assert tangent is not None and tangent.shape == primal.shape and tangent.dtype is primal.dtype
    t = tangent._data.astype(np.float64)
    if t.size:
        bound = RTOL[dtype] * (np.abs(fd) + np.abs(fd).max()) + ATOL[dtype]
        worst = np.argmax(np.abs(t - fd) - bound)
        assert np.all(np.abs(t - fd) <= bound), f"forward rule: {t.flat[worst]!r} vs {fd.flat[worst]!r}"
    _close(dot(w, t), reverse, _scale(w, t) + reverse_scale, dtype, "forward rule vs reverse rule")

    # second order: d/dx <∇<w, f>, u> in a direction d, by double backward, against finite differences
    d = random_directions(arrays, rng)
    xs, first, s = vjp_dot(fn, arrays, w, u, dtype)
    second = vjp_dot_grads(s, xs)  # zeros when f is linear in every input (the gradient is constant)
    numeric = fd_vjp_dot(fn, arrays, w, u, d)
    predicted = sum(dot(g, di) for g, di in zip(second, d))
    first_scale = sum(_scale(g._data, ui) for g, ui in zip(first, u))  # rounding in the differenced gradient
    _close(predicted, numeric, sum(_scale(g, di) for g, di in zip(second, d)) + 1e-3 * first_scale, dtype,
           "second derivative")
