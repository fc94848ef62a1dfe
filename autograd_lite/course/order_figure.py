"""The order backward runs the nodes in, as a picture (notebook 7): every node of the graph numbered by
the step at which backward runs it, with the number of edges that point into it, which is what Kahn's
algorithm counts down.

    from autograd_lite.course import order_figure

    order_figure.draw_order(out, params=dict(p=p, q=q))     # numbered in the engine's order
    order_figure.in_edges(out.grad_fn)                       # {node: edges pointing at it}

An edge is one entry of a consumer's `next_functions`: `t * t` gives two edges from `MulBackward0` into
t's `AccumulateGrad` (drawn as two arrows), so that node waits for two gradients from the same consumer.
Node numbers come from the engine's own `backward_order`, or from any `order` given (a student's), and
the picture is deterministic: node ids follow that order, never `id()`. Rendering (system `dot`, else
WebAssembly Graphviz, else the DOT source) is `viz`'s.
"""
from ..engine import backward_order
from ..graph import AccumulateGrad, gradient_edge
from ..tensor import Tensor
from . import viz

__all__ = ["in_edges", "draw_order"]


def in_edges(root):
    """{node: how many edges point at it} for every node reachable from `root` (the root gets 0).

    Edges, not consumers: a node that a consumer lists twice in its `next_functions` (`t * t`) counts
    twice. Iterative, so a long chain does not hit the recursion limit."""
    counts = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            if child not in counts:
                counts[child] = 0
                stack.append(child)
            counts[child] += 1
    return counts


def _root_of(output):
    if not isinstance(output, Tensor):
        if hasattr(output, "next_functions"):
            return output  # already a node
        raise TypeError(f"draw_order() expects a Tensor or a grad_fn node, but got {type(output).__name__}")
    node = gradient_edge(output) if output.requires_grad else None
    if node is None:
        raise ValueError("draw_order() needs a tensor that requires grad (or a grad_fn node)")
    return node


def draw_order(output, params=None, order=None, show_counts=True, rankdir="TB"):
    """Draw the graph behind `output` (a tensor, or a grad_fn node) with each node numbered by its step.

    params: names for leaves, `dict(p=p, q=q)` (matched by identity), as in `viz.draw_graph`.
    order: the order to number by (a list of nodes); by default the engine's `backward_order`. It must
        list every reachable node exactly once.
    show_counts: label each node with the number of edges pointing into it (what Kahn counts down).

    Returns a `viz.Graph` (shows itself as SVG in Jupyter; `.source` is the DOT text)."""
    root = _root_of(output)
    counts = in_edges(root)
    order = list(backward_order([root]) if order is None else order)
    if len(order) != len(counts) or set(order) != set(counts):
        raise ValueError(f"order must list each of the {len(counts)} reachable nodes exactly once, "
                         f"but lists {len(order)} entries ({len(set(order) & set(counts))} of them reachable)")
    names = {}
    for name, t in viz.params_items(params):
        names.setdefault(id(t), str(name))
    step = {node: k for k, node in enumerate(order, 1)}

    g = viz.Graph(name="backward_order",
                  graph_attr={"rankdir": rankdir, "ranksep": "0.3", "nodesep": "0.3"},
                  node_attr={"shape": "box", "fontsize": "10", "height": "0.2", "fontname": "Helvetica"},
                  edge_attr={"arrowsize": "0.7"})
    for node in order:
        if type(node) is AccumulateGrad:
            kind = "leaf"
            name = names.get(id(node.variable), "AccumulateGrad")
            if name != "AccumulateGrad":
                name = f"{name} (AccumulateGrad)"
        else:
            kind, name = "op", node.name()
        lines = [f"step {step[node]}: {name}"]
        if show_counts:
            c = counts[node]
            lines.append("the root" if node is root else f"waits for {c} edge{'s' if c != 1 else ''}")
        g.node(f"n{step[node]}", "\\n".join(lines), **viz.STYLES[kind])
    for node in order:
        for child, _ in node.next_functions:
            if child is not None:
                g.edge(f"n{step[node]}", f"n{step[child]}")
    g.nodes_total = g.nodes_drawn = len(order)
    return g
