"""Notebook 11's claims, checked twice: against what PyTorch 2.13 (CPU) was seen to do (recorded here, so
these run without PyTorch) and against PyTorch itself when it is installed.

* softplus (with beta, threshold) and logsumexp are finite, with finite gradients, at +-1000 in float32 and
  float64, where the naive formulas overflow;
* the gradients at non-differentiable points: relu'(0), abs'(0), sqrt'(0), ties in max / max(dim) /
  maximum / clamp, the sqrt(sum x^2) NaN at 0 and the where trap;
* the implicit-function-theorem gradient of a fixed-point layer equals the unrolled one to 1e-8 in float64.
"""
import numpy as np
import pytest

import autograd_lite as ag

LIBS = ["autograd_lite", "torch"]


def lib_named(name):
    if name == "torch":
        return pytest.importorskip("torch")
    return ag


def value_and_grad(lib, f, values, dtype):
    x = lib.tensor(values, dtype=dtype, requires_grad=True)
    y = f(lib, x)
    (g,) = lib.autograd.grad(y.sum(), x)
    return y.detach().numpy().astype(np.float64), g.numpy().astype(np.float64)


BIG = [-1000.0, -30.0, 0.0, 30.0, 1000.0]


def softplus(**kw):
    return lambda lib, x: lib.nn.functional.softplus(x, **kw)


# softplus(x) for the points of BIG, and its gradient sigmoid(beta x) (1 above the threshold)
SOFTPLUS_EXPECTED = {
    "default": ({}, [0.0, 9.357623e-14, 0.6931472, 30.0, 1000.0], [0.0, 9.357623e-14, 0.5, 1.0, 1.0]),
    "beta=2": ({"beta": 2.0}, [0.0, 4.378255e-27, 0.3465736, 30.0, 1000.0], [0.0, 8.756511e-27, 0.5, 1.0, 1.0]),
    "beta=0.5,threshold=5": ({"beta": 0.5, "threshold": 5.0}, [0.0, 6.118045e-07, 1.386294, 30.0, 1000.0],
                             [0.0, 3.059022e-07, 0.5, 1.0, 1.0]),
}


