"""Memory: a finished step's graph is freed by reference counting alone (no reference cycles), training
does not grow memory step after step, and `no_grad` keeps nothing alive.

The checks run with Python's cyclic garbage collector switched off (`gc.disable()`): what survives
then is either still referenced or caught in a cycle, and either would be a leak in a long training
run. `gc.collect()` is called only to measure (it also empties CPython's free lists of small objects,
which tracemalloc would otherwise count as memory in use), and must find no garbage.
"""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd_lite as ag
import autograd_lite.nn.functional as F
from autograd_lite.autograd import forward_ad as fwAD


@pytest.fixture
def no_cyclic_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _mlp(seed=0):
    rng = np.random.default_rng(seed)
    params = [ag.tensor(rng.standard_normal((4, 16)) * 0.5, dtype=ag.float32, requires_grad=True),
              ag.zeros(16, requires_grad=True),
              ag.tensor(rng.standard_normal((16, 1)) * 0.5, dtype=ag.float32, requires_grad=True),
              ag.zeros(1, requires_grad=True)]
    x = ag.tensor(rng.standard_normal((32, 4)), dtype=ag.float32)
    y = (x.sum(1, keepdim=True) > 0).float()
    return params, x, y


def _step(params, x, y, lr=0.1):
    """One training step built directly from ops; returns weak references into the step's graph."""
    w1, b1, w2, b2 = params
    h = (x @ w1 + b1).relu()
    logits = h @ w2 + b2
    loss = F.binary_cross_entropy_with_logits(logits, y)
    loss.backward()
    refs = [weakref.ref(obj) for obj in (loss, loss.grad_fn, h, h.grad_fn, logits.grad_fn)]
    with ag.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()
    return loss.item(), refs


def test_the_graph_of_a_finished_step_is_freed_without_the_cycle_collector(no_cyclic_gc):
    params, x, y = _mlp()
    _, refs = _step(params, x, y)
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"still alive after the step: {alive}"


def test_a_graph_that_is_never_backwarded_is_freed_too(no_cyclic_gc):
    x = ag.ones(3, requires_grad=True)
    h = (x * 2).exp()
    loss = h.sum()
    refs = [weakref.ref(o) for o in (h, h.grad_fn, loss, loss.grad_fn)]
    del h, loss
    assert all(r() is None for r in refs)


def test_retained_graph_is_freed_when_its_tensors_go(no_cyclic_gc):
    x = ag.ones(3, requires_grad=True)
    loss = (x * x).exp().sum()
    loss.backward(retain_graph=True)
    ag.autograd.grad(loss, x, retain_graph=True)
    refs = [weakref.ref(loss.grad_fn), weakref.ref(loss.grad_fn.next_functions[0][0])]
    del loss
    assert all(r() is None for r in refs)


def test_second_order_graph_from_autograd_grad_is_freed(no_cyclic_gc):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ag.autograd.grad((x**3).sum(), x, create_graph=True)
    (gg,) = ag.autograd.grad(g.sum(), x)
    refs = [weakref.ref(g), weakref.ref(g.grad_fn)]
    del g
    assert all(r() is None for r in refs)
    assert gg.tolist() == [6.0, 12.0]


def test_forward_mode_duals_are_freed(no_cyclic_gc):
    x = ag.ones(3)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, ag.ones(3))
        out = (dual * dual).sin()
        refs = [weakref.ref(dual), weakref.ref(out)]
        tangent = fwAD.unpack_dual(out).tangent  # (the primal is a view of `out`: it would keep `out` alive)
        del dual, out
    assert all(r() is None for r in refs)
    assert tangent.shape == (3,)


def test_hooks_and_retain_grad_do_not_keep_a_graph_alive(no_cyclic_gc):
    x = ag.ones(3, requires_grad=True)
    a = x * 2
    a.retain_grad()
    a.register_hook(lambda g: g * 1)
    loss = (a * a).sum()
    loss.backward()
    refs = [weakref.ref(a), weakref.ref(a.grad_fn), weakref.ref(loss)]
    del a, loss
    assert all(r() is None for r in refs)


def test_no_grad_builds_no_graph_and_saves_nothing(no_cyclic_gc):
    x = ag.ones(3, requires_grad=True)
    with ag.no_grad():
        h = x.exp()
        out = (h * h).sum()
    assert out.grad_fn is None and not out.requires_grad
    ref = weakref.ref(h)
    del h
    assert ref() is None  # nothing (no node) kept the intermediate alive


def _memory_after_steps(checkpoints):
    """tracemalloc's count of bytes in use after each checkpoint step of a training loop."""
    params, x, y = _mlp()
    measured, losses = {}, []
    gc.collect()
    tracemalloc.start()
    try:
        for step in range(1, max(checkpoints) + 1):
            loss, _ = _step(params, x, y)
            if step == 1 or step == max(checkpoints):
                losses.append(loss)  # (not every step's: a growing list would be growth of its own)
            if step in checkpoints:
                assert gc.collect() == 0, f"step {step} left cyclic garbage behind"
                measured[step] = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return measured, losses


@pytest.mark.parametrize("steps", [pytest.param(300, id="300_steps"),
                                   pytest.param(10_000, id="10000_steps", marks=pytest.mark.slow)])
def test_memory_stays_flat_over_training_steps(no_cyclic_gc, steps):
    measured, losses = _memory_after_steps({50, steps})
    growth = measured[steps] - measured[50]
    # One leaked node or tensor per step would add ~100 bytes or more per step (25 KB over 250 steps);
    # 8 KB leaves room for interpreter bookkeeping (dict resizes, interned shapes) that does not grow.
    assert growth < 8_192, f"memory grew by {growth} bytes between step 50 and step {steps}"
    assert losses[-1] < losses[0]  # and the loop really trained
