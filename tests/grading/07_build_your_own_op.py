"""Typical wrong answers to notebook 7's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/07_build_your_own_op.md explains them to the teacher.
"""
NODE_COUNTING_KAHN = """
consumers = {root: set()}              # node -> the distinct nodes that consume it
stack = [root]
while stack:
    node = stack.pop()
    for child, _ in node.next_functions:
        if child is None:
            continue
        if child not in consumers:
            consumers[child] = set()
            stack.append(child)
        consumers[child].add(node)
count = {node: len(users) for node, users in consumers.items()}
order, ready = [], [root]
while ready:
    node = ready.pop()
    order.append(node)
    for child, _ in node.next_functions:
        if child is not None:
            count[child] -= 1
            if count[child] == 0:
                ready.append(child)
return order
"""

MISTAKES = {
    "ex1_swish": ("s = torch.sigmoid(x)\nreturn grad * s",
                  "differentiates σ(x) as if x were a constant factor: forgets the product rule's x σ'(x) term"),
    "ex2_hypot": ("r = torch.sqrt(x * x + y * y)\nreturn x_t * x / r, y_t * y / r",
                  "returns one tangent per input, as backward returns one gradient per input; forward mode "
                  "has one tangent per output, the sum of the inputs' contributions"),
    "ex3_fix_linear": ("return grad @ W, x.T @ grad",
                       "fixes x's gradient but 'fixes' W's too by making the shapes fit: x.T @ grad is W̄ "
                       "transposed, which only a non-square W reveals", 2.0),
    "ex4_edges": ("answer_edges_into_t = 2",
                  "counts consuming nodes (sin and mul), not edges: t * t sends two gradients"),
    "ex5_order": (NODE_COUNTING_KAHN,
                  "the node-counting Kahn: right on graphs without repeated edges, runs t's node too early "
                  "on sin(t) + t * t", 2.0),
}
