"""Test machinery of the capstone (notebook 13, build your own engine): random expression programs run on a
student's engine and on autograd_lite, verdicts in words for the visible checks, and the figure of a
topological order.

A *program* is what the property tests draw: leaf values and a list of steps over numbered registers
(the leaves first, then one register per step); the last register is the root. Running one program on the
student's `Value` and on autograd_lite's 0-d float64 tensors gives two lists of leaf gradients to compare.
Nothing here contains an engine: the expected gradients always come from autograd_lite.
"""
import math
import sys

import numpy as np

OPS = ("add", "mul", "pow", "tanh", "exp")
EXPONENTS = (2, 3)            # in random programs; the edge cases of ** are tested op by op
RTOL, ATOL = 1e-6, 1e-9


# --------------------------------------------------------------------------------------------
# Is the student's code written yet?
# --------------------------------------------------------------------------------------------


def _stub():
    """A function whose body is its docstring only."""


def written(obj, *methods):
    """False while `obj` is the released stub: a function whose body is only its docstring (and
    `# YOUR CODE HERE`), or a class lacking one of `methods`."""
    if isinstance(obj, type):
        return all(m in vars(obj) for m in methods)
    code = getattr(obj, "__code__", None)
    if code is None:
        return False
    stub = code.co_code == _stub.__code__.co_code and all(c is None or c == obj.__doc__ for c in code.co_consts)
    return not stub


# --------------------------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------------------------


def _apply(op, regs, args):
    a = regs[args[0]]
    if op == "add":
        return a + regs[args[1]]
    if op == "mul":
        return a * regs[args[1]]
    if op == "pow":
        return a ** args[1]
    if op == "tanh":
        return a.tanh()
    if op == "exp":
        return a.exp()
    raise ValueError(op)


def run(program, make_leaf):
    """(root, leaves) of `program` = (leaf values, steps), with leaves made by `make_leaf(value)`."""
    values, steps = program
    regs = [make_leaf(v) for v in values]
    for op, *args in steps:
        regs.append(_apply(op, regs, args))
    return regs[-1], regs[:len(values)]


def describe(program):
    """The program as text: `x0 = 0.5; v1 = x0 * x0; v2 = tanh(v1); root = v2`."""
    values, steps = program
    names = [f"x{i}" for i in range(len(values))] + [f"v{len(values) + k}" for k in range(len(steps))]
    lines = [f"{names[i]} = {v!r}" for i, v in enumerate(values)]
    for k, (op, *args) in enumerate(steps):
        a = names[args[0]]
        text = {"add": lambda: f"{a} + {names[args[1]]}", "mul": lambda: f"{a} * {names[args[1]]}",
                "pow": lambda: f"{a} ** {args[1]}", "tanh": lambda: f"tanh({a})", "exp": lambda: f"exp({a})"}[op]()
        lines.append(f"{names[len(values) + k]} = {text}")
    return "; ".join(lines) + f"  (root: {names[-1]})"


def lite_gradients(program):
    """The leaves' gradients of the root by autograd_lite (0 for a leaf the root does not use), or None
    when the root or a gradient is not finite (the program is skipped)."""
    import autograd_lite as torch
    root, leaves = run(program, lambda v: torch.tensor(float(v), dtype=torch.float64, requires_grad=True))
    if not root.requires_grad or not math.isfinite(root.item()) or abs(root.item()) > 1e8:
        return None
    root.backward()
    grads = [0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves]
    return grads if all(math.isfinite(g) and abs(g) < 1e8 for g in grads) else None


def mismatch(program, Value, backward_calls=1):
    """None when `Value`'s engine gives autograd_lite's gradients on `program` (times `backward_calls`,
    each call on a freshly built graph over the same leaves, which must accumulate), else what differs."""
    expected = lite_gradients(program)
    if expected is None:
        return None
    leaves = [Value(v) for v in program[0]]
    for _ in range(backward_calls):
        regs = list(leaves)
        for op, *args in program[1]:
            regs.append(_apply(op, regs, args))
        regs[-1].backward()
    got = [float(leaf.grad) for leaf in leaves]
    expected = [backward_calls * g for g in expected]
    if np.allclose(got, expected, rtol=RTOL, atol=ATOL):
        return None
    calls = "" if backward_calls == 1 else f" after {backward_calls} calls of backward()"
    return f"{describe(program)}: leaf gradients {got}{calls}, autograd_lite gives {expected}"


