"""Typical wrong answers to notebook 5's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/05_forward_mode.md explains them to the teacher.
"""
MISTAKES = {
    "ex1_dual": ("answer_dual = (8.0, 4.0)", "keeps only one cross term: expands (2 + ε)^3 as 2^3 + 2^2 ε"),
    "ex2_directional": ("answer_directional = (torch.tanh(x2) ** 2).sum()", "the value h(x), not its derivative"),
    "ex3_hessian": ("answer_hessian = [[4.0, 2.0], [2.0, 6.0]]", "differentiates a_1^3 once: 3 a_1^2 = 12 vs 6 a_1"),
    "ex4_hvp": ("answer_hvp = grad(f4)(x4)", "the gradient at x4 (jvp's first result), not the JVP of the gradient"),
    "ex5_dual_div": ("return Dual(p.value / q.value, (p.tangent * q.value + p.value * q.tangent) / q.value ** 2)",
                     "the quotient rule with a + (the product rule's sign): misses that d(1/q) = -dq/q^2", 0),
}
