"""The course's forward-mode numbers (autograd_lite/course/taylor.py): dual numbers with and without tags,
hyper-dual numbers and Taylor jets give exact derivatives, checked against closed forms."""
import math

import numpy as np
import pytest

from autograd_lite.course import taylor




@pytest.mark.parametrize("x", [0.3, -1.2, 2.0])
def test_dual_and_hyperdual_match_closed_forms(x):
    g = lambda t: t * taylor.sin(t)                                  # noqa: E731
    assert taylor.derivative(g, x) == pytest.approx(math.sin(x) + x * math.cos(x))
    assert taylor.second_derivative(g, x) == pytest.approx(2 * math.cos(x) - x * math.sin(x))
    assert taylor.nested_derivative(g, x, 2) == pytest.approx(2 * math.cos(x) - x * math.sin(x))
    assert taylor.nested_derivative(g, x, 3) == pytest.approx(-3 * math.sin(x) - x * math.cos(x))


def test_jet_gives_every_derivative_of_exp_sin_and_friends():
    x = 0.7
    assert taylor.derivatives(taylor.exp, x, 6) == pytest.approx([math.exp(x)] * 7)
    sin_d = [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)] * 2
    assert taylor.derivatives(taylor.sin, x, 7) == pytest.approx(sin_d)
    log_d = [math.log(x)] + [(-1) ** (j - 1) * math.factorial(j - 1) / x ** j for j in range(1, 7)]
    assert taylor.derivatives(taylor.log, x, 6) == pytest.approx(log_d)
    sqrt_d = [x ** 0.5, 0.5 * x ** -0.5, -0.25 * x ** -1.5, 0.375 * x ** -2.5]
    assert taylor.derivatives(taylor.sqrt, x, 3) == pytest.approx(sqrt_d)
    recip_d = [(-1) ** j * math.factorial(j) / x ** (j + 1) for j in range(6)]
    assert taylor.derivatives(lambda t: 1 / t, x, 5) == pytest.approx(recip_d)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_jet_agrees_with_nested_forward_mode(k):
    g = lambda t: taylor.tanh(t) * taylor.cos(t) + t ** 3 / (2 + t * t)   # noqa: E731
    x = 0.4
    assert taylor.derivatives(g, x, k)[k] == pytest.approx(taylor.nested_derivative(g, x, k), rel=1e-10)
    if k == 2:
        assert taylor.second_derivative(g, x) == pytest.approx(taylor.nested_derivative(g, x, 2), rel=1e-10)


def test_jet_works_elementwise_on_arrays():
    x = np.array([0.1, 0.5, 1.5])
    d = taylor.derivatives(lambda t: taylor.exp(2 * t), x, 3)
    for j in range(4):
        np.testing.assert_allclose(d[j], 2.0 ** j * np.exp(2 * x))


def test_jet_helper_returns_series_like_jax():
    primal, series = taylor.jet(taylor.exp, 0.0, [1.0, 0.0, 0.0])
    assert primal == pytest.approx(1.0)
    assert series == pytest.approx([1.0, 0.5, 1 / 6])                # e^t = 1 + t + t²/2 + t³/6


def test_perturbation_confusion_without_tags_and_its_fix():
    # d/dx [x · d/dy (x + y)] at x = 1: the inner derivative is 1, so the answer is 1.
    outer = lambda tagged: taylor.derivative(                        # noqa: E731
        lambda x: x * taylor.derivative(lambda y: x + y, 1.0, tagged), 1.0, tagged)
    assert outer(True) == 1.0
    assert outer(False) == 2.0                                        # the inner ε and the outer ε collide
