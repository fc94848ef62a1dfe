"""The engine's internals as PyTorch has them, where the course teaches them: the order nodes run in,
the names of the nodes, what a node saves and when it frees it, and what a backward that fails midway
leaves behind.

Each behaviour is checked against recorded expectations (always) and against real PyTorch when it is
installed (those tests skip without it: PyTorch is not a dependency).
"""
import importlib
import tracemalloc

import pytest

import autograd_lite as ag


def _torch():
    return pytest.importorskip("torch")


def _libs():
    """autograd_lite always; PyTorch too when installed."""
    libs = [ag]
    try:
        libs.append(importlib.import_module("torch"))
    except ImportError:
        pass
    return libs


# ---------------------------------------------------------------------------------------------------
# The order: AccumulateGrad first among the ready nodes, then the most recently created node
# ---------------------------------------------------------------------------------------------------
def _visit_order(lib, root, labels):
    """The nodes of root's graph in the order backward runs them, seen by a pre-hook on every node."""
    seen, order, stack = set(), [], [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        node.register_prehook(lambda grads, node=node: order.append(node))
        stack.extend(child for child, _ in node.next_functions)
    root.backward()
    names = []
    for node in order:
        name = type(node).__name__
        if name == "AccumulateGrad":
            name += f"({labels[id(node.variable)]})"
        names.append(name)
    return names


def _graphs(lib):
    """(name, root, labels) for graphs where the order is not obvious: leaves ready early, ties."""
    F = importlib.import_module(lib.__name__ + ".nn.functional")
    leaf = lambda v: lib.tensor(v, requires_grad=True)  # noqa: E731
    x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    w, b = leaf([[0.1], [0.2], [-0.3]]), leaf([0.05])
    z = (x @ w).squeeze() + b
    yield "classifier", F.binary_cross_entropy_with_logits(z, lib.tensor([1.0, 0.0])), {id(w): "w", id(b): "b"}
    a, c, d, e, f = leaf(2.0), leaf(3.0), leaf(4.0), leaf(5.0), leaf(6.0)
    names = {id(a): "a", id(c): "c", id(d): "d", id(e): "e", id(f): "f"}
    yield "product", a * c * d, names
    yield "three products", (a * c) + (c * d) + (d * a), names
    yield "five leaves at once", lib.stack([a, c, d, e, f]).sum(), names
    s = (a + c) * d + e * f
    yield "mixed", s * (a + f), names


EXPECTED_ORDER = {
    "classifier": ["BinaryCrossEntropyWithLogitsBackward0", "AddBackward0", "AccumulateGrad(b)", "SqueezeBackward0",
                   "MmBackward0", "AccumulateGrad(w)"],
    "product": ["MulBackward0", "AccumulateGrad(d)", "MulBackward0", "AccumulateGrad(a)", "AccumulateGrad(c)"],
    "three products": ["AddBackward0", "MulBackward0", "AddBackward0", "MulBackward0", "AccumulateGrad(d)",
                       "MulBackward0", "AccumulateGrad(a)", "AccumulateGrad(c)"],
    # five leaves become ready together: they leave the heap as PyTorch's priority queue leaves them
    "five leaves at once": ["SumBackward0", "StackBackward0", "AccumulateGrad(a)", "AccumulateGrad(d)",
                            "AccumulateGrad(f)", "AccumulateGrad(c)", "AccumulateGrad(e)"],
    "mixed": ["MulBackward0", "AddBackward0", "AddBackward0", "MulBackward0", "AccumulateGrad(e)",
              "AccumulateGrad(f)", "MulBackward0", "AccumulateGrad(d)", "AddBackward0", "AccumulateGrad(a)",
              "AccumulateGrad(c)"],
}


@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_backward_runs_accumulate_grad_first_then_the_newest_node(lib):
    for name, root, labels in _graphs(lib):
        assert _visit_order(lib, root, labels) == EXPECTED_ORDER[name], name


def test_backward_order_lists_the_order_backward_runs():
    from autograd_lite.engine import backward_order

    for name, root, labels in _graphs(ag):
        listed = [type(n).__name__ for n in backward_order([root.grad_fn])]
        assert listed == [n.split("(")[0] for n in EXPECTED_ORDER[name]], name


@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_accumulate_grad_names(lib):
    w = lib.tensor([1.0], requires_grad=True)
    node = (w * 2).grad_fn.next_functions[0][0]
    assert node.name() == "torch::autograd::AccumulateGrad"
    assert type(node).__name__ == "AccumulateGrad"
    assert node.variable is w


# ---------------------------------------------------------------------------------------------------
# Freeing node by node, and what a failed backward leaves
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_a_node_frees_its_saved_values_right_after_its_rule_runs(lib):
    x = lib.tensor([0.5, 1.5], requires_grad=True)
    first = x.exp()
    second = first.sin()  # SinBackward0 saves `first`; it runs before ExpBackward0
    sin_node, exp_node = second.grad_fn, first.grad_fn
    seen = {}

    def when_exp_runs(grads):
        try:
            sin_node._saved_self
            seen["sin"] = "kept"
        except RuntimeError as e:
            seen["sin"] = "freed" if "backward through the graph a second time" in str(e) else str(e)
        seen["exp"] = exp_node._saved_result is not None  # not yet run: still there

    exp_node.register_prehook(when_exp_runs)
    second.sum().backward()
    assert seen == {"sin": "freed", "exp": True}


def test_peak_memory_of_backward_stays_near_the_saved_values():
    """Freed node by node, the saved activations of a 50-layer chain make room for the weights'
    gradients as backward goes; kept to the end, both would be held at once (twice the memory)."""
    ag.manual_seed(0)
    depth, d = 50, 128
    ws = [ag.randn(d, d, requires_grad=True) for _ in range(depth)]
    tracemalloc.start()
    try:
        h = ag.randn(d, d)
        for w in ws:
            h = (h @ w).tanh()
        loss = h.sum()
        del h
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        loss.backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    activation = d * d * 4
    assert before > depth * activation  # the saved values are there before backward
    assert peak - before < 10 * activation  # only a few gradients more, never a second copy of everything


@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_a_backward_failing_midway_keeps_what_pytorch_keeps(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([5.0, 6.0], requires_grad=True)
    h = a.exp()  # ExpBackward0 saves its result...
    exp_node = h.grad_fn
    y = h * 3  # MulBackward0 saves the 3 (h's gradient reads it), not h
    h.add_(1)  # ...which is then changed: ExpBackward0 will fail
    c = b * b  # created later, so run earlier: b's gradient is complete before the failure
    loss = y.sum() + c.sum()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    assert a.grad is None
    assert b.grad.tolist() == [10.0, 12.0]  # accumulated before the failure, and kept
    for saved in (lambda: c.grad_fn._saved_self, lambda: y.grad_fn._saved_other):
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            saved()  # nodes that ran have freed what they saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        exp_node._saved_result  # the failing node did not run: it keeps its (modified) result


@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_errors_found_before_the_walk_change_nothing(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    for bad in (lambda: y.backward(), lambda: y.backward(lib.ones(3))):
        with pytest.raises(RuntimeError):
            bad()
        assert x.grad is None
        assert y.grad_fn._saved_self is not None
    y.backward(lib.ones(2))
    assert x.grad.tolist() == [2.0, 4.0]


# ---------------------------------------------------------------------------------------------------
# What a node saves: only what the wanted gradients read, under PyTorch's names
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_matmul_saves_only_the_input_the_wanted_gradient_reads(lib):
    x = lib.tensor([[1.0, 2.0]])
    w = lib.tensor([[3.0], [4.0]], requires_grad=True)
    y = x @ w
    assert y.grad_fn._saved_self is x and y.grad_fn._saved_mat2 is None
    with lib.no_grad():
        w.add_(1.0)  # w was not saved: changing it is no error (w's gradient reads x only)
    y.sum().backward()
    assert w.grad.tolist() == [[1.0], [2.0]]


@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_times_a_number_saves_the_number_not_the_tensor(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    assert y.grad_fn._saved_self is None and y.grad_fn._saved_other.item() == 3.0
    with lib.no_grad():
        x.copy_(lib.tensor([5.0, 6.0]))  # x was not saved: no version error below
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_changing_a_saved_input_is_still_caught(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0], requires_grad=True)
    y = x * w  # both need gradients: both saved
    with lib.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)
def test_saved_values_under_pytorchs_names(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = lib.tensor([[0.5], [1.5]], requires_grad=True)
    mm = (x @ w).grad_fn
    assert mm._saved_self is x and mm._saved_mat2 is w
    e = x.exp()
    assert e.grad_fn._saved_result.tolist() == e.tolist()
    assert e.grad_fn._saved_result.grad_fn is e.grad_fn  # unpacked as a tensor of this node, as PyTorch
    d = x / w.t()
    assert d.grad_fn._saved_self is x and d.grad_fn._saved_other.tolist() == w.t().tolist()
    p = x ** 3
    assert p.grad_fn._saved_self is x and p.grad_fn._saved_exponent == 3
    c = x.clamp(0.0, 2.5)
    assert c.grad_fn._saved_self is x and c.grad_fn._saved_min == 0.0 and c.grad_fn._saved_max == 2.5
    e.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        e.grad_fn._saved_result
    with pytest.raises(AttributeError):
        mm._saved_nothing_by_this_name


def _random_program(rng, n_leaves, n_ops):
    """A random graph as a list of steps: (op, i, j) over earlier values (leaves first), reused freely."""
    steps = []
    for k in range(n_ops):
        n = n_leaves + k
        op = rng.choice(["add", "mul", "sub", "tanh", "exp", "sum_stack"])
        steps.append((op, rng.randrange(n), rng.randrange(n)))
    return steps


def _run_program(lib, steps, values, grads_needed):
    leaves = [lib.tensor(v, dtype=lib.float64, requires_grad=need) for v, need in zip(values, grads_needed)]
    vals = list(leaves)
    for op, i, j in steps:
        a, b = vals[i], vals[j]
        vals.append({"add": lambda: a + b, "mul": lambda: a * b, "sub": lambda: a - b, "tanh": lambda: a.tanh(),
                     "exp": lambda: (a * 0.1).exp(), "sum_stack": lambda: lib.stack([a, b, a]).sum(0)}[op]())
    root = sum(vals[len(values):], vals[-1] * 0).sum()  # every op's value is used
    labels = {id(t): f"x{i}" for i, t in enumerate(leaves)}
    return _visit_order(lib, root, labels) if root.requires_grad else None


def test_backward_order_matches_pytorch_on_random_graphs():
    """Random graphs with reuse, diamonds and several leaves ready at once: the same visit order."""
    torch = _torch()
    import random

    rng = random.Random(0)
    for _ in range(60):
        n_leaves = rng.randrange(2, 6)
        steps = _random_program(rng, n_leaves, rng.randrange(3, 15))
        values = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n_leaves)]
        needed = [rng.random() < 0.7 for _ in range(n_leaves)]
        assert _run_program(ag, steps, values, needed) == _run_program(torch, steps, values, needed), steps


# ---------------------------------------------------------------------------------------------------
# Hooks, retain_grad and inputs=: what runs, in which order, on which gradient (as PyTorch)
# ---------------------------------------------------------------------------------------------------
LIBS = pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)


