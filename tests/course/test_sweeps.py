"""autograd_lite.course.sweeps: the numbers in the pictures are the engine's, and the pictures draw."""
import math

import matplotlib
import pytest

matplotlib.use("Agg")

from autograd_lite.course import sweeps  # noqa: E402
from autograd_lite.course.jacobian_order import cheapest_order, pass_cost  # noqa: E402


def test_sweep_numbers_follow_the_chain_rule_by_hand():
    x1, x2, u, ybar = 1.5, 0.5, (0.3, -2.0), 2.0
    data = sweeps.sweep_data(x1, x2, u, ybar)
    val, tan, cot = data["value"], data["tangent"], data["cotangent"]
    assert val["y"] == pytest.approx(x1 * x2 + math.sin(x1), rel=1e-6)
    # forward: J u with J = (x2 + cos x1, x1)
    assert tan["a"] == pytest.approx(x2 * u[0] + x1 * u[1], rel=1e-6)
    assert tan["b"] == pytest.approx(math.cos(x1) * u[0], rel=1e-5)
    assert tan["y"] == pytest.approx((x2 + math.cos(x1)) * u[0] + x1 * u[1], rel=1e-5)
    # reverse: ybar J, the two contributions to x1 added
    assert cot["a"] == cot["b"] == pytest.approx(ybar)
    assert cot["x1"] == pytest.approx(ybar * (x2 + math.cos(x1)), rel=1e-5)
    assert cot["x2"] == pytest.approx(ybar * x1, rel=1e-6)
    # the two sweeps agree: ybar (J u) = (ybar J) u
    assert ybar * tan["y"] == pytest.approx(cot["x1"] * u[0] + cot["x2"] * u[1], rel=1e-5)


def test_forward_mode_drops_pairs_once_every_reader_is_done():
    steps = sweeps.tangent_flow_data()
    assert [s[0] for s in steps] == ["x1", "x2", "b", "a", "y"]
    assert steps[2] == ("b", ["x1", "x2", "b"], [])  # x1 still needed by a
    assert steps[3] == ("a", ["b", "a"], ["x1", "x2"])
    assert steps[-1] == ("y", ["y"], ["x1", "x2", "b", "a"])
    assert max(len(held) for _, held, _ in steps) == 3


def test_bracketings_of_three_jacobians_and_their_costs():
    found = sweeps.bracketings((40, 30, 4, 30))
    assert found[0][:2] == ("(J3 (J2 J1))", 4 * 30 * 40 + 30 * 4 * 40)  # forward: cheapest here
    assert found[1][:2] == ("((J3 J2) J1)", 30 * 4 * 30 + 30 * 30 * 40)
    assert found[0][1] == cheapest_order((40, 30, 4, 30)).cost
    assert len(sweeps.bracketings((2, 3, 4, 5, 6))) == 5  # Catalan number C_3
    assert sweeps.bracketings((2, 3, 4, 5, 6))[0][1] == cheapest_order((2, 3, 4, 5, 6)).cost


def test_order_tree_of_the_hybrid():
    plan = cheapest_order([200, 400, 10, 400, 200])
    info, pos, edges = sweeps.order_tree_data(plan)
    root = info[plan.tree]
    assert root[1] == (200, 200) and root[2] == plan.cost == 2_000_000 and root[3] == "square"
    left, right = plan.tree
    assert info[left][1:] == ((200, 10), 800_000, "columns")  # J4 J3: 10 JVPs
    assert info[right][1:] == ((10, 200), 800_000, "rows")  # J2 J1: 10 VJPs
    assert len(edges) == 6 and pos[4][0] < pos[1][0]


def test_pass_cost_of_the_autoencoder():
    widths = [200, 400, 10, 400, 200]
    one_pass = 200 * 400 + 400 * 10 + 10 * 400 + 400 * 200
    assert pass_cost(widths, 0) == (200 * one_pass, 0) == pass_cost(widths, 4)[:1] + (0,)
    assert pass_cost(widths) == (10 * 84_000 + 10 * 84_000 + 200 * 10 * 200, 2)
    assert round(pass_cost(widths, 0)[0] / pass_cost(widths)[0]) == 16
    assert pass_cost([1000, 1])[1] == 1  # a scalar output: reverse mode


@pytest.mark.parametrize("draw", [
    lambda: sweeps.draw_sweeps(),
    lambda: sweeps.draw_tangent_flow(u=(0.0, 1.0)),
    lambda: sweeps.draw_bracketings((8, 4, 2, 1)),
    lambda: sweeps.draw_order_tree(cheapest_order([200, 400, 10, 400, 200])),
    lambda: sweeps.draw_order_tree(cheapest_order([30, 35, 15, 5, 10, 20, 25])),
])
def test_pictures_draw(draw):
    import matplotlib.pyplot as plt

    fig = draw()
    assert fig.axes
    fig.canvas.draw()
    plt.close(fig)


def test_draw_bracketings_wants_three_jacobians():
    with pytest.raises(ValueError):
        sweeps.draw_bracketings((2, 3, 4))
