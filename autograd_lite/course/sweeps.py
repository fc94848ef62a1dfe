"""Pictures of the two sweeps of automatic differentiation, and of the orders of a Jacobian chain.

    draw_sweeps(x1, x2, u, ybar)    one small graph, f(x1, x2) = x1 * x2 + sin(x1), twice: forward mode
                                    (tangents flow from the inputs to the output, with the values) and
                                    reverse mode (cotangents flow back from the output to the inputs)
    draw_tangent_flow(x1, x2, u)    forward mode step by step: which (value, tangent) pairs are computed,
                                    which are still held, which can already be dropped
    draw_bracketings(widths)        the two bracketings of J3 J2 J1, matrices to scale, each product's cost
    draw_order_tree(plan)           a bracketing (for example the hybrid order) as a tree: each product's
                                    shape, cost, and whether it is cheaper as rows (VJPs) or columns (JVPs)

Every number in the pictures is computed when they are drawn: values and tangents by the engine's forward
mode (`forward_ad`), cotangents by `backward()`, costs by `jacobian_order`. The `*_data` functions return
those numbers without drawing (the tests and the notebooks' checks read them). The figures are matplotlib
figures drawn without randomness, so a notebook that shows them gives the same output on every run.
"""
import math

from .. import autograd
from ..autograd import forward_ad as fwAD
from ..tensor import tensor
from .jacobian_order import _fold, _text, _tree_cost

__all__ = ["bracketings", "draw_bracketings", "draw_order_tree", "draw_sweeps", "draw_tangent_flow",
           "order_tree_data", "sweep_data"]

FORWARD_COLOR = "#1f77b4"  # tangents, JVPs, columns
REVERSE_COLOR = "#d62728"  # cotangents, VJPs, rows
GREY = "#9a9a9a"

# The small graph: f(x1, x2) = x1 * x2 + sin(x1), Griewank and Walther's favourite kind of example. Each
# node: (name, how it is computed, its inputs, the local partial derivative along each input edge, as text).
NODES = [
    ("x1", "input", (), ()),
    ("x2", "input", (), ()),
    ("a", "a = x1 · x2", ("x1", "x2"), ("x2", "x1")),
    ("b", "b = sin x1", ("x1",), ("cos x1",)),
    ("y", "y = a + b", ("a", "b"), ("1", "1")),
]
POSITIONS = {"x1": (0.0, 1.3), "x2": (0.0, 0.0), "a": (1.7, 0.0), "b": (1.7, 1.3), "y": (3.4, 0.65)}
TEX = {"x1": "x_1", "x2": "x_2", "a": "a", "b": "b", "y": "y"}
HOW = {"x1": "input $x_1$", "x2": "input $x_2$", "a": "$a = x_1 x_2$", "b": r"$b = \sin x_1$", "y": "$y = a + b$"}
PARTIAL = {"x2": "$x_2$", "x1": "$x_1$", "cos x1": r"$\cos x_1$", "1": "$1$"}


def _dot(name):
    return rf"$\dot{{{TEX[name]}}}$"


def _bar(name):
    return rf"$\bar{{{TEX[name]}}}$"


def _program(x1, x2):
    a = x1 * x2
    b = x1.sin()
    return {"x1": x1, "x2": x2, "a": a, "b": b, "y": a + b}


def sweep_data(x1=1.5, x2=0.5, u=(1.0, 0.0), ybar=1.0):
    """The numbers of the two sweeps on f(x1, x2) = x1 * x2 + sin(x1), computed by the engine.

    Returns {"value": {node: float}, "tangent": {node: float}, "cotangent": {node: float},
    "partial": {(input, node): float}}: tangents by forward mode with the input direction u = (u1, u2),
    cotangents (adjoints) by backward() with the output weight ybar. The tangent of y is J u, the
    cotangents of x1 and x2 are ybar J.
    """
    values, tangents = {}, {}
    with fwAD.dual_level():
        duals = [fwAD.make_dual(tensor(float(v)), tensor(float(d))) for v, d in zip((x1, x2), u)]
        for name, t in _program(*duals).items():
            primal, tangent = fwAD.unpack_dual(t)
            values[name], tangents[name] = float(primal), float(tangent)

    leaves = [tensor(float(x1), requires_grad=True), tensor(float(x2), requires_grad=True)]
    nodes = _program(*leaves)
    inner = [nodes[n] for n in ("a", "b")]
    grads = autograd.grad(nodes["y"], leaves + inner, grad_outputs=tensor(float(ybar)))
    cotangents = {"y": float(ybar)}
    cotangents.update({n: float(g) for n, g in zip(("x1", "x2", "a", "b"), grads)})

    partial = {("x1", "a"): values["x2"], ("x2", "a"): values["x1"], ("x1", "b"): math.cos(values["x1"]),
               ("a", "y"): 1.0, ("b", "y"): 1.0}
    return {"value": values, "tangent": tangents, "cotangent": cotangents, "partial": partial}


