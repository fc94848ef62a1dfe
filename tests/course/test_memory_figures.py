"""course.memory_figures: the measurements and schedules of notebooks 9 and 10 (counts exact, memory loosely)."""
import itertools
from math import comb

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import autograd_lite as ag  # noqa: E402
from autograd_lite.course import memory_figures as mf  # noqa: E402


def _grads(weights):
    return [w.grad.clone() for w in weights]


@pytest.mark.parametrize("snapshots", [0, 1, 3])
def test_binomial_checkpointing_gives_the_plain_gradients_with_the_counted_evaluations(snapshots):
    weights, layers, x = mf.tanh_chain(20, width=6, batch=3)
    x.requires_grad_()
    mf.run_chain(layers, x).sum().backward()
    ref, ref_x = _grads(weights), x.grad.clone()
    for w in weights:
        w.grad = None
    x.grad = None
    counted, counter = mf.count_calls(layers)
    value = mf.binomial_checkpointing(counted, x, snapshots)
    assert value == pytest.approx(mf.run_chain(layers, x).sum().item())
    assert all(ag.equal(a, w.grad) for a, w in zip(ref, weights)) and ag.equal(ref_x, x.grad)
    memory, evaluations = mf.schedule_theory(20, "binomial", snapshots)
    assert counter[0] == round(evaluations * 20)


def test_the_binomial_schedule_is_no_worse_than_revolves_count():
    """With s snapshots and t sweeps, comb(s + t, s) steps can be reversed (Griewank 1992) with at most
    t * n - comb(s + t, t - 1) advancing steps, plus the n taped ones; the dynamic programme never needs more,
    and more snapshots never cost more evaluations."""
    cost, split = mf.binomial_schedule(60, 3)
    for s, t in itertools.product(range(1, 4), range(1, 4)):
        n = comb(s + t, s)
        if n <= 60:
            assert cost[s, n] <= t * n - comb(s + t, t - 1) + n, (s, t)
    assert cost[0, 5] == 15 and (cost[3, 2:] <= cost[2, 2:]).all() and (cost[2, 2:] <= cost[1, 2:]).all()


def test_schedule_theory_of_segments_and_none():
    assert mf.schedule_theory(1024, "none") == (1024, 1.0)
    assert mf.schedule_theory(1024, "segments", 32) == (63, (1024 + 32 * 31) / 1024)
    with pytest.raises(ValueError):
        mf.schedule_theory(8, "every")


def test_peak_memory_grows_with_depth_and_the_timeline_rises_then_falls():
    small = mf.tanh_chain(16, width=32, batch=32)
    big = mf.tanh_chain(64, width=32, batch=32)
    peaks = [mf.peak_extra_memory(lambda c=c: mf.run_chain(c[1], c[2]).sum().backward()) for c in (small, big)]
    assert peaks[1] > 3 * peaks[0]
    megabytes, kinds = mf.memory_timeline(big[1], big[2], mf.run_chain)
    assert kinds == ["forward"] * 64 + ["backward"] * 64
    top = int(np.argmax(megabytes))
    assert 60 <= top <= 68 and megabytes[-1] < megabytes[top] / 4


def test_fd_errors_and_colouring():
    forward, central = mf.fd_errors(np.sin, np.cos, 1.0, np.array([1e-2, 1e-5]))
    assert forward[0] == pytest.approx(0.5 * 1e-2 * np.sin(1.0), rel=0.05) and central[1] < 1e-9
    band = mf.banded_pattern(9, 1, 2)
    colours = mf.greedy_colouring(band)
    assert colours.max() + 1 == 4
    for row in band:  # no two columns of one colour share a row
        used = colours[row]
        assert len(used) == len(set(used.tolist()))


def test_elimination_orders_give_the_same_jacobian_as_the_path_sum():
    edges, inputs, mids, outputs = mf.random_dag(2, 4, 2, seed=3)
    index = {v: i for i, v in enumerate(inputs + mids + outputs)}
    A = np.zeros((len(index), len(index)))
    for (u, v), c in edges.items():
        A[index[v], index[u]] = c
    paths = np.linalg.inv(np.eye(len(index)) - A)  # sum over all paths of the products of the labels
    for order in (mids, mids[::-1], mids[1:] + mids[:1]):
        mults, J = mf.elimination_cost(edges, order)
        for x in inputs:
            for y in outputs:
                assert J.get((x, y), 0.0) == pytest.approx(paths[index[y], index[x]])
    assert mf.elimination_cost({("x", "v"): 2.0, ("v", "y"): 3.0}, ["v"]) == (1, {("x", "y"): 6.0})


def test_symbolic_swell_counts():
    pytest.importorskip("sympy")
    assert mf.symbolic_swell(1) == (9, 7, 7, 9)
    f_tree, df_tree, df_shared, f_shared = mf.symbolic_swell(3)
    assert df_tree > 3 * df_shared and f_tree > 2 * f_shared


def test_gradient_cost_ratio_and_the_plots_run():
    x = ag.randn(50, dtype=ag.float64, requires_grad=True)
    t_f, t_both, ratio = mf.gradient_cost_ratio(lambda x: (x.sin() * x).sum(), (x,), repeat=2)
    assert t_f > 0 and t_both > 0 and ratio > 0
    fig, axes = plt.subplots(1, 5)
    mf.plot_depth(axes[0], [1, 2], [1.0, 2.0], [0.5, 0.5])
    mf.plot_timeline(axes[1], {"a": ([0.0, 1.0], ["forward", "backward"])})
    mf.plot_schedules(axes[2], 64, {"none": (70, 1.0)}, {"none": (64, 1.0)}, [(3, 7.0), (4, 5.0)])
    mf.plot_colouring(axes[3], mf.banded_pattern(5), mf.greedy_colouring(mf.banded_pattern(5)), "band")
    mf.draw_dag(axes[4], *mf.random_dag(2, 3, 1))
    fig2, ax = plt.subplots()
    steps = np.logspace(-10, -1, 5)
    mf.plot_fd_errors(ax, steps, *mf.fd_errors(np.sin, np.cos, 1.0, steps))
    plt.close("all")
