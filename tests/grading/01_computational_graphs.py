"""Typical wrong answers to notebook 1's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/ explains them to the teacher.
"""
MISTAKES = {
    "ex1_leaves": ('answer_leaves = {"p", "s"}',
                   "believes only tensors created with a factory are leaves: misses that detach() and "
                   "untracked results (s + 1) are leaves too"),
    "ex2_graph": ('answer_graph = ["SumBackward0", "TanhBackward0", "PowBackward0", "SumBackward0", "AccumulateGrad"]',
                  "ignores the digits: sum(0) is a different overload of sum (SumBackward1)"),
    "ex3_count": ("""def visit(node, seen):
    if node is None or node in seen:
        return
    seen.add(node)
    for n, _ in node.next_functions:
        visit(n, seen)
seen = set()
visit(t.grad_fn, seen)
return len(seen)""",
                  "a recursive walk: right on small graphs, RecursionError on a 5,000-op chain", 2),
    "ex4_debug": ("""w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True) * 0.1
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
return loss, w, b""",
                  "fixes the late requires_grad_ but not the scaled bias: b is a non-leaf, its leaf is hidden", 1),
}
