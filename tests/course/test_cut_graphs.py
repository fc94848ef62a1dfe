"""cut_graphs: the edges detach() cuts and the nodes no gradient reaches, found by walking both graphs in
step; the DOT source is deterministic and marks them; the adjoint plot has one panel per stage."""
import subprocess
import sys
import textwrap

import pytest

import autograd_lite as ag
from autograd_lite.course import cut_graphs

pytest.importorskip("graphviz")


def frozen_model(cut):
    rg = ag.Generator().manual_seed(0)
    x = ag.ones(5)
    w1 = ag.randn(5, 4, generator=rg, requires_grad=True)
    w2 = ag.randn(4, 1, generator=rg, requires_grad=True)
    h = ag.tanh(x @ w1)
    if cut:
        h = h.detach()
    return (h @ w2).sum(), w1, w2


def test_a_detached_branch_is_one_cut_edge_and_its_nodes_are_unreached():
    full, w1, _ = frozen_model(False)
    cut, _, _ = frozen_model(True)
    edges = cut_graphs.cut_edges(full, cut)
    assert [(n.name(), i) for n, i in edges] == [("MmBackward0", 0)]
    lost = cut_graphs.unreached(full, cut)
    assert "TanhBackward0" in lost and lost[-1] == "torch::autograd::AccumulateGrad"
    # and that is what backward does: no gradient reaches w1 through the cut graph
    cut.backward()
    assert w1.grad is None


def test_a_cut_edge_to_a_node_still_reached_another_way_loses_no_node():
    t = ag.tensor(3.0, requires_grad=True)
    assert [(n.name(), i) for n, i in cut_graphs.cut_edges(t * t, t * t.detach())] == [("MulBackward0", 1)]
    assert cut_graphs.unreached(t * t, t * t.detach()) == []


def test_graphs_that_differ_in_more_than_a_cut_are_refused():
    t = ag.tensor(3.0, requires_grad=True)
    with pytest.raises(ValueError, match="more than a cut"):
        cut_graphs.cut_edges(t * t, t + t)
    with pytest.raises(ValueError, match="no grad_fn"):
        cut_graphs.cut_edges(t * t, (t * t).detach())
    with pytest.raises(TypeError):
        cut_graphs.cut_edges(t * t, 3.0)


def test_the_picture_marks_the_cut_and_the_lost_branch():
    full, w1, w2 = frozen_model(False)
    cut, _, _ = frozen_model(True)
    src = cut_graphs.draw_cut(full, cut, params=dict(W1=w1, W2=w2)).source
    assert src.count("detach()") >= 3              # two cluster titles and the cut edge's label
    assert src.count("no gradient arrives") == 5   # unsqueeze, tanh, squeeze, mm, W1's AccumulateGrad
    assert "W1\\nAccumulateGrad\\n(no gradient arrives)" in src
    assert "detached value" in src and "0x" not in src


def test_the_dot_source_is_the_same_in_another_process():
    code = textwrap.dedent("""
        import autograd_lite as ag
        from autograd_lite.course import cut_graphs
        rg = ag.Generator().manual_seed(0)
        x = ag.ones(5)
        w1 = ag.randn(5, 4, generator=rg, requires_grad=True)
        w2 = ag.randn(4, 1, generator=rg, requires_grad=True)
        def out(cut):
            h = ag.tanh(x @ w1)
            return ((h.detach() if cut else h) @ w2).sum()
        print(cut_graphs.draw_cut(out(False), out(True), params=dict(W1=w1, W2=w2)).source)
    """)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and "cluster_0" in runs[0]


def test_plot_adjoints_draws_one_panel_per_stage():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    v = ag.arange(4.0).reshape(2, 2)
    fig = cut_graphs.plot_adjoints([("v", v), ("v.T", v.t()), ("2 v.T", 2 * v.t())], ["TBackward0", "MulBackward0"])
    assert len(fig.axes) == 3
    assert [a.get_title() for a in fig.axes] == ["v", "v.T", "2 v.T"]
    with pytest.raises(ValueError, match="need 2 steps"):
        cut_graphs.plot_adjoints([("v", v), ("v.T", v.t()), ("w", v)], ["TBackward0"])


def test_plot_adjoints_puts_the_step_names_in_the_gaps_between_panels():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    v = ag.arange(4.0).reshape(2, 2)
    fig = cut_graphs.plot_adjoints([("v", v), ("v.T", v.t()), ("2 v.T", 2 * v.t())], ["TBackward0", "MulBackward0"])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    panels = [a.get_window_extent(renderer) for a in fig.axes]
    labels = [t for t in fig.texts if t.get_text() in ("TBackward0", "MulBackward0")]
    assert len(labels) == 2
    for k, label in enumerate(labels):       # each name fits between panel k and panel k + 1, uncovered
        box = label.get_window_extent(renderer)
        assert panels[k].x1 < box.x0 and box.x1 < panels[k + 1].x0
