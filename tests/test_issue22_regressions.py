"""Issue 22: ten behaviours made to match PyTorch 2.13, one regression test each.

Each scenario is written once, as a function of the library (`lib` is autograd_lite or torch), and returns what
happened. The test compares it with what PyTorch 2.13 (CPU build) was seen to give, recorded here so that it
runs everywhere, and then with PyTorch itself when it is installed (skipped without it)."""
import numpy as np
import pytest

import autograd_lite as ag


def outcome(scenario, lib):
    """('ok', result) or (error type name, message with the library's name written as 'torch')."""
    try:
        return "ok", scenario(lib)
    except Exception as e:
        return type(e).__name__, str(e).replace("autograd_lite", "torch")


def check(scenario, recorded):
    """autograd_lite's outcome is PyTorch's recorded one, and, when torch is installed, torch's own."""
    ours = outcome(scenario, ag)
    assert ours == recorded
    torch = pytest.importorskip("torch")
    assert outcome(scenario, torch) == recorded


def _grad(t):
    return None if t is None else (t.tolist(), str(t.dtype).split(".")[-1], t.requires_grad)


# 1. fill_ / zero_ / copy_ on a non-leaf: the overwritten input gets zeros, and the node behind still runs
def _overwritten(lib):
    x, s = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
    results = []
    for write in (lambda y: y.fill_(3), lambda y: y.zero_(), lambda y: y.copy_(s * 3)):
        y = x * 2
        write(y)
        y.sum().backward()
        results.append(_grad(x.grad))
        x.grad = None
    return results, _grad(s.grad)


def _zeroed_std(lib):
    y = lib.tensor([1.0, 2.0, 4.0], requires_grad=True).std()
    y.zero_()
    y.backward()


def test_fill_zero_and_copy_give_the_overwritten_input_a_zero_gradient():
    check(_overwritten, ("ok", ([([0.0, 0.0], "float32", False)] * 3, ([3.0, 3.0], "float32", False))))
    message = ("one of the variables needed for gradient computation has been modified by an inplace operation: "
               "[torch.FloatTensor []], which is output 0 of Std, is at version 1; expected version 0 instead. Hint: "
               "enable anomaly detection to find the operation that failed to compute its gradient, with "
               "torch.autograd.set_detect_anomaly(True, check_nan=False).")
    check(_zeroed_std, ("RuntimeError", message))