def programs(reuse, max_leaves=3, max_steps=7):
    """A hypothesis strategy for programs. reuse="any": any step may use any earlier register, so
    intermediate nodes are reused (diamonds, whose paths from the root have different lengths);
    "leaves": trees in which only the leaves may be used more than once (a + a, x * y + x); "none": trees
    in which every node is used once (leaves left over get the gradient 0)."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw):
        n = draw(st.integers(1, max_leaves)) if reuse != "none" else max_steps + 1
        # never 0, nor a sum that cancels to 0: ** at 0 is the business of the operations' own test
        values = [draw(st.integers(-20, 20)) / 10 + 0.0123 for _ in range(n)]
        steps, unused, fresh = [], [], list(range(n))
        for _ in range(draw(st.integers(1, max_steps))):
            op = draw(st.sampled_from(OPS))
            operands = []
            for _ in range(2 if op in ("add", "mul") else 1):
                if reuse == "any":
                    i = draw(st.integers(0, n + len(steps) - 1))
                elif reuse == "leaves":
                    i = draw(st.sampled_from(list(range(n)) + unused))
                else:
                    i = draw(st.sampled_from(fresh[:1] + unused))
                if i in unused:
                    unused.remove(i)
                if i in fresh:
                    fresh.remove(i)
                operands.append(i)
            if op == "pow":
                operands.append(draw(st.sampled_from(EXPONENTS)))
            steps.append((op, *operands))
            unused.append(n + len(steps) - 1)
        while len(unused) > 1:             # every step counts: add up the ones nothing used
            steps.append(("add", unused.pop(0), unused.pop(0)))
            unused.append(n + len(steps) - 1)
        return values, steps

    return build()


# explicit cases, run before the random ones
LEAF_REUSE_CASES = [
    ([1.5], [("add", 0, 0)]),                                  # a + a
    ([-0.7], [("mul", 0, 0)]),                                 # a * a
    ([0.5, 2.0], [("mul", 0, 1), ("add", 2, 0)]),              # x * y + x
    ([0.3], [("tanh", 0), ("mul", 1, 0), ("add", 2, 0)]),      # tanh(x) * x + x
]
DIAMOND_CASES = [
    ([0.8], [("mul", 0, 0), ("tanh", 1), ("tanh", 2), ("add", 3, 1)]),     # y = x*x; tanh(tanh(y)) + y
    ([1.2, -0.4], [("mul", 0, 1), ("exp", 2), ("mul", 3, 2), ("add", 4, 2)]),
    ([0.5], [("tanh", 0), ("mul", 1, 1), ("add", 2, 1)]),                   # t = tanh(x); t * t + t
]


def vjp_mismatch(Value, op, values, exponent=None, g=1.5):
    """None when one operation of `Value` (op on leaves with `values`) computes autograd_lite's value, and
    its `_vjp(g)` returns autograd_lite's gradients of the inputs; else what differs. Tests one rule alone,
    without an engine."""
    import autograd_lite as torch
    args = (0, 1) if op in ("add", "mul") else (0,) if exponent is None else (0, exponent)
    program = (list(values), [(op, *args)])
    text = describe(program).split("; ")[-1].split("  ")[0]
    at = ", ".join(f"x{i} = {v}" for i, v in enumerate(values))
    ref_out, ref_leaves = run(program, lambda v: torch.tensor(float(v), dtype=torch.float64, requires_grad=True))
    (ref_out * g).backward()
    expected = [0.0 if t.grad is None else t.grad.item() for t in ref_leaves]
    out, leaves = run(program, Value)
    if not isinstance(out, Value):
        return f"{text} at {at} gives a {type(out).__name__}, not a Value"
    if not np.isclose(out.data, ref_out.item(), rtol=RTOL, atol=ATOL):
        return f"{text} at {at}: the value is {out.data}, expected {ref_out.item()}"
    if len(out._parents) != len(leaves) or any(p is not leaf for p, leaf in zip(out._parents, leaves)):
        return f"{text}: its parents should be its inputs, in order"
    try:
        got = [float(v) for v in out._vjp(g)]
    except Exception as error:
        return f"{text} at {at}: its vjp raises {type(error).__name__}: {error}"
    if len(got) != len(expected) or not np.allclose(got, expected, rtol=RTOL, atol=ATOL):
        return f"{text} at {at}: its vjp({g}) returns {got}, autograd_lite gives {expected}"
    return None


def deep_chain(Value, n=10_000, factor=1.0001):
    """(root, x, expected dx) for x * factor * factor * ... (n multiplications), with no reuse."""
    x = Value(0.5)
    v = x
    for _ in range(n):
        v = v * factor
    return v, x, factor ** n


class default_recursion_limit:
    """Python's default recursion limit (1000) inside the block, whatever an earlier cell set it to."""

    def __enter__(self):
        self.saved = sys.getrecursionlimit()
        sys.setrecursionlimit(1000)

    def __exit__(self, *exc):
        sys.setrecursionlimit(self.saved)


