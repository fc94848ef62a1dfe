"""The backward engine (engine.py): accumulation, fan-out, freeing saved values, hooks, retain_grad,
`inputs=`, `autograd.grad`, the order nodes run in, and graphs far deeper than Python's recursion limit.

Expected values are PyTorch's, as recorded in its transcripts (accumulation and retain_graph, hooks,
backward(inputs=...), the second-backward rule).
"""
import gc
import random
import time

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.engine import backward_order, run_backward
from autograd_lite.graph import FREED_MESSAGE


def leaf(values, dtype=None):
    return ag.tensor(values, dtype=dtype, requires_grad=True)


# --------------------------------------------------------------------------------------------------
# accumulation, fan-out, diamonds
# --------------------------------------------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 1.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    assert x.grad.tolist() == [2.0, 2.0]
    y.backward(retain_graph=True)
    assert x.grad.tolist() == [4.0, 4.0]
    y.backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_accumulation_happens_in_place_so_references_to_grad_see_the_sum():
    x = leaf([1.0, 1.0])
    (x * 2).sum().backward()
    first = x.grad
    (x * 2).sum().backward()
    assert x.grad is first  # PyTorch: `x.grad is g1` -> True
    assert first.tolist() == [4.0, 4.0]
    assert not first.requires_grad and first.grad_fn is None


def test_grad_set_to_none_starts_a_fresh_tensor():
    x = leaf([1.0, 1.0])
    (x * 2).sum().backward()
    old = x.grad
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad is not old
    assert x.grad.tolist() == [2.0, 2.0] and old.tolist() == [2.0, 2.0]


def test_fan_out_a_plus_a_then_squared_is_exact():
    a = leaf(3.0, dtype=ag.float64)
    b = a + a  # both edges of AddBackward0 lead to the same AccumulateGrad node
    c = b * b
    c.backward()
    assert c.item() == 36.0
    assert a.grad.item() == 24.0  # dc/da = 2b * 2 = 4 * 6, exactly


def test_fan_out_sums_gradients_before_a_node_runs():
    x = leaf([1.0, 2.0])
    u = x * 1
    seen = []
    u.register_hook(lambda g: seen.append(g.tolist()))
    (u * 2 + u * 3).sum().backward()
    assert seen == [[5.0, 5.0]]  # the hook runs once, with the summed gradient
    assert x.grad.tolist() == [5.0, 5.0]


def test_diamond_with_different_branches_matches_the_formula_exactly():
    x = leaf([0.3, -1.2, 2.0], dtype=ag.float64)
    y = x * 2
    z = (y.sin() * y.cos() + y.exp()).sum()
    z.backward()
    yv = 2 * np.array([0.3, -1.2, 2.0])
    expected = 2 * (np.cos(yv) ** 2 - np.sin(yv) ** 2 + np.exp(yv))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)


def test_the_same_leaf_in_several_places_and_broadcast():
    w = leaf([[1.0, 2.0, 3.0]], dtype=ag.float64)  # (1, 3), broadcast against (2, 3)
    x = ag.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]], dtype=ag.float64)
    ((x * w) + w * w).sum().backward()
    assert w.grad.shape == (1, 3)
    assert w.grad.tolist() == [[3.0 + 4.0, 3.0 + 8.0, 3.0 + 12.0]]


