"""trace_figure: a compiled program drawn as a graph, deterministically; line counts per pass."""
import autograd_lite as torch
from autograd_lite import func
from autograd_lite.course import trace_figure


def _step():
    loss = lambda w, x: torch.tanh(x @ w).sum()
    w, x = torch.ones(3, 2, dtype=torch.float64), torch.ones(4, 3, dtype=torch.float64)
    step = torch.compile(func.grad_and_value(loss))
    step(w, x)
    return step, loss, (w, x)


def test_the_drawing_is_deterministic_and_marks_the_backward():
    first, second = trace_figure.draw_program(_step()[0]), trace_figure.draw_program(_step()[0])
    assert first.source == second.source
    assert "orange" in first.source and "lightblue" in first.source and "result 0" in first.source


def test_line_counts_shrink_with_the_passes():
    _, loss, args = _step()
    counts = trace_figure.line_counts(func.grad_and_value(loss), args, [("none", ()), ("all", torch.compiler.PASSES)])
    assert counts["all"][0] < counts["none"][0]
    assert counts["none"][1] == 0
