"""Typical wrong answers to notebook 5's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/ explains them to the teacher.
"""
MISTAKES = {
    "ex1_dual": ("answer_dual = (8.0, 4.0)", "keeps only one cross term: expands (2 + ε)^3 as 2^3 + 2^2 ε"),
    "ex2_directional": ("answer_directional = (torch.tanh(x2) ** 2).sum()", "the value h(x), not its derivative"),
    "ex3_hessian": ("answer_hessian = [[4.0, 2.0], [2.0, 6.0]]", "differentiates a_1^3 once: 3 a_1^2 = 12 vs 6 a_1"),
}
