"""Purpose-made wrong engines for the capstone (notebook 13), each the reference solution with one classic bug.

WRONG_ENGINES = {name: ({answer grade_id: code in place of its solution}, what the bug is, the test cells
that must fail)}: tests/test_capstone.py runs the notebook's hidden tests on each engine separately and
checks that exactly those test cells fail (and none with the reference). A bug can cost more than the test
cell aimed at it when another cell exercises it too (a recursive sort also breaks backward on the deep
chain); the set says which, and docs/answer_key/13_capstone_your_own_engine.md explains each.

MISTAKES (for the grading demo, which submits one typical-mistakes student with one mistake per answer
cell): {answer grade_id: (code, what the mistake reveals)}, a selection of WRONG_ENGINES.

The code of each engine is the notebook's own solution with one line or block changed (`_edit` fails
loudly when the notebook's solution no longer contains the text to change).
"""
import json
import re
import textwrap
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "13_capstone_your_own_engine.ipynb"


def solution(grade_id, notebook=NOTEBOOK):
    """The solution region of an answer cell, dedented (as the grading demo re-indents it)."""
    for cell in json.loads(Path(notebook).read_text())["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            text = "".join(cell["source"])
            region = re.search(r"### BEGIN SOLUTION\n(.*?)\n[ \t]*### END SOLUTION", text, re.S).group(1)
            return textwrap.dedent(region)
    raise KeyError(grade_id)


def _edit(grade_id, old, new):
    text = solution(grade_id)
    if text.count(old) != 1:
        raise ValueError(f"{grade_id}: the solution no longer contains exactly one {old!r}")
    return text.replace(old, new)


RECURSIVE_ORDER = '''\
order, seen = [], set()

def visit(node):                 # depth-first, recursive: one Python call per level of the graph
    if id(node) in seen:
        return
    seen.add(id(node))
    for parent in node._parents:
        visit(parent)
    order.append(node)

visit(root)
return order'''

BREADTH_FIRST_ORDER = '''\
order, seen, queue = [], {id(root)}, [root]
while queue:                     # breadth-first from the root, reversed: not topological on diamonds
    node = queue.pop(0)
    order.append(node)
    for parent in node._parents:
        if id(parent) not in seen:
            seen.add(id(parent))
            queue.append(parent)
return order[::-1]'''

NO_SEEN_SET_ORDER = '''\
order, stack = [], [(root, False)]
while stack:                     # depth-first with a stack, but no record of the nodes already expanded
    node, parents_done = stack.pop()
    if parents_done:
        order.append(node)
        continue
    stack.append((node, True))
    stack.extend((p, False) for p in node._parents)
return order'''

TREE_COUNTEREXAMPLE = '''\
x = Value(0.5)
root = x * x + x                 # reuses a leaf, but both users are handled before x: breadth-first is right
return root, x'''


def _engines():
    return {
        "pow_by_division": (
            {"ex1_value": _edit("ex1_value", "lambda g: (g * n * x ** (n - 1) if n != 0 else 0.0,)",
                                "lambda g: (g * n * x ** n / x,)")},
            "x ** n's rule written as n * out / x: ZeroDivisionError at x = 0",
            {"ex1_value_rules"}),
        "recursive_order": (
            {"ex2_topo": RECURSIVE_ORDER},
            "a recursive topological sort: RecursionError on the 10,000-deep chain",
            {"ex2_topo_deep", "ex3_backward_deep"}),
        "breadth_first_order": (
            {"ex2_topo": BREADTH_FIRST_ORDER},
            "a wrong order (reversed breadth-first): right on trees and chains, wrong on diamonds whose paths "
            "differ in length",
            {"ex2_topo_order", "ex3_backward_diamonds"}),
        "no_seen_set": (
            {"ex2_topo": NO_SEEN_SET_ORDER},
            "no record of the nodes already listed: a node reached by two paths is listed (and run) twice",
            {"ex2_topo_order", "ex3_backward_reuse", "ex3_backward_diamonds"}),
        "no_accumulation": (
            {"ex3_backward": _edit("ex3_backward", "grads[id(parent)] = grads.get(id(parent), 0.0) + g",
                                   "grads[id(parent)] = g")},
            "no accumulation on reuse: a node's buffer keeps only the last contribution (a + a gives 1)",
            {"ex3_backward_reuse", "ex3_backward_diamonds"}),
        "grad_assigned": (
            {"ex3_backward": _edit("ex3_backward", "node.grad += grads[id(node)]", "node.grad = grads[id(node)]")},
            "`=` instead of `+=` on a leaf's .grad: a second backward() replaces the first one's gradient",
            {"ex3_backward_twice"}),
        "order_not_reversed": (
            {"ex3_backward": _edit("ex3_backward", "for node in reversed(order):", "for node in order:")
                .replace("node._vjp(grads[id(node)])", "node._vjp(grads.get(id(node), 0.0))")},
            "the topological order walked from the leaves: a node runs before its users have filled its buffer",
            {"ex3_backward_reuse", "ex3_backward_diamonds", "ex3_backward_deep", "ex3_backward_twice",
             "ex6_tensor_ops", "ex6_tensor_broadcast", "ex7_train_check"}),
        "tree_counterexample": (
            {"ex4_counterexample": TREE_COUNTEREXAMPLE},
            "a graph where a leaf is reused but no node is reached early by a short path",
            {"ex4_counterexample_check"}),
        "broadcast_not_undone": (
            {"ex5_unbroadcast": "return np.asarray(grad, dtype=float)"},
            "broadcasting not undone: the gradient keeps the broadcast shape",
            {"ex5_unbroadcast_check", "ex6_tensor_broadcast", "ex7_train_check"}),
        "broadcast_leading_axes_only": (
            {"ex5_unbroadcast": _edit("ex5_unbroadcast", "    if size == 1 and grad.shape[axis] != 1:\n"
                                      "        grad = grad.sum(axis=axis, keepdims=True)\n", "    pass\n")},
            "broadcasting undone in one direction only: added leading axes are summed, size-1 axes are not "
            "((4,) + (3, 4) works, (3, 1) + (1, 4) does not)",
            {"ex5_unbroadcast_check", "ex6_tensor_broadcast"}),
        "matmul_not_transposed": (
            {"ex6_tensor": _edit("ex6_tensor", "lambda g: (g @ b.data.T, a.data.T @ g)", "lambda g: (g @ b.data, a.data @ g)")},
            "matmul's vjp without the transposes: shapes only agree for square matrices, values never",
            {"ex6_tensor_ops", "ex7_train_check"}),
        "no_zero_grad": (
            {"ex7_train": _edit("ex7_train", "    for p in params:\n        p.grad = np.zeros_like(p.data)       "
                                "# zero_grad: backward adds to .grad\n", "")},
            "no zero_grad: each step uses the sum of all gradients so far",
            {"ex7_train_check"}),
    }


WRONG_ENGINES = _engines()

_DEMO = {"ex1_value": "pow_by_division", "ex2_topo": "recursive_order", "ex3_backward": "no_accumulation",
         "ex4_counterexample": "tree_counterexample", "ex5_unbroadcast": "broadcast_leading_axes_only",
         "ex6_tensor": "matmul_not_transposed", "ex7_train": "no_zero_grad"}
MISTAKES = {grade_id: (WRONG_ENGINES[name][0][grade_id], WRONG_ENGINES[name][1]) for grade_id, name in _DEMO.items()}
