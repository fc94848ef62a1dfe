"""autograd_lite.course.jacobian_order: the matrix-chain optimum on textbook examples, and the chain Jacobian in any order."""
import doctest
import itertools

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import jacobian_order
from autograd_lite.func import jacrev
from autograd_lite.course.jacobian_order import chain_jacobian, cheapest_order


def all_bracketing_costs(widths):
    """Every bracketing's cost, exhaustively (small chains only): all[(i, j)] holds the cost of each way to
    form J_j ... J_{i+1}. A check of the dynamic programme's bookkeeping, not a copy of it: nothing is minimised."""
    k = len(widths) - 1
    costs = {(i, i + 1): [0] for i in range(k)}
    for length in range(2, k + 1):
        for i in range(k - length + 1):
            j = i + length
            costs[(i, j)] = [a + b + widths[j] * widths[s] * widths[i]
                             for s in range(i + 1, j) for a in costs[(s, j)] for b in costs[(i, s)]]
    return costs[(0, k)]


@pytest.mark.parametrize("widths,cost", [
    ([30, 35, 15, 5, 10, 20, 25], 15125),  # CLRS 15.2: ((A1 (A2 A3)) ((A4 A5) A6))
    ([10, 100, 5, 50], 7500),  # CLRS 15.2: ((A1 A2) A3)
    ([5, 10, 3, 12, 5, 50, 6], 2010),  # CLRS exercise 15.2-1
    ([40, 20, 30, 10, 30], 26000),
    ([10, 20, 30, 40, 30], 30000),
])
def test_textbook_optima(widths, cost):
    plan = cheapest_order(widths)
    assert plan.cost == cost == min(all_bracketing_costs(widths))
    assert cheapest_order(widths[::-1]).cost == cost  # the transposed chain costs the same


def test_clrs_bracketing_and_the_pure_modes():
    plan = cheapest_order([30, 35, 15, 5, 10, 20, 25])
    # CLRS multiplies A1..A6 with A_i of size p_{i-1} x p_i: our J_i is A_i transposed, so the bracketing mirrors.
    assert plan.order == "((J6 (J5 J4)) ((J3 J2) J1))" and plan.mode == "hybrid"
    assert cheapest_order([25, 20, 10, 5, 15, 35, 30]).order == "((J6 (J5 J4)) ((J3 J2) J1))"
    # forward: 25·20·30 + 10·25·30 ... written out for widths d = 30, 35, 15, 5, 10, 20, 25
    d = plan.widths
    assert plan.forward_cost == sum(d[i] * d[i - 1] * d[0] for i in range(2, 7)) == 40500
    assert plan.reverse_cost == sum(d[6] * d[i] * d[i - 1] for i in range(1, 6)) == 47500


def test_pure_modes_win_where_the_textbook_says():
    many_inputs = cheapest_order([1000, 100, 10, 1])  # a loss: m = 1
    assert many_inputs.mode == "reverse" and many_inputs.order == "((J3 J2) J1)"
    assert many_inputs.cost == many_inputs.reverse_cost == 101000 < many_inputs.forward_cost
    many_outputs = cheapest_order([1, 10, 100, 1000])
    assert many_outputs.mode == "forward" and many_outputs.order == "(J3 (J2 J1))"
    bottleneck = cheapest_order([100, 1000, 10, 1000, 100])  # wide -> narrow -> wide
    assert bottleneck.order == "((J4 J3) (J2 J1))" and bottleneck.mode == "hybrid"
    assert bottleneck.cost == 2_100_000 < bottleneck.forward_cost == bottleneck.reverse_cost == 12_000_000


def test_single_layer_and_bad_widths():
    plan = cheapest_order([3, 4])
    assert (plan.order, plan.cost, plan.forward_cost, plan.reverse_cost) == ("J1", 0, 0, 0)
    with pytest.raises(ValueError, match="at least an input and an output width"):
        cheapest_order([3])


def _chain(widths, seed):
    rng = np.random.default_rng(seed)
    weights = [ag.tensor(rng.standard_normal((d_out, d_in)) / np.sqrt(d_in)) for d_in, d_out in itertools.pairwise(widths)]
    return [lambda h, w=w: ag.tanh(w @ h) for w in weights]


@pytest.mark.parametrize("widths", [[6, 8, 2, 7, 5], [9, 3, 4], [2, 5, 7, 3, 1], [4, 4]])
def test_chain_jacobian_in_every_order_equals_jacrev(widths):
    layers = _chain(widths, 11)
    x = ag.tensor(np.random.default_rng(12).standard_normal(widths[0]))

    def whole(h):
        for layer in layers:
            h = layer(h)
        return h

    expected = jacrev(whole)(x).numpy()
    for order in (None, "forward", "reverse", cheapest_order(widths)):
        np.testing.assert_allclose(chain_jacobian(layers, x, order).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_chain_jacobian_keeps_shapes_and_checks_its_order():
    layers = [lambda h: h.reshape(6) * 2.0, lambda h: h.sum().reshape(())]  # (2, 3) -> 6 -> scalar
    x = ag.ones(2, 3)
    J = chain_jacobian(layers, x)
    assert J.shape == (2, 3) and J.tolist() == [[2.0] * 3] * 2
    with pytest.raises(ValueError, match="this order is for widths"):
        chain_jacobian(layers, x, cheapest_order([6, 5, 1]))
    with pytest.raises(ValueError, match="order must be None"):
        chain_jacobian(layers, x, "sideways")


def test_the_module_examples_run():
    results = doctest.testmod(jacobian_order)
    assert results.attempted > 0 and results.failed == 0  # attempted: the examples are still there
