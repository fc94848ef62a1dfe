"""Typical wrong answers to notebook 12's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/12_higher_order.md explains them to the teacher.
"""
NO_CREATE_GRAPH = """
x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_()
(grad_x,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
return ((grad_x.norm(2, dim=1) - 1) ** 2).mean()
"""

FIRST_ORDER_MAML = """
(g,) = torch.autograd.grad(mse(w, X_tr, y_tr), w)
w_fast = w - alpha * g.detach()
(meta,) = torch.autograd.grad(mse(w_fast, X_val, y_val), w)
return meta
"""

FIRST_ORDER_JET = """
e = [math.exp(a[0])]
for k in range(1, len(a)):
    e.append(a[k] * e[0])
return e
"""

MISTAKES = {
    "ex1_confusion": ("answer_confusion = (6.0, 6.0)",
                      "does not see that shared perturbations mix: believes untagged nesting is merely inelegant, "
                      "not wrong"),
    "ex2_penalty": (NO_CREATE_GRAPH,
                    "the right number, but the first gradient is not recorded: the penalty is a constant for the "
                    "critic's weights and cannot be trained", 1.0),
    "ex3_maml": (FIRST_ORDER_MAML,
                 "first-order MAML: treats the inner gradient as a constant and drops the (I - alpha H) term"),
    "ex4_jet_exp": (FIRST_ORDER_JET,
                    "applies the first-order chain rule e_k = a_k e_0 to every coefficient: right for k = 1 only, "
                    "it forgets that e' = a' e multiplies the whole series"),
}