# --------------------------------------------------------------------------------------------
# Drawing helpers (matplotlib is imported only when a picture is drawn)
# --------------------------------------------------------------------------------------------


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _box(ax, xy, text, color, face="white", alpha=1.0, width=1.05, height=0.62, fontsize=9, bold=False):
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.03",
                                facecolor=face, edgecolor=color, linewidth=2.2 if bold else 1.4, alpha=alpha))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, alpha=max(alpha, 0.45),
            family="DejaVu Sans")


def _arrow(ax, start, end, color, label=None, alpha=1.0, shrink=0.5, label_side=0.12):
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    sx, sy = x0 + dx * shrink / length, y0 + dy * shrink / length
    ex, ey = x1 - dx * shrink / length, y1 - dy * shrink / length
    ax.annotate("", xy=(ex, ey), xytext=(sx, sy), alpha=alpha,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=1.8, mutation_scale=14))
    if label:
        mx, my = (sx + ex) / 2, (sy + ey) / 2
        nx, ny = -dy / length, dx / length  # to the left of the arrow
        ax.text(mx + nx * label_side, my + ny * label_side, label, ha="center", va="center", fontsize=8,
                color=color, alpha=alpha, bbox=dict(facecolor="white", edgecolor="none", pad=0.5))


def _frame(ax, title, xlim=(-0.6, 4.0), ylim=(-0.4, 1.7)):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def _edges():
    for name, _, inputs, partials in NODES:
        for source, partial in zip(inputs, partials):
            yield source, name, partial


