"""The backward-order picture of notebook 7: edges (not consumers) counted, nodes numbered in the
engine's order or a given one, repeated edges drawn twice, and the DOT source the same run after run."""
import re
import subprocess
import sys

import pytest

import autograd_lite as ag
from autograd_lite.course import order_figure
from autograd_lite.engine import backward_order
from autograd_lite.graph import AccumulateGrad

pytest.importorskip("graphviz")


def repeated_edge_graph():
    t = ag.tensor(0.5, requires_grad=True)
    return t, ag.sin(t) + t * t


def test_in_edges_counts_edges_not_consumers():
    t, out = repeated_edge_graph()
    counts = order_figure.in_edges(out.grad_fn)
    leaf = [n for n in counts if type(n) is AccumulateGrad]
    assert len(leaf) == 1 and counts[leaf[0]] == 3          # sin: one edge, t * t: two
    assert counts[out.grad_fn] == 0
    assert sorted(counts.values()) == [0, 1, 1, 3]


def test_in_edges_skips_inputs_without_grad():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    out = (a * ag.tensor([3.0, 4.0])).sum()
    counts = order_figure.in_edges(out.grad_fn)
    assert len(counts) == 3 and None not in counts


def test_in_edges_on_a_long_chain_is_iterative():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    assert len(order_figure.in_edges(y.grad_fn)) == 5001


def test_draw_order_numbers_nodes_in_the_engines_order():
    p = ag.tensor(2.0, requires_grad=True)
    q = ag.tensor(3.0, requires_grad=True)
    u = p * q
    out = u * ag.tanh(u) + ag.sin(p)
    g = order_figure.draw_order(out, params=dict(p=p, q=q))
    order = backward_order([out.grad_fn])
    labels = re.findall(r'label="step (\d+): ([^"\\]+)', g.source)
    assert [int(k) for k, _ in labels] == list(range(1, len(order) + 1))
    names = [name for _, name in labels]
    for node, name in zip(order, names):
        expected = node.name() if type(node) is not AccumulateGrad else ("p" if node.variable is p else "q")
        assert name.startswith(expected)
    assert "the root" in g.source and "waits for 2 edges" in g.source
    assert g.nodes_total == len(order)


def test_repeated_edge_drawn_twice_and_counted():
    t, out = repeated_edge_graph()
    g = order_figure.draw_order(out, params=dict(t=t))
    assert "waits for 3 edges" in g.source
    edges = re.findall(r"\b(n\d+) -> (n\d+)", g.source)
    assert len(edges) == 5                       # add->sin, add->mul, sin->t, mul->t twice
    assert len(set(edges)) == 4


def test_draw_order_with_a_given_order_and_bad_orders():
    t, out = repeated_edge_graph()
    order = backward_order([out.grad_fn])
    swapped = [order[0], order[2], order[1], order[3]]
    g = order_figure.draw_order(out.grad_fn, order=swapped)
    first = re.findall(r'label="step 2: ([A-Za-z0-9]+)', g.source)[0]
    assert first == swapped[1].name()
    with pytest.raises(ValueError, match="exactly once"):
        order_figure.draw_order(out, order=order[:-1])
    with pytest.raises(ValueError, match="exactly once"):
        order_figure.draw_order(out, order=order + [order[0]])
    with pytest.raises(ValueError, match="requires grad"):
        order_figure.draw_order(ag.tensor(1.0))
    with pytest.raises(TypeError):
        order_figure.draw_order(3.0)


def test_show_counts_off():
    t, out = repeated_edge_graph()
    assert "waits for" not in order_figure.draw_order(out, show_counts=False).source


def test_source_is_identical_across_processes():
    code = ("import autograd_lite as ag\nfrom autograd_lite.course import order_figure\n"
            "t = ag.tensor(0.5, requires_grad=True)\n"
            "print(order_figure.draw_order(ag.sin(t) + t * t, params=dict(t=t)).source)\n")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1
