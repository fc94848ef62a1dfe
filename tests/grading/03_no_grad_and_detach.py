"""Typical wrong answers to notebook 3's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/03_no_grad_and_detach.md explains them to the teacher.
"""
MISTAKES = {
    "ex1_tracked": ("answer_tracked = [False, False, False, True]",
                    "thinks no_grad() wins over a nested enable_grad(): modes do not nest in their mind"),
    "ex2_detached_grad": ("answer_detached_grad = 80.0",
                          "differentiates s^5 as a whole: ignores that the detached factor is a constant"),
    "ex3_freeze": ("    W1.requires_grad_(False)\n    return (torch.tanh(inp @ W1) @ W2).sum()",
                   "freezes by switching W1 off, which the task forbids (an optimizer could not unfreeze it)",
                   2),
    "ex4_clipped_bce": ("    p = torch.sigmoid(z).detach().clamp(0.01, 0.99)\n"
                        "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()",
                        "silences the error by detaching everything: the loss is right, but no gradient reaches z",
                        1),
}