def draw_sweeps(x1=1.5, x2=0.5, u=(1.0, 0.0), ybar=1.0):
    """Forward mode and reverse mode on the same graph, side by side; returns the matplotlib figure.

    Left: each node carries its value and its tangent (v, v̇); tangents flow along the edges from the
    inputs to y, each edge multiplying by its local partial derivative, in the same pass as the values.
    Right: after a forward pass that keeps the values, cotangents (adjoints, v̄) flow against the edges from
    y back to the inputs; where a node feeds two others (x1), the contributions add up.
    """
    data = sweep_data(x1, x2, u, ybar)
    val, tan, cot = data["value"], data["tangent"], data["cotangent"]
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    fwd, rev = axes

    for source, target, partial in _edges():
        _arrow(fwd, POSITIONS[source], POSITIONS[target], FORWARD_COLOR, "× " + PARTIAL[partial])
        _arrow(rev, POSITIONS[target], POSITIONS[source], REVERSE_COLOR, "× " + PARTIAL[partial])
    for name, *_ in NODES:
        _box(fwd, POSITIONS[name], f"{HOW[name]}\nvalue {val[name]:.3f}\n{_dot(name)} = {tan[name]:.3f}",
             FORWARD_COLOR, bold=name == "y")
        _box(rev, POSITIONS[name], f"{HOW[name]}\nvalue {val[name]:.3f} (kept)\n{_bar(name)} = {cot[name]:.3f}",
             REVERSE_COLOR, bold=name in ("x1", "x2"))
    _frame(fwd, f"Forward mode: one pass, inputs \u2192 output, values and tangents together\n"
                rf"seed $(\dot x_1, \dot x_2) = u = ({u[0]:g}, {u[1]:g})$; get $\dot y = J u$ = {tan['y']:.3f}")
    _frame(rev, f"Reverse mode: a forward pass that keeps the values, then output \u2192 inputs\n"
                rf"seed $\bar y$ = {ybar:g}; get $(\bar x_1, \bar x_2) = \bar y J$ = ({cot['x1']:.3f}, {cot['x2']:.3f})")
    fig.text(0.5, 0.03, rf"$f(x_1, x_2) = x_1 x_2 + \sin x_1$ at $(x_1, x_2)$ = ({val['x1']:g}, {val['x2']:g}).  "
             r"Edge labels: the local partial derivative.  $x_1$ feeds two nodes: in reverse mode the two "
             r"contributions add up, $\bar x_1 = \bar a\, x_2 + \bar b \cos x_1$.", ha="center", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


# The forward pass in the order it runs: at each step one node gets its value and tangent.
_STEPS = ["x1", "x2", "b", "a", "y"]


def tangent_flow_data():
    """For each step of forward mode: (node computed, nodes whose value and tangent are still needed
    afterwards, nodes already dropped). A pair can be dropped once every node that reads it is computed."""
    readers = {name: [n for n, _, inputs, _ in NODES if name in inputs] for name, *_ in NODES}
    steps, done = [], []
    for name in _STEPS:
        done.append(name)
        held = [n for n in done if n == "y" or any(r not in done for r in readers[n])]
        dropped = [n for n in done if n not in held]
        steps.append((name, held, dropped))
    return steps


def draw_tangent_flow(x1=1.5, x2=0.5, u=(1.0, 0.0)):
    """Forward mode as it runs, one panel per operation; returns the matplotlib figure.

    In each panel the node just computed (bold) gets its value and tangent from its inputs' values and
    tangents; nodes drawn faint are not computed yet; nodes drawn grey have been read by every node that
    needs them, so forward mode can forget them: it never holds more than a few (value, tangent) pairs.
    """
    data = sweep_data(x1, x2, u)
    val, tan = data["value"], data["tangent"]
    plt = _plt()
    steps = tangent_flow_data()
    fig, grid = plt.subplots(2, 3, figsize=(12, 6.4))
    axes = grid.ravel()
    for index, (ax, (current, held, dropped)) in enumerate(zip(axes, steps), 1):
        done = set(held) | set(dropped)
        for source, target, partial in _edges():
            if target == current:
                _arrow(ax, POSITIONS[source], POSITIONS[target], FORWARD_COLOR, "× " + PARTIAL[partial])
            elif target in done:
                _arrow(ax, POSITIONS[source], POSITIONS[target], GREY, alpha=0.5)
            else:
                _arrow(ax, POSITIONS[source], POSITIONS[target], GREY, alpha=0.15)
        for name, how, _, _ in NODES:
            if name in held:
                text, color, face, alpha = (f"${TEX[name]}$ = {val[name]:.2f}\n{_dot(name)} = {tan[name]:.2f}",
                                             FORWARD_COLOR, "#e8f1fa", 1.0)
            elif name in dropped:
                text, color, face, alpha = f"${TEX[name]}$\n(dropped)", GREY, "#f2f2f2", 0.8
            else:
                text, color, face, alpha = f"${TEX[name]}$", GREY, "white", 0.3
            _box(ax, POSITIONS[name], text, color, face=face, alpha=alpha, width=1.1, height=0.6, fontsize=9,
                 bold=name == current)
        rule = {"x1": rf"seed $\dot x_1 = u_1$ = {u[0]:g}", "x2": rf"seed $\dot x_2 = u_2$ = {u[1]:g}",
                "b": r"$\dot b = \cos(x_1)\,\dot x_1$", "a": r"$\dot a = x_2\,\dot x_1 + x_1\,\dot x_2$",
                "y": r"$\dot y = \dot a + \dot b$"}[current]
        title = f"step {index}: {HOW[current]}\n{rule}\nheld: {len(held)} pair{'s' if len(held) != 1 else ''}"
        _frame(ax, title)
        ax.title.set_fontsize(9)
    axes[-1].axis("off")
    axes[-1].text(0.0, 0.5, "Bold: the node computed at this step,\nits value and tangent from its inputs'.\n\n"
                  "Blue: (value, tangent) pairs still held:\nsome node not yet computed reads them.\n\n"
                  "Grey: dropped, every reader is done.\nFaint: not computed yet.\n\n"
                  rf"At the end $\dot y = J u$ = {tan['y']:.3f}, and nothing is" "\nrecorded for a later pass.",
                  fontsize=10, va="center")
    fig.suptitle("Forward mode step by step: each operation computes its value and its tangent together",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


# --------------------------------------------------------------------------------------------
# The orders of a Jacobian chain
# --------------------------------------------------------------------------------------------


def _all_trees(i, j):
    """Every bracketing of J_j ... J_{i+1} as nested pairs of layer numbers (J_j leftmost)."""
    if j - i == 1:
        return [j]
    return [(left, right) for s in range(i + 1, j) for left in _all_trees(s, j) for right in _all_trees(i, s)]


def bracketings(widths):
    """Every bracketing of the chain with these widths [n, d1, ..., m], as (text, cost, tree), cheapest
    first (ties: in the order of the bracketings' text). Costs as in `jacobian_order`: a (p x q)(q x r)
    product costs pqr multiply-adds, each layer's own Jacobian J_i taken as given."""
    widths = tuple(int(d) for d in widths)
    k = len(widths) - 1
    found = [(_text(t), _tree_cost(t, widths), t) for t in _all_trees(0, k)]
    return sorted(found, key=lambda item: (item[1], item[0]))


def _products(tree, widths):
    """The products of a bracketing in the order they are done: (text, rows, inner, columns, cost)."""
    steps = []

    def product(left, right):
        (ltext, s, j), (rtext, i, _) = left, right
        steps.append((f"{ltext} {rtext}", widths[j], widths[s], widths[i], widths[j] * widths[s] * widths[i]))
        return f"({ltext} {rtext})", i, j

    _fold(tree, lambda n: (f"J{n}", n - 1, n), product)
    return steps


def _matrix(ax, x, y, rows, cols, scale, color, label):
    """A rows x cols matrix drawn to scale, its top left corner at (x, y); returns its right edge."""
    from matplotlib.patches import Rectangle

    h, w = max(rows * scale, 0.04), max(cols * scale, 0.04)
    ax.add_patch(Rectangle((x, y - h), w, h, facecolor=color, edgecolor="black", linewidth=1, alpha=0.55))
    ax.text(x + w / 2, y + 0.05, label, ha="center", va="bottom", fontsize=8.5)
    return x + w


def draw_bracketings(widths=(40, 30, 4, 30)):
    """The two bracketings of J3 J2 J1 for a chain with `widths` [n, d1, d2, m], to scale; returns the figure.

    Each row: the three Jacobians as rectangles (J_i is d_i x d_{i-1}), then the products in the order
    the bracketing does them, each with its shape and its cost pqr, and the total. (J3 J2) J1 is reverse
    mode (from the output side), J3 (J2 J1) forward mode (from the input side).
    """
    widths = tuple(int(d) for d in widths)
    if len(widths) != 4:
        raise ValueError(f"draw_bracketings draws a chain of three Jacobians: 4 widths, got {list(widths)}")
    options = sorted(bracketings(widths), key=lambda item: item[0] != "((J3 J2) J1)")  # reverse first
    plt = _plt()
    fig, axes = plt.subplots(len(options), 1, figsize=(11, 2.6 * len(options)))
    scale = 1.0 / max(widths)
    names = {"((J3 J2) J1)": "reverse mode (from the output side)", "(J3 (J2 J1))": "forward mode (from the input side)"}
    cheapest = min(cost for _, cost, _ in options)
    for ax, (text, cost, tree) in zip(axes, options):
        x, top = 0.0, 1.05
        middle = top - max(widths[1:]) * scale / 2
        for n in (3, 2, 1):
            rows, cols = widths[n], widths[n - 1]
            x = _matrix(ax, x, top, rows, cols, scale, "#bbbbbb", f"J{n}\n{rows}×{cols}") + 0.08
        x += 0.15
        for step, (what, p, q, r, c) in enumerate(_products(tree, widths), 1):
            ax.text(x, middle, "\u2192", fontsize=16, ha="left", va="center")
            x += 0.2
            color = REVERSE_COLOR if text == "((J3 J2) J1)" else FORWARD_COLOR
            right = _matrix(ax, x, top, p, r, scale, color, f"step {step}: {what}\n{p}×{r}")
            ax.text(x, top - max(p * scale, 0.04) - 0.08, f"({p}×{q})({q}×{r}):\n{p}·{q}·{r} = {c:,}",
                    ha="left", va="top", fontsize=8.5)
            x = max(right, x + 0.7) + 0.25
        star = "  \u2190 cheapest" if cost == cheapest else ""
        ax.text(x + 0.1, middle, f"total {cost:,} multiply-adds{star}", fontsize=10, va="center",
                fontweight="bold" if cost == cheapest else "normal")
        ax.set_title(f"{text}: {names.get(text, 'hybrid')}", fontsize=10, loc="left")
        ax.set_xlim(-0.05, x + 1.6)
        ax.set_ylim(-0.15, 1.4)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle(f"J = J3 J2 J1 for widths n = {widths[0]} \u2192 {widths[1]} \u2192 {widths[2]} \u2192 "
                 f"m = {widths[3]}: the same matrix, two bracketings, two prices", fontsize=11)
    fig.tight_layout()
    return fig


def order_tree_data(plan):
    """The tree of a `JacobianOrder`: ({node: (label, shape, cost, kind)}, {node: (x, y)}, [(parent, child)]).

    Nodes are the bracketing's sub-trees. A leaf is a layer's Jacobian J_i (kind "layer"); a product of
    shape p x r is kind "rows" when p < r (cheapest as p reverse passes, VJPs, one per row), "columns"
    when r < p (r forward passes, JVPs), "square" otherwise. x places the leaves J_k ... J_1 left to right,
    y is the height of the sub-tree (leaves at 0).
    """
    widths = plan.widths
    info, pos, edges = {}, {}, []
    leaf_x = {n: len(widths) - 1 - n for n in range(1, len(widths))}  # J_k leftmost

    stack, heights = [(plan.tree, False)], {}
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, int):
            info[node] = (f"J{node}", (widths[node], widths[node - 1]), 0, "layer")
            pos[node] = (float(leaf_x[node]), 0.0)
            heights[node] = 0
        elif children_done:
            left, right = node
            rows, cols = info[left][1][0], info[right][1][1]
            cost = info[left][2] + info[right][2] + rows * info[left][1][1] * cols
            kind = "rows" if rows < cols else "columns" if cols < rows else "square"
            info[node] = (_text(node), (rows, cols), cost, kind)
            heights[node] = 1 + max(heights[left], heights[right])
            pos[node] = ((pos[left][0] + pos[right][0]) / 2, float(heights[node]))
            edges += [(node, left), (node, right)]
        else:
            stack += [(node, True), (node[1], False), (node[0], False)]
    return info, pos, edges


def draw_order_tree(plan, title=None):
    """A bracketing of the Jacobian chain as a tree; returns the matplotlib figure.

    Leaves: the layers' Jacobians J_i with their shapes. Each inner node: one matrix product, its shape,
    and the cost of the whole sub-tree (multiply-adds, as in `jacobian_order`). Red products have fewer
    rows than columns: automatic differentiation gets them cheapest as one VJP (reverse pass) per row;
    blue ones have fewer columns: one JVP (forward pass) per column. In the hybrid order of a chain with a
    bottleneck, the red part is reverse mode up to the bottleneck and the blue part forward mode after it.
    """
    info, pos, edges = order_tree_data(plan)
    plt = _plt()
    k = len(plan.widths) - 1
    top = max(y for _, y in pos.values())
    fig, ax = plt.subplots(figsize=(max(7.0, 2.3 * k), 1.6 + 1.3 * top))
    for parent, child in edges:
        (px, py), (cx, cy) = pos[parent], pos[child]
        ax.plot([px, cx], [py - 0.27, cy + 0.27], color="black", lw=1)
    colors = {"layer": "#bbbbbb", "rows": REVERSE_COLOR, "columns": FORWARD_COLOR, "square": "#7f7f7f"}
    for node, (label, (rows, cols), cost, kind) in info.items():
        if kind == "layer":
            text = f"{label}\n{rows}×{cols}"
        else:
            inner = info[node[0]][1][1]
            how = {"rows": f"by AD: {rows} VJPs, one per row", "columns": f"by AD: {cols} JVPs, one per column",
                   "square": "the join: one product"}[kind]
            text = f"({rows}×{inner})({inner}×{cols}) = {rows}×{cols}\n{how}\ncost so far {cost:,}"
        _box(ax, pos[node], text, colors[kind], face="white", width=1.75 if kind != "layer" else 0.8,
             height=0.5, fontsize=8.5, bold=node == plan.tree)
    ax.set_xlim(-0.9, k - 0.1)
    ax.set_ylim(-0.4, top + 0.5)
    ax.axis("off")
    default = (f"{plan.order} ({plan.mode}) for widths {list(plan.widths)}: {plan.cost:,} multiply-adds "
               f"(forward {plan.forward_cost:,}, reverse {plan.reverse_cost:,})")
    ax.set_title(title or default, fontsize=10)
    fig.tight_layout()
    return fig