def _x(lib):
    return lib.tensor([1.0, 1.0, 1.0], dtype=lib.float64, requires_grad=True)


@LIBS
def test_tensor_hooks_then_retain_grad_then_node_pre_hooks(lib):
    x, seen = _x(lib), []
    y = x * 2
    y.grad_fn.register_prehook(lambda gs: (seen.append("node pre-hook"), (gs[0] * 100,))[1])
    y.register_hook(lambda g: (seen.append("tensor hook"), g * 3)[1])
    y.retain_grad()
    x.register_hook(lambda g: seen.append("leaf tensor hook"))
    (y.sum()).backward()
    assert seen == ["tensor hook", "node pre-hook", "leaf tensor hook"]
    assert y.grad.tolist() == [3.0] * 3  # after the tensor hook, before the node's pre-hook
    assert x.grad.tolist() == [600.0] * 3


@LIBS
def test_autograd_grad_captures_before_the_hooks_of_a_node_that_runs(lib):
    x = _x(lib)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    (gy,) = lib.autograd.grad((y * y).sum(), [y], retain_graph=True)
    assert gy.tolist() == [40.0] * 3  # y's node does not run: its hooks run once, on the captured value
    gy, gx = lib.autograd.grad((y * y).sum(), [y, x])
    assert gy.tolist() == [4.0] * 3 and gx.tolist() == [80.0] * 3  # y's node runs: captured as it arrived


