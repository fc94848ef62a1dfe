"""Pictures for notebook 14 (from eager to compiled): a compiled function's program drawn as a graph.

::

    from autograd_lite.course import trace_figure
    step = autograd_lite.compile(func.grad_and_value(loss))
    step(w, b, x, y)
    trace_figure.draw_program(step)          # inputs, constants, one box per line of step.code

Each line of the generated code is a box (its value's name, the op, the shape); an arrow runs from each
value to the lines that read it. Forward lines are grey, the lines of the backward pass (those whose
comment says `vjp of ...` or `engine: ...`) orange, inputs blue, constants white, the returned values
green. Deterministic: names come from the program, never from `id()`.
"""
from .. import compiler
from .viz import _graph_class

STYLES = {
    "input": {"fillcolor": "lightblue", "style": "filled"},
    "constant": {"fillcolor": "white", "style": "filled,dashed", "color": "grey40"},
    "forward": {"fillcolor": "lightgrey", "style": "filled,rounded"},
    "backward": {"fillcolor": "orange", "style": "filled,rounded"},
    "guard": {"fillcolor": "lightyellow", "style": "filled", "shape": "diamond"},
    "output": {"fillcolor": "darkolivegreen1", "style": "filled"},
}


def _shape(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def is_backward(ins):
    """True for a line the backward pass made (a rule's op, or the engine's fitting of a gradient)."""
    return isinstance(ins.where, str) and (ins.where.startswith(("vjp of", "jvp of", "engine:")))


def draw_program(compiled, trace=-1):
    """The program of `compiled.traces[trace]` as a graph (a `graphviz.Digraph` that shows itself as SVG)."""
    prog = compiled.traces[trace].program
    g = _graph_class()(graph_attr={"rankdir": "TB", "fontsize": "10"}, node_attr={"shape": "box", "fontsize": "10"})
    used = {v for ins in prog.instrs for v in ins.uses()} | {v for v in prog.output if isinstance(v, str)}
    for name in prog.inputs:
        if name in used:
            g.node(name, f"{name}\n{_shape(prog.values[name].shape)}", **STYLES["input"])
    for name, value in prog.constants.items():
        if name in used:
            label = f"{name}\n{_shape(value.shape)}" if hasattr(value, "shape") else name
            g.node(name, label, **STYLES["constant"])
    for k, ins in enumerate(prog.instrs):
        if ins.is_guard:
            node, label, style = f"guard{k}", f"guard\nbool({ins.args[0]}) is {ins.answer}", STYLES["guard"]
        else:
            node = ins.outs[0]
            into = f"\n(into {ins.into})" if ins.into else ""
            label = f"{', '.join(ins.outs)} = {compiler.codegen.op_name(ins.op)}\n{_shape(ins.shapes[0])}{into}"
            style = STYLES["backward" if is_backward(ins) else "forward"]
        g.node(node, label, **style)
        for a in dict.fromkeys(ins.uses()):
            g.edge(a, node)
    for i, v in enumerate(prog.output):
        if isinstance(v, str):
            g.node(f"out{i}", f"result {i}", **STYLES["output"])
            g.edge(v, f"out{i}")
    g.nodes_total = g.nodes_drawn = len(prog.instrs)
    return g


def line_counts(fn, args, settings):
    """{label: (lines of code, lines writing into a dead buffer)} of `compile(fn, passes=p)` for each
    (label, p) in `settings`: what each pass removes."""
    counts = {}
    for label, passes in settings:
        compiled = compiler.compile(fn, passes=passes)
        compiled(*args)
        instrs = compiled.traces[-1].program.instrs
        counts[label] = (len(instrs), sum(1 for ins in instrs if ins.into))
    return counts
