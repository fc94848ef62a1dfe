"""Typical wrong answers to notebook 4's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/04_vector_jacobian_products.md explains them to the teacher.
"""
MISTAKES = {
    "ex1_vjp_hand": ("answer_vjp_hand = [3.0, 12.0, 27.0]",
                     "ignores v: computes the gradient of sum(a^3), i.e. v = ones"),
    "ex2_pick_v": ("answer_pick_v = torch.zeros(5, 5)\nanswer_pick_v[3, 1] = 1.0",
                   "indexes v like the input: the transpose belongs to the graph, v is indexed like out"),
    "ex3_jacobian": ("answer_jacobian = M3.clone()",
                     "takes the matrix of g(a) = a M as its Jacobian: the Jacobian is m x n, here M^T"),
    "ex4_jacobian_by_rows": (
        "    x = x.detach().requires_grad_()\n"
        "    y = f(x)\n"
        "    rows = []\n"
        "    for k in range(x.numel()):\n"
        "        e_k = torch.zeros(x.numel())\n"
        "        e_k[k] = 1.0\n"
        "        x.grad = None\n"
        "        y.backward(e_k, retain_graph=True)\n"
        "        rows.append(x.grad)\n"
        "    return torch.stack(rows)",
        "fixes the accumulation but still counts rows by the input: right only when m = n", 1),
}