@pytest.mark.parametrize("libname", LIBS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(SOFTPLUS_EXPECTED))
def test_softplus_is_finite_at_plus_minus_1000(libname, dtype, case):
    lib = lib_named(libname)
    kw, expected_y, expected_g = SOFTPLUS_EXPECTED[case]
    y, g = value_and_grad(lib, softplus(**kw), BIG, getattr(lib, dtype))
    assert np.isfinite(y).all() and np.isfinite(g).all()
    np.testing.assert_allclose(y, expected_y, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(g, expected_g, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("libname", LIBS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_is_finite_at_plus_minus_1000(libname, dtype):
    lib = lib_named(libname)
    rows = [[1000.0, 1000.0], [-1000.0, -1000.0], [1000.0, -1000.0]]
    y, g = value_and_grad(lib, lambda lib, x: lib.logsumexp(x, 1), rows, getattr(lib, dtype))
    np.testing.assert_allclose(y, [1000 + np.log(2), -1000 + np.log(2), 1000.0], rtol=1e-7)
    np.testing.assert_allclose(g, [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]], rtol=1e-4)


@pytest.mark.parametrize("libname", LIBS)
def test_the_naive_formulas_overflow(libname):
    lib = lib_named(libname)
    y, g = value_and_grad(lib, lambda lib, x: lib.log1p(lib.exp(x)), [100.0], lib.float32)
    assert y[0] == np.inf and np.isnan(g[0])                     # inf / inf in the gradient
    y, _ = value_and_grad(lib, lambda lib, x: lib.log(lib.exp(x).sum()), [1000.0, 1000.0], lib.float64)
    assert y == np.inf


@pytest.mark.parametrize("libname", LIBS)
def test_softplus_and_logsumexp_agree_with_torch_elementwise(libname):
    lib = lib_named(libname)
    x = np.linspace(-50, 50, 41)
    for kw in ({}, {"beta": 3.0, "threshold": 4.0}):
        y, g = value_and_grad(lib, softplus(**kw), x, lib.float64)
        beta, threshold = kw.get("beta", 1.0), kw.get("threshold", 20.0)
        big = beta * x > threshold
        np.testing.assert_allclose(y, np.where(big, x, np.logaddexp(0, beta * x) / beta), rtol=1e-12)
        np.testing.assert_allclose(g, np.where(big, 1.0, 1 / (1 + np.exp(-beta * x))), rtol=1e-12)


# (expression, input, the gradient both libraries give)
NONDIFF = {
    "relu'(0)": (lambda lib, x: lib.relu(x), [0.0], [0.0]),
    "abs'(0)": (lambda lib, x: lib.abs(x), [0.0], [0.0]),
    "sqrt'(0)": (lambda lib, x: lib.sqrt(x), [0.0], [np.inf]),
    "max() tie: split evenly": (lambda lib, x: x.max(), [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
    "max(dim) tie: the returned index": (lambda lib, x: x.max(0).values, [1.0, 3.0, 3.0], [0.0, 1.0, 0.0]),
    "maximum tie: half each": (lambda lib, x: lib.maximum(x[0], x[1]), [2.0, 2.0], [0.5, 0.5]),
    "maximum(x, x)": (lambda lib, x: lib.maximum(x, x), [2.0], [1.0]),
    "clamp at its bounds": (lambda lib, x: x.clamp(0.0, 1.0), [0.0, 1.0], [1.0, 1.0]),
    "stack max, three-way tie": (lambda lib, x: lib.stack([x, x, 2 * x]).max(), [0.0], [4 / 3]),
    "clamp(min=0) at 0, unlike relu": (lambda lib, x: x.clamp(min=0.0), [0.0], [1.0]),
    "relu(x) + relu(-x) at 0": (lambda lib, x: lib.relu(x) + lib.relu(-x), [0.0], [0.0]),
    "relu(x) - relu(-x) at 0": (lambda lib, x: lib.relu(x) - lib.relu(-x), [0.0], [0.0]),
    "norm at 0": (lambda lib, x: x.norm(), [0.0, 0.0], [0.0, 0.0]),
    "sqrt(sum x^2) at 0": (lambda lib, x: lib.sqrt((x * x).sum()), [0.0, 0.0], [np.nan, np.nan]),
    "sqrt(x * x) at 0": (lambda lib, x: lib.sqrt(x * x), [0.0], [np.nan]),
    "where trap": (lambda lib, x: lib.where(x > 0, lib.sqrt(x), lib.zeros_like(x)), [0.0, 4.0], [np.nan, 0.25]),
    "double where": (lambda lib, x: lib.where(x > 0, lib.sqrt(lib.where(x > 0, x, lib.ones_like(x))),
                                              lib.zeros_like(x)), [0.0, 4.0], [0.0, 0.25]),
}


@pytest.mark.parametrize("libname", LIBS)
@pytest.mark.parametrize("case", list(NONDIFF))
def test_gradients_at_non_differentiable_points(libname, case):
    lib = lib_named(libname)
    f, values, expected = NONDIFF[case]
    _, g = value_and_grad(lib, f, values, lib.float64)
    np.testing.assert_allclose(g, expected, rtol=1e-15)


def fixed_point_gradients(lib, K, n=40, seed=0):
    """Gradients of L = c·z* for z* = tanh(W z* + x): unrolled through K iterations, and implicit (the
    adjoint equation (I - Jᵀ) u = c solved by iteration with the library's own VJPs)."""
    rng = np.random.default_rng(seed)
    W0 = rng.standard_normal((n, n))
    W0 = 0.9 * W0 / np.linalg.norm(W0, 2)
    x0, c = rng.standard_normal(n), lib.tensor(rng.standard_normal(n))

    def step(z, x, W):
        return lib.tanh(W @ z + x)

    x, W = lib.tensor(x0, requires_grad=True), lib.tensor(W0, requires_grad=True)
    z = lib.zeros(n, dtype=lib.float64)
    for _ in range(K):
        z = step(z, x, W)
    unrolled = lib.autograd.grad((c * z).sum(), (x, W))

    z_star = z.detach().requires_grad_()
    fz = step(z_star, x, W)
    u = c
    for _ in range(500):
        (jtu,) = lib.autograd.grad(fz, z_star, u, retain_graph=True)
        u_next = c + jtu
        if float((u_next - u).abs().max()) < 1e-15:
            break
        u = u_next
    implicit = lib.autograd.grad(fz, (x, W), u_next)
    return [g.numpy() for g in unrolled], [g.numpy() for g in implicit]


@pytest.mark.parametrize("libname", LIBS)
def test_implicit_gradient_equals_unrolled_at_convergence(libname):
    lib = lib_named(libname)
    unrolled, implicit = fixed_point_gradients(lib, K=300)
    for a, b in zip(unrolled, implicit):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)
    few, _ = fixed_point_gradients(lib, K=3)               # far from convergence they differ
    assert np.abs(few[0] - implicit[0]).max() > 1e-3
