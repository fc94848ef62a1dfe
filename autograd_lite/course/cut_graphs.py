r"""Pictures for notebooks 3 and 4: where `detach()` cuts a graph, and the adjoint (cotangent) that backward
carries from node to node.

    from autograd_lite.course import cut_graphs

    full = model(cut=False)            # the same computation twice: without ...
    cut = model(cut=True)              # ... and with a `.detach()` somewhere
    cut_graphs.draw_cut(full, cut, params=dict(W1=W1, W2=W2))   # the two backward graphs side by side
    cut_graphs.cut_edges(full, cut)    # [(node, input index)]: the edges that detach removed
    cut_graphs.unreached(full, cut)    # the nodes of `full` that no gradient reaches once cut

    cut_graphs.plot_adjoints([("out", v), ("a2", a2.grad), ...], ["TBackward0", ...])

`draw_cut` walks both graphs from their outputs in step (the same ops in the same order, as two runs of
one function give). Where the full graph has an edge that the cut graph lacks (a `None` in the cut
graph's `next_functions`: the input was detached), the edge is drawn red and dashed, labelled
"detach()", and every node reachable only through cut edges is greyed: backward never runs it, and a
leaf there gets no `.grad`. The picture is deterministic (ids from a breadth-first walk, never `id()`) and
renders like `viz.draw_graph` (system `dot`, else WebAssembly Graphviz, else its DOT source).
"""
from collections import deque

from ..graph import AccumulateGrad
from ..tensor import Tensor
from . import viz

CUT_EDGE = {"color": "red3", "style": "dashed", "penwidth": "2", "fontcolor": "red3", "fontsize": "10"}
UNREACHED = {"fillcolor": "grey92", "style": "filled,dashed", "color": "grey60", "fontcolor": "grey45"}
DETACHED = {"fillcolor": "white", "style": "filled,dashed", "color": "red3", "fontcolor": "red3"}


def _root(t):
    if not isinstance(t, Tensor):
        raise TypeError(f"expected a Tensor, but got {type(t).__name__}")
    if t.grad_fn is None:
        raise ValueError("the output has no grad_fn: there is no graph to draw (computed under no_grad, "
                         "or detached itself?)")
    return t.grad_fn


def _cut_pairs(full, cut):
    """[(node of full, the same node of cut, input index)] for each cut edge; see cut_edges."""
    start = (_root(full), _root(cut))
    queue, seen, edges = deque([start]), {id(start[0])}, []
    while queue:
        f_node, c_node = queue.popleft()
        if f_node.name() != c_node.name() or len(f_node.next_functions) != len(c_node.next_functions):
            raise ValueError(f"the two graphs differ in more than a cut: {f_node.name()} vs {c_node.name()}")
        for i, ((f_next, _), (c_next, _)) in enumerate(zip(f_node.next_functions, c_node.next_functions)):
            if f_next is None:
                if c_next is not None:
                    raise ValueError(f"input {i} of {f_node.name()} requires grad only in the cut graph")
                continue
            if c_next is None:
                edges.append((f_node, c_node, i))
            elif id(f_next) not in seen:
                seen.add(id(f_next))
                queue.append((f_next, c_next))
    return edges


def cut_edges(full, cut):
    """The edges of `full`'s backward graph that `cut`'s lacks, as [(node of full, input index)], in the
    order of a breadth-first walk from the output. `full` and `cut` are outputs of the same computation,
    the second with some inputs detached; any other difference raises ValueError."""
    return [(f_node, i) for f_node, _, i in _cut_pairs(full, cut)]


def _walk(root, skip=()):
    """Nodes reachable from root in breadth-first order, not following the (node id, index) edges in skip."""
    order, seen, queue = [root], {id(root)}, deque([root])
    while queue:
        node = queue.popleft()
        for i, (nxt, _) in enumerate(node.next_functions):
            if nxt is None or (id(node), i) in skip or id(nxt) in seen:
                continue
            seen.add(id(nxt))
            order.append(nxt)
            queue.append(nxt)
    return order


def unreached(full, cut):
    """Names of the nodes of `full`'s graph that backward no longer reaches once `cut`'s edges are cut
    (in breadth-first order; an `AccumulateGrad` here means that leaf gets no `.grad`)."""
    skip = {(id(n), i) for n, i in cut_edges(full, cut)}
    reached = {id(n) for n in _walk(_root(full), skip)}
    return [n.name() for n in _walk(_root(full)) if id(n) not in reached]


def _label(node, names):
    if isinstance(node, AccumulateGrad):
        name = names.get(id(node.variable))
        return f"{name}\\nAccumulateGrad" if name else "AccumulateGrad"
    return node.name()