@LIBS
def test_backward_with_a_non_leaf_input_retains_its_grad_and_runs_its_node(lib):
    x = _x(lib)
    y = x * 3
    (y * y).sum().backward(inputs=[y])
    assert y.retains_grad and y.grad.tolist() == [6.0] * 3 and x.grad is None
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn._saved_other  # y's node ran, and freed what it saved


@LIBS
def test_backward_with_inputs_failing_midway_keeps_the_grads_it_filled(lib):
    a, x = _x(lib), _x(lib)
    e = x.exp()
    loss = e.sum() + (a * 2).sum()
    with lib.no_grad():
        e.mul_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward(inputs=[a, x])
    assert a.grad.tolist() == [2.0] * 3 and x.grad is None


@LIBS
def test_accumulate_grad_post_hooks_and_nodes_without_a_gradient(lib):
    x, seen = _x(lib), []
    twice = x * 2
    twice.grad_fn.next_functions[0][0].register_hook(lambda gi, go: seen.append((gi, go[0].tolist())))

    class Nothing(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            return None

    e = x.exp()
    e.grad_fn.register_prehook(lambda gs: seen.append(gs))
    (twice.sum() + Nothing.apply(e).sum()).backward()
    assert seen == [(None,), ((), [2.0] * 3)]  # e's node got no gradient: its pre-hook saw None ...
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        e.grad_fn._saved_result  # ... and it was freed


@LIBS
def test_every_saved_value_is_checked_when_its_node_runs(lib):
    x = _x(lib)
    var, mean = lib.var_mean(x, 0)  # the mean's gradient does not read x; PyTorch checks it anyway
    with lib.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        mean.backward()


@LIBS
def test_what_hooks_may_return(lib):
    x = _x(lib)
    for register, exception, message in [
        (lambda y: y.register_hook(lambda g: (g,)), TypeError, "expected Variable, but hook returned 'tuple'"),
        (lambda y: y.grad_fn.register_prehook(lambda gs: [gs[0]]), TypeError,
         "expected tuple, but hook returned 'list'"),
        (lambda y: y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0])), RuntimeError,
         "can't replace a None gradient with a non-None value"),
    ]:
        y = x * 1.0
        register(y)
        with pytest.raises(exception) as info:
            y.sum().backward()
        assert str(info.value) == message


@LIBS
def test_a_value_never_saved_reads_as_none_after_backward(lib):
    x = _x(lib)
    y = x * lib.tensor([3.0, 3.0, 3.0], dtype=lib.float64)  # only x needs a gradient: x is not saved
    y.sum().backward()
    assert y.grad_fn._saved_self is None
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn._saved_other


@LIBS
def test_std_mean_saves_its_std_and_rsub_of_a_number_has_one_edge(lib):
    x = lib.tensor([1.0, 2.0, 4.0], dtype=lib.float64, requires_grad=True)
    std, mean = lib.std_mean(x)
    assert std.grad_fn._saved_result0.tolist() == std.tolist()
    with lib.no_grad():
        std.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (std + mean).backward()
    assert len((2.0 - x).grad_fn.next_functions) == 1
