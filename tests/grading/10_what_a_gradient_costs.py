"""Typical wrong answers to notebook 10's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/ explains them to the teacher.
"""
MISTAKES = {
    "ex1_step": ("answer_best_exponent = -16",
                 "believes a smaller step is always more accurate: ignores rounding (eps / h)"),
    "ex2_debug": ('''x = x.to(torch.float64)
h = 1e-8
g = torch.zeros_like(x)
fx = f(x)
for i in range(x.numel()):
    e = torch.zeros_like(x)
    e[i] = h
    g[i] = (f(x + e) - fx) / h
return g''', "fixes float32 but keeps the forward difference: about 8 digits, not the 1e-9 asked", 1),
    "ex3_decompress": ('''B = np.asarray(compressed)
J = np.zeros(pattern.shape)
rows, cols = np.nonzero(pattern)
J[rows, cols] = B[rows, cols % B.shape[1]]
return torch.tensor(J)''', "uses column index mod the number of colours: right only for the band, where the "
                           "greedy colouring happens to be j % 3", 2),
}