def test_zero_resets_the_gradient_as_in_the_source_notebook():
    inp = ag.eye(5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(ag.ones_like(inp), retain_graph=True)
    first = np.full((5, 5), 2.0) + 2 * np.eye(5)
    np.testing.assert_array_equal(inp.grad.numpy(), first)
    out.backward(ag.ones_like(inp), retain_graph=True)
    np.testing.assert_array_equal(inp.grad.numpy(), 2 * first)
    zeroed = inp.grad.zero_()
    assert zeroed is inp.grad
    np.testing.assert_array_equal(inp.grad.numpy(), np.zeros((5, 5)))
    out.backward(ag.ones_like(inp), retain_graph=True)
    np.testing.assert_array_equal(inp.grad.numpy(), first)


def test_non_leaf_grad_stays_none_and_leaf_grad_keeps_its_dtype():
    x = leaf([1.0, 2.0])
    y = x * 2
    (y * ag.tensor([1.0, 1.0], dtype=ag.float64)).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None
    assert x.grad.dtype == ag.float32  # the float64 gradient is cast back to the leaf's dtype


# --------------------------------------------------------------------------------------------------
# retain_graph and the second backward
# --------------------------------------------------------------------------------------------------
def test_second_backward_raises_pytorchs_message_and_keeps_the_first_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = (x * 2).sum()  # MulBackward0 saves its inputs (the scalar 2 included)
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert str(info.value) == FREED_MESSAGE
    assert str(info.value).startswith("Trying to backward through the graph a second time (or directly access "
                                      "saved tensors after they have already been freed).")
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("make", [
    lambda x: (x + 1).sum(),
    lambda x: x.sum(),
    lambda x: (-x).sum() + x.reshape(3, 1).t().sum() + x[0],
    lambda x: (x - 2).mean(),
], ids=["add_scalar", "sum", "neg_views_select", "sub_mean"])
def test_graphs_that_saved_nothing_can_be_backwarded_again(make):
    """PyTorch raises only when a re-run node needs a saved value that was freed (its section 3.5b)."""
    x = leaf([1.0, 2.0, 3.0])
    y = make(x)
    y.backward()
    once = x.grad.numpy().copy()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * once)


@pytest.mark.parametrize("make", [
    lambda x: (x * 2).sum(),
    lambda x: (x / 2).sum(),
    lambda x: (x * x).sum(),
    lambda x: x.exp().sum(),
    lambda x: (x + 1).sigmoid().sum(),
], ids=["mul_scalar", "div_scalar", "mul", "exp", "sigmoid"])
def test_graphs_with_saved_values_cannot_be_backwarded_again(make):
    x = leaf([1.0, 2.0, 3.0])
    y = make(x)
    y.backward()
    before = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match=r"^Trying to backward through the graph a second time"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), before)


def test_retain_graph_keeps_saved_values_until_a_backward_without_it():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    assert y.grad_fn.next_functions[0][0]._freed is False
    y.backward()
    assert x.grad.tolist() == [6.0, 12.0]
    mul = y.grad_fn.next_functions[0][0]
    assert mul._freed is True
    with pytest.raises(RuntimeError, match="^Trying to backward"):
        mul.saved_tensors  # noqa: B018  (the access itself raises, as PyTorch's `_saved_self`)


def test_autograd_grad_frees_the_graph_too():
    x = leaf([1.0, 2.0])
    y = x.exp().sum()
    ag.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="^Trying to backward"):
        ag.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="^Trying to backward"):
        y.backward()
    assert x.grad is None


def test_autograd_grad_with_retain_graph_can_run_twice():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    first = ag.autograd.grad(y, x, retain_graph=True)[0]
    second = ag.autograd.grad(y, x)[0]
    assert first.tolist() == second.tolist() == [2.0, 4.0]


