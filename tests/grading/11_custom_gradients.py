"""Typical wrong answers to notebook 11's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/11_custom_gradients.md explains them to the teacher.
"""
ONE_STEP_ONLY = """
return torch.autograd.grad(fz, params, z_bar)
"""

MISTAKES = {
    "ex1_predict": ("answer_predict = (1.0, 0.0, 0.0)",
                    "believes a tie sends the whole gradient to one element (as max(dim) does) and that clamp(min=0) "
                    "behaves like relu at 0"),
    "ex2_xlogx": ("return x * torch.log(x.clamp(min=1e-12))",
                  "hides the singularity with a clamp instead of choosing the value at 0: the gradient there is "
                  "log(1e-12) = -27.6, finite but not 0, and depends on an arbitrary constant", 1.0),
    "ex3_implicit": (ONE_STEP_ONLY,
                     "backpropagates through one step only (u = z_bar): forgets that z* itself depends on the "
                     "parameters, i.e. the (I - J_z)^-T solve"),
    "ex4_ste": ("return x + (round_half_up(x.clamp(-2.0, 2.0)) - x).detach()",
                "passes the gradient straight through the clamp as well: gradient 1 outside [-2, 2], where the "
                "clamp's true gradient is 0"),
}
