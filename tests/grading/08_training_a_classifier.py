"""Typical wrong answers to notebook 8's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/08_training_a_classifier.md explains them to the teacher.
"""
MISTAKES = {
    "ex1_count": ("answer_param_count = 3 * 8 + 8 * 8 + 8 * 2",
                  "counts the weight matrices only: forgets each layer's bias"),
    "ex2_momentum": ("buf = momentum * g if buf is None else momentum * buf + g\nreturn p - lr * buf, buf",
                     "applies μ at the first step too: PyTorch's buffer starts as g itself"),
    "ex3_freeze": ("answer_tuned_opt = optim.SGD(tuned.parameters(), lr=0.1)",
                   "builds the optimizer but freezes nothing: the first layer still trains"),
    "ex4_input_grad": ("answer_input_grad = func.grad(lambda q: torch.sigmoid(mlp(params_trained, q)).sum())(point)",
                       "differentiates the probability σ(z), not the logit z: the same direction, "
                       "scaled by σ'(z)"),
    "ex5_zero_grad": ("optimizer = optim.SGD(model.parameters(), lr=lr)\nlosses = []\nfor _ in range(steps):\n"
                      "    loss = criterion(model(X), y)\n    loss.backward()\n    optimizer.zero_grad()\n"
                      "    optimizer.step()\n    losses.append(loss.item())\nreturn losses",
                      "puts zero_grad between backward and step: it clears the gradient step needs, "
                      "so nothing trains"),
}
