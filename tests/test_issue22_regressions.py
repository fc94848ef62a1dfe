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


# 2. create_graph through a rule that multiplies by a sign or a mask: PyTorch records it, so the gradient stays
#    connected to x (its own derivative being zero)
RULES_WITH_A_SIGN = {
    "abs": lambda lib, x: x.abs().sum(),
    "norm_p1": lambda lib, x: x.norm(p=1),
    "vector_norm_inf": lambda lib, x: lib.linalg.vector_norm(x, ord=float("inf")),
    "relu": lambda lib, x: x.relu().sum(),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x).sum(),
    "clamp": lambda lib, x: x.clamp(-1.0, 0.5).sum(),  # PyTorch's rule is a where on a mask: not connected
    "max": lambda lib, x: x.max(),
    "where": lambda lib, x: lib.where(x > 0, x, 0.0).sum(),
}


def _connected_gradient(lib, name):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    g, = lib.autograd.grad(RULES_WITH_A_SIGN[name](lib, x), x, create_graph=True)
    second = None
    if g.requires_grad:
        second, = lib.autograd.grad(g.sum(), x)
        second = (second + 0).tolist()  # PyTorch's SgnBackward0 gives a ZeroTensor: `+ 0` materializes it
    return g.tolist(), g.requires_grad, second


@pytest.mark.parametrize("name, recorded", [
    ("abs", ([1.0, -1.0], True, [0.0, 0.0])),
    ("norm_p1", ([1.0, -1.0], True, [0.0, 0.0])),
    ("vector_norm_inf", ([0.0, -1.0], True, [0.0, 0.0])),
    ("relu", ([1.0, 0.0], True, [0.0, 0.0])),
    ("leaky_relu", ([1.0, 0.009999999776482582], True, [0.0, 0.0])),
    ("clamp", ([0.0, 0.0], False, None)),
    ("max", ([1.0, 0.0], False, None)),
    ("where", ([1.0, 0.0], False, None)),
])
def test_create_graph_through_a_sign_or_mask_stays_connected_where_pytorchs_does(name, recorded):
    check(lambda lib: _connected_gradient(lib, name), ("ok", recorded))


def _sign_ops(lib):
    x = lib.tensor([1.0, -2.0, 0.0], requires_grad=True)
    y, z = x.sign(), lib.sgn(x)
    (y + z).sum().backward()
    ints = lib.tensor([3, -1, 0])
    return (y.tolist(), y.grad_fn.name(), z.grad_fn.name(), (x.grad + 0).tolist(), ints.sign().tolist(),
            str(ints.sgn().dtype).split(".")[-1])


def test_sign_and_sgn_have_a_zero_derivative():
    check(_sign_ops, ("ok", ([1.0, -1.0, 0.0], "SignBackward0", "SgnBackward0", [0.0, 0.0, 0.0], [1, -1, 0], "int64")))