# --------------------------------------------------------------------------------------------------
# hooks and retain_grad
# --------------------------------------------------------------------------------------------------
def test_leaf_hook_can_observe():
    x = leaf([1.0, 2.0, 3.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    (x * 2).sum().backward()
    assert seen == [[2.0, 2.0, 2.0]]
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_leaf_hook_can_replace_the_gradient():
    x = leaf([1.0, 2.0, 3.0])
    x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [20.0, 20.0, 20.0]


def test_non_leaf_hook_replaces_what_flows_upstream():
    x = leaf([1.0, 2.0, 3.0])
    a = x * 2
    a.register_hook(lambda g: g * 10)
    a.sum().backward()
    assert x.grad.tolist() == [20.0, 20.0, 20.0]


@pytest.mark.parametrize("retain_first", [True, False])
def test_retain_grad_sees_the_hook_modified_gradient_whatever_the_order(retain_first):
    x = leaf([1.0, 2.0, 3.0])
    a = x * 2
    if retain_first:
        a.retain_grad()
    a.register_hook(lambda g: g * 10)
    if not retain_first:
        a.retain_grad()
    a.sum().backward()
    assert a.grad.tolist() == [10.0, 10.0, 10.0]
    assert x.grad.tolist() == [20.0, 20.0, 20.0]


def test_hooks_run_in_registration_order_each_seeing_the_previous_result():
    order = []
    x = leaf([1.0, 2.0])
    a = x * 2
    b = a * 3
    a.register_hook(lambda g: order.append(("a hook1", g.tolist())))
    a.register_hook(lambda g: order.append(("a hook2", g.tolist())) or g + 1)
    a.register_hook(lambda g: order.append(("a hook3", g.tolist())))
    b.register_hook(lambda g: order.append(("b hook", g.tolist())))
    x.register_hook(lambda g: order.append(("x leaf hook", g.tolist())))
    b.sum().backward()
    assert order == [("b hook", [1.0, 1.0]), ("a hook1", [3.0, 3.0]), ("a hook2", [3.0, 3.0]),
                     ("a hook3", [4.0, 4.0]), ("x leaf hook", [8.0, 8.0])]
    assert x.grad.tolist() == [8.0, 8.0]


def test_removed_hook_no_longer_runs():
    x = leaf([1.0])
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_retain_grad_on_a_leaf_is_a_no_op_and_non_leaf_grad_accumulates():
    x = leaf([1.0, 1.0])
    x.retain_grad()
    assert x.retains_grad is False
    a = x * 2
    a.retain_grad()
    assert a.retains_grad is True
    b = (a * a).sum()
    b.backward(retain_graph=True)
    assert a.grad.tolist() == [4.0, 4.0] and x.grad.tolist() == [8.0, 8.0]
    b.backward()
    assert a.grad.tolist() == [8.0, 8.0]


# --------------------------------------------------------------------------------------------------
# backward(inputs=...) and autograd.grad
# --------------------------------------------------------------------------------------------------
def test_backward_inputs_accumulates_only_into_the_named_leaves():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad.tolist() == [1.0, 2.0]
    ag.autograd.backward((x * w).sum(), inputs=[x])
    assert x.grad.tolist() == [3.0, 4.0] and w.grad.tolist() == [1.0, 2.0]
    (x * w).sum().backward(inputs=w)  # a single tensor works too
    assert w.grad.tolist() == [2.0, 4.0]


def test_backward_inputs_may_name_a_non_leaf():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([0.5, -1.0, 2.0])
    h = x * w
    loss = (h * h).sum()
    loss.backward(inputs=[h], retain_graph=True)
    assert h.grad.tolist() == (2 * h.detach()).tolist()
    assert x.grad is None and w.grad is None and not h.is_leaf
    loss.backward(inputs=[ag.randn(3, requires_grad=True)])  # unrelated tensor: nothing happens, no error
    assert x.grad is None and w.grad is None


def test_autograd_grad_returns_a_tuple_and_touches_no_grad():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    r = ag.autograd.grad((x * w).sum(), x)
    assert type(r) is tuple and r[0].tolist() == [3.0, 4.0]
    gx, gw = ag.autograd.grad((x * w).sum(), (x, w))
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    (g,) = ag.autograd.grad([(x * w).sum(), (x * x).sum()], [x])
    assert g.tolist() == [5.0, 8.0]
    (g,) = ag.autograd.grad(x * w, x, grad_outputs=ag.ones(2))
    assert g.tolist() == [3.0, 4.0] and not g.requires_grad
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_inputs():
    x = leaf([1.0, 2.0])
    u = leaf([5.0, 6.0])
    gx, gu = ag.autograd.grad((x * x).sum(), [x, u], allow_unused=True)
    assert gx.tolist() == [2.0, 4.0] and gu is None
    gx, gu = ag.autograd.grad((x * x).sum(), [x, u], allow_unused=True, materialize_grads=True)
    assert gu.tolist() == [0.0, 0.0]


def test_autograd_grad_with_create_graph_differentiates_again():
    x = leaf([1.0, 2.0])
    (g,) = ag.autograd.grad((x**3).sum(), x, create_graph=True)
    assert g.tolist() == [3.0, 12.0]
    assert g.requires_grad and g.grad_fn is not None
    (gg,) = ag.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 12.0]  # d/dx sum(3x^2) = 6x
    assert x.grad is None


def test_third_derivative_through_create_graph_twice():
    x = leaf(1.5, dtype=ag.float64)
    (d1,) = ag.autograd.grad(x**4, x, create_graph=True)
    (d2,) = ag.autograd.grad(d1, x, create_graph=True)
    (d3,) = ag.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (4 * 1.5**3, 12 * 1.5**2, 24 * 1.5)


def test_backward_create_graph_makes_grad_differentiable():
    x = leaf([1.0, 2.0])
    (x**2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = ag.autograd.grad(x.grad.sum(), x)
    assert gg.tolist() == [2.0, 2.0]


# --------------------------------------------------------------------------------------------------
# order: each node after all its consumers; among ready nodes, the newest first (PyTorch's order)
# --------------------------------------------------------------------------------------------------
def _consumers(order):
    consumers = {}
    for node in order:
        for child, _ in node.next_functions:
            if child is not None:
                consumers.setdefault(child, []).append(node)
    return consumers


def _assert_topological(order):
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order), "a node appears twice"
    for child, users in _consumers(order).items():
        assert child in position, f"{child.name()} is reachable but missing from the order"
        for user in users:
            assert position[user] < position[child], f"{child.name()} runs before its consumer {user.name()}"


def test_backward_runs_newest_ready_node_first():
    x = leaf([0.5, 1.0])
    y = x * 2
    a = y.sin()
    b = y.cos()
    z = (a + b).sum()
    ran = []
    run_backward([z.grad_fn], [ag.tensor(1.0)], retain_graph=False, create_graph=False,
                 observer=lambda node, grad: ran.append(type(node).__name__))
    assert ran == ["SumBackward0", "AddBackward0", "CosBackward0", "SinBackward0", "MulBackward0", "AccumulateGrad"]
    assert [type(n).__name__ for n in backward_order([z.grad_fn])] == ran


def test_backward_order_is_topological_on_random_graphs():
    rng = random.Random(0)
    for _ in range(20):
        leaves = [leaf([rng.uniform(0.5, 1.5)]) for _ in range(3)]
        values = list(leaves)
        for _ in range(40):
            a, b = rng.choice(values), rng.choice(values)
            values.append(rng.choice([lambda p, q: p + q, lambda p, q: p * q, lambda p, q: (p - q).tanh()])(a, b))
        root = builtin_sum(values[-5:]).sum()
        order = backward_order([root.grad_fn])
        _assert_topological(order)
        ran = []
        run_backward([root.grad_fn], [ag.tensor(1.0)], retain_graph=True, create_graph=False,
                     observer=lambda node, grad, ran=ran: ran.append(node))
        assert ran == order


# --------------------------------------------------------------------------------------------------
# depth: no recursion anywhere
# --------------------------------------------------------------------------------------------------
def _chain(n_ops):
    """x -> x * a + b, repeated: `n_ops` nodes deep. d out / d x = a ** (n_ops / 2)."""
    a, b = 1.0 + 1e-6, 1e-6
    x = leaf(1.0, dtype=ag.float64)
    y = x
    for _ in range(n_ops // 2):
        y = y * a + b
    return x, y, a ** (n_ops // 2)


def _check_chain(n_ops):
    # Python's cyclic garbage collector re-traverses the growing graph while it is built, which makes
    # building it about 3x slower (measured); that is not what this test is about, so it is paused.
    t0 = time.perf_counter()
    gc.disable()
    try:
        x, y, expected = _chain(n_ops)
    finally:
        gc.enable()
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    assert x.grad.item() == pytest.approx(expected, rel=1e-9)
    assert len(backward_order([y.grad_fn])) == n_ops + 1  # every op, and the leaf's AccumulateGrad
    del y  # freeing a deep graph must not overflow the C stack either
    return t1 - t0, t2 - t1


def test_a_100_000_op_chain_backprops_without_recursion_error():
    _check_chain(100_000)


@pytest.mark.slow
def test_a_1_000_000_op_chain_backprops_without_recursion_error():
    _check_chain(1_000_000)


builtin_sum = sum


def test_create_graph_gives_each_leaf_its_own_grad_tensor():
    # the engine hands Add's one gradient to both inputs; .grad must not be shared between leaves
    a = ag.ones(2, requires_grad=True)
    b = ag.ones(2, requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    a.grad.detach().zero_()  # zeroing one leaf's gradient leaves the other's alone
    assert b.grad.tolist() == [1.0, 1.0]
