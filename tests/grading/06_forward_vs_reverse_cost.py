"""Typical wrong answers to notebook 6's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/06_forward_vs_reverse_cost.md explains them to the teacher.
"""
MISTAKES = {
    "ex1_passes": ("answer_passes = (3, 1000)", "swaps the modes: JVPs per output, VJPs per input"),
    "ex2_order_costs": ("answer_order_costs = (40, 80)", "swaps the bracketings: forward mode taken from the output side"),
    "ex3_chain": ("answer_chain = jacrev(f2)(f1(x0)) @ jacrev(f1)(x1)",
                  "takes f2's Jacobian at the old point f1(x0): each factor must be evaluated where the chain reaches it"),
    "ex4_auto_jacobian": ("return jacrev(f)(x)", "always reverse mode: right results, but n passes where m would do", 0),
}