# --------------------------------------------------------------------------------------------
# Tensors
# --------------------------------------------------------------------------------------------


def lite(array):
    import autograd_lite as torch
    return torch.tensor(np.asarray(array, dtype=float), dtype=torch.float64, requires_grad=True)


def tensor_mismatch(fn, arrays, Tensor, what):
    """None when fn(*inputs) (a scalar) has the same value and input gradients with `Tensor` as with
    autograd_lite, else a message naming `what`."""
    ref_inputs = [lite(a) for a in arrays]
    ref = fn(*ref_inputs)
    ref.backward()
    expected = [np.zeros(np.shape(a)) if t.grad is None else t.grad.numpy() for a, t in zip(arrays, ref_inputs)]
    inputs = [Tensor(np.array(a, dtype=float)) for a in arrays]
    out = fn(*inputs)
    if not np.allclose(np.asarray(out.data), ref.item(), rtol=RTOL, atol=ATOL):
        return f"{what}: value {np.asarray(out.data)}, autograd_lite gives {ref.item()}"
    out.backward()
    for k, (t, e) in enumerate(zip(inputs, expected)):
        g = np.asarray(t.grad)
        if g.shape != e.shape:
            return f"{what}: the gradient of input {k} has shape {g.shape}, its input has shape {e.shape}"
        if not np.allclose(g, e, rtol=RTOL, atol=ATOL):
            return f"{what}: the gradient of input {k} differs from autograd_lite's"
    return None


# --------------------------------------------------------------------------------------------
# The figure: a graph numbered by a topological order
# --------------------------------------------------------------------------------------------


def _nodes(root):
    seen, stack, nodes = set(), [root], []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(node._parents)
    return nodes


def draw_order(root, order=None, names=None):
    """The graph of `root` (nodes with `.data`, `._parents` and `._op`), each node numbered by its place in
    `order` (the inputs at the bottom, the root at the top). An edge drawn red goes from a node to one that
    comes *before* it in `order`: that order is not topological. `names`: {id(node): name} for leaves."""
    import graphviz

    names = names or {}
    nodes = _nodes(root)
    place = {id(n): k for k, n in enumerate(order or [])}
    key = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    g = graphviz.Digraph(graph_attr={"rankdir": "BT", "nodesep": "0.3", "ranksep": "0.35"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                    "fontsize": "11"})
    for n in sorted(nodes, key=lambda n: place.get(id(n), -1)):
        k = place.get(id(n))
        what = names.get(id(n)) or (n._op if n._parents else "leaf")
        data = np.asarray(n.data)
        value = f"{float(data):.3g}" if data.ndim == 0 else f"shape {data.shape}"
        label = f"{'?' if k is None else k + 1}. {what}\n{value}"
        colour = "#dbe9f6" if not n._parents else ("#fff2cc" if n is not root else "#f4cccc")
        g.node(key[id(n)], label, fillcolor=colour)
    for n in nodes:
        for p in n._parents:
            bad = id(n) in place and id(p) in place and place[id(p)] > place[id(n)]
            g.edge(key[id(p)], key[id(n)], color="red" if bad else "black", penwidth="2" if bad else "1")
    return g
