"""Typical wrong answers to notebook 2's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/ explains them to the teacher.
"""
MISTAKES = {
    "ex1_by_hand": ("answer_by_hand = 2 * np.tanh(a0)",
                    "differentiates the square but forgets the inner derivative tanh'(a) (chain rule)"),
    "ex2_twice": ("answer_twice = [True, False, True, True]",
                  "thinks only products save values: exp's rule reads its saved result"),
    "ex3_accumulate": ("F.mse_loss(X @ wa, Y).backward()\nanswer_accumulated = wa.grad",
                       "the right gradient from one backward on the mean loss: not one backward per example", 2),
    "ex4_inplace": ("""h = 2 * x
g = torch.sigmoid(h)
h += 1
e = torch.exp(h).detach()
e += 1
return (g * e).sum()""",
                    "silences the error with detach(): the value is right, but no gradient flows through exp", 1),
}
