"""Typical wrong answers to notebook 9's exercises, submitted by the grading demo's third student.

{answer cell grade_id: (code in place of the solution, what the mistake reveals[, points expected])}.
Each must lose points; docs/answer_key/ explains them to the teacher.
"""
MISTAKES = {
    "ex1_bytes": ("answer_bytes_per_layer = 2 * 64 * 64 * 8",
                  "counts the layer output twice (tanh's saved result and the next product's saved input are "
                  "the same array)"),
    "ex2_checkpoint": ('''@staticmethod
def forward(ctx, run, x):
    ctx.run = run
    ctx.save_for_backward(x)
    return run(x)

@staticmethod
def backward(ctx, grad_y):
    (x,) = ctx.saved_tensors
    x = x.detach().requires_grad_()
    with torch.enable_grad():
        y = ctx.run(x)
    (grad_x,) = torch.autograd.grad(y, x, grad_y)
    return None, grad_x''',
                       "uses autograd.grad in backward: the input's gradient is right, but the weights inside "
                       "the segment get no .grad (the reason PyTorch's reentrant checkpoint calls backward)", 2),
    "ex3_segments": ("answer_segments = (32, 64)",
                     "counts k segment inputs instead of k - 1 (the last segment is not checkpointed)"),
    "ex4_debug": ('''def block(h):
    keep = torch.rand(*h.shape, dtype=h.dtype) < 0.8
    return torch.tanh(h @ W_noise) * keep / 0.8
return checkpoint(block, x, use_reentrant=False, preserve_rng_state=False).sum()''',
                  "fixes the generator but not the replay: the recomputation draws a new mask", 1),
}