def draw_cut(full, cut, params=None, output_name="output", titles=("without detach()", "with detach()")):
    """The backward graphs of `full` and `cut` side by side, the cut edges red and dashed in the first,
    the nodes no gradient reaches any more greyed; in the second, the detached input as a red dashed box
    (a constant for backward). Returns a `viz.Graph` (a graphviz.Digraph shown as SVG in Jupyter)."""
    names = {id(t): n for n, t in viz.params_items(params)}
    pairs = _cut_pairs(full, cut)
    skip = {(id(n), i) for n, _, i in pairs}
    detached = {(id(c_node), i): k for k, (_, c_node, i) in enumerate(pairs)}
    reached = {id(n) for n in _walk(_root(full), skip)}
    g = viz.Graph("cut", graph_attr={"rankdir": "TB", "ordering": "out", "fontsize": "11", "nodesep": "0.3", "ranksep": "0.35"},
                  node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "10"},
                  edge_attr={"fontname": "Helvetica"})
    for side, (out, title) in enumerate(zip((full, cut), titles)):
        order = _walk(_root(out))
        ids = {id(n): f"s{side}n{k}" for k, n in enumerate(order)}
        with g.subgraph(name=f"cluster_{side}") as c:
            c.attr(label=title, style="rounded", color="grey70", fontsize="12")
            c.node(f"s{side}out", output_name, **viz.STYLES["output"])
            c.edge(f"s{side}out", ids[id(order[0])])
            for node in order:
                kind = "leaf" if isinstance(node, AccumulateGrad) else "op"
                style = dict(viz.STYLES[kind])
                label = _label(node, names)
                if side == 0 and id(node) not in reached:
                    style = dict(UNREACHED)
                    label += "\\n(no gradient arrives)"
                c.node(ids[id(node)], label, **style)
            for node in order:
                for i, (nxt, _) in enumerate(node.next_functions):
                    if side == 0 and (id(node), i) in skip:
                        c.edge(ids[id(node)], ids[id(nxt)], label=" ✂ detach()", **CUT_EDGE)
                    elif side == 1 and (id(node), i) in detached:
                        k = detached[id(node), i]
                        c.node(f"s1det{k}", "detached value\\n(a constant for backward)", **DETACHED)
                        c.edge(ids[id(node)], f"s1det{k}", style="dashed", color="red3", dir="none")
                    elif nxt is not None:
                        c.edge(ids[id(node)], ids[id(nxt)])
    return g


def plot_adjoints(stages, steps, title="The adjoint (cotangent) carried backward", cmap="viridis"):
    """A row of heatmaps, one per stage of a backward pass: stages = [(label, 2-d array or tensor)], from
    the output's adjoint v to the input's, and steps = the node names between consecutive stages (one
    fewer). Each panel prints its values. Returns the matplotlib figure."""
    import matplotlib.patches
    import matplotlib.pyplot as plt
    import numpy as np

    if len(steps) != len(stages) - 1:
        raise ValueError(f"{len(stages)} stages need {len(stages) - 1} steps between them, got {len(steps)}")
    arrays = [np.asarray(a.detach().numpy() if isinstance(a, Tensor) else a, dtype=float) for _, a in stages]
    low = min(a.min() for a in arrays)
    high = max(a.max() for a in arrays)
    fig, axes = plt.subplots(1, len(stages), figsize=(3.0 * len(stages), 3.0))
    axes = np.atleast_1d(axes)
    for ax, (label, _), a in zip(axes, stages, arrays):
        ax.imshow(a, cmap=cmap, vmin=low, vmax=high)
        for (r, c), value in np.ndenumerate(a):
            ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize=7,
                    color="white" if value < (low + high) / 2 else "black")
        ax.set_title(label, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    # the gaps between panels hold the arrows and the node names: wide enough for them, and drawn on the
    # figure (not on a panel), so that the next panel cannot cover them
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.04, top=0.82, wspace=0.55)
    for ax in axes:
        ax.apply_aspect()                  # the panels' drawn boxes (square images shrink them)
    for k, step in enumerate(steps):
        left, right = axes[k].get_position(), axes[k + 1].get_position()
        x0, x1, y = left.x1, right.x0, (left.y0 + left.y1) / 2
        fig.add_artist(matplotlib.patches.FancyArrowPatch(
            (x0 + 0.1 * (x1 - x0), y), (x1 - 0.1 * (x1 - x0), y), transform=fig.transFigure,
            arrowstyle="->", mutation_scale=12, lw=1.5))
        fig.text((x0 + x1) / 2, y + 0.04, step, ha="center", va="bottom", fontsize=7)
    return fig
