"""Grad modes (grad_mode.py): no_grad, enable_grad, set_grad_enabled, inference_mode — as context
managers and decorators — and that a block without grad builds no graph at all."""
import pytest

import autograd_lite as ag
from autograd_lite import grad_mode


@pytest.fixture(autouse=True)
def grad_mode_is_restored():
    yield
    assert ag.is_grad_enabled(), "a test left grad mode off"


def test_no_grad_context_builds_no_graph():
    x = ag.ones(2, requires_grad=True)
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2 + 1
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_records_nothing_and_saves_nothing():
    """Nothing is recorded: no node is created, and so nothing is kept alive for backward."""
    import gc
    import weakref

    from autograd_lite.graph import Node

    x = ag.ones(3, requires_grad=True)
    gc.collect()
    nodes_before = sum(isinstance(o, Node) for o in gc.get_objects())
    with ag.no_grad():
        h = (x * x).exp()
        loss = h.sum()
    assert loss.grad_fn is None and h.grad_fn is None
    assert x._accumulator is None or x._accumulator() is None  # no AccumulateGrad node for x either
    ref = weakref.ref(h)
    del h
    assert ref() is None  # the result is not held by a node
    gc.collect()
    assert sum(isinstance(o, Node) for o in gc.get_objects()) == nodes_before


def test_no_grad_as_decorator_with_and_without_parentheses():
    x = ag.ones(2, requires_grad=True)

    @ag.no_grad()
    def f(t):
        return t * 2

    @ag.no_grad
    def f2(t):
        return t * 2

    assert not f(x).requires_grad and f(x).grad_fn is None
    assert not f2(x).requires_grad
    assert f.__name__ == "f"
    assert ag.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = ag.ones(2, requires_grad=True)
    with ag.no_grad():
        assert (x * 2).requires_grad is False
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            y = x * 2
        assert not ag.is_grad_enabled()
    assert y.requires_grad and y.grad_fn.name() == "MulBackward0"


def test_enable_grad_as_decorator():
    x = ag.ones(2, requires_grad=True)

    @ag.enable_grad()
    def f(t):
        return t * 2

    with ag.no_grad():
        y = f(x)
    assert y.requires_grad


def test_set_grad_enabled_as_call_and_context():
    x = ag.ones(2, requires_grad=True)
    ag.set_grad_enabled(False)
    try:
        assert not ag.is_grad_enabled()
        assert (x * 2).requires_grad is False
    finally:
        ag.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with ag.set_grad_enabled(False):
        assert (x * 2).requires_grad is False
    assert ag.is_grad_enabled()
    with ag.no_grad():
        with ag.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not ag.is_grad_enabled()


def test_inference_mode():
    x = ag.ones(2, requires_grad=True)
    with ag.inference_mode():
        t = x * 2
    assert not t.requires_grad and t.grad_fn is None
    with ag.inference_mode(False):
        assert (x * 2).requires_grad

    @ag.inference_mode()
    def f(v):
        return v * 2

    assert not f(x).requires_grad


def test_modes_are_restored_after_an_exception():
    with pytest.raises(ValueError):
        with ag.no_grad():
            raise ValueError("boom")
    assert ag.is_grad_enabled()
    with pytest.raises(ValueError):
        with ag.no_grad():
            with ag.enable_grad():
                raise ValueError("boom")
    assert ag.is_grad_enabled()


def test_leaves_created_under_no_grad_still_require_grad():
    with ag.no_grad():
        w = ag.ones(2, requires_grad=True)
    assert w.requires_grad and w.is_leaf


def test_in_place_update_under_no_grad_is_allowed_on_a_leaf():
    """The optimizer step: `w -= lr * w.grad` inside no_grad keeps w a leaf and bumps its version."""
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    version = w._vc[0]
    with ag.no_grad():
        w -= 0.5 * w.grad
    assert w.tolist() == [0.0, 0.0]
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    assert w._vc[0] == version + 1


def test_the_flag_is_one_module_level_switch():
    assert grad_mode.enabled is True
    with ag.no_grad():
        assert grad_mode.enabled is False
