"""Saved-tensor hooks (`autograd.graph`), as PyTorch's: what pack receives, how often pack and unpack run,
what the unpacked tensor is, the errors. Expectations recorded from torch 2.13; checked side by side with
torch when it is installed."""
import gc
import weakref

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.autograd.graph import (
    Node, SavedTensor, disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks)


def _logging_hooks(log):
    def pack(t):
        log.append(("pack", t))
        return t

    def unpack(t):
        log.append(("unpack", t))
        return t
    return pack, unpack


def test_pack_gets_the_saved_inputs_themselves_in_pytorchs_order_without_recording():
    a = ag.ones(3, requires_grad=True)
    b = ag.ones(3, requires_grad=True) * 2
    seen = []

    def pack(t):
        seen.append((t, ag.is_grad_enabled()))
        return t * 4  # not recorded: pack runs without grad mode

    with saved_tensors_hooks(pack, lambda t: t / 4):
        y = a * b
    assert len(seen) == 2 and seen[0][0] is b and seen[1][0] is a and not any(grad for _, grad in seen)  # other, then self
    saved_self = y.grad_fn._saved_self
    assert saved_self is not a and saved_self.requires_grad and saved_self.grad_fn is None
    assert saved_self.tolist() == [1.0, 1.0, 1.0]
    assert y.grad_fn._saved_other.grad_fn is b.grad_fn  # the unpacked tensor takes the saved one's place


def test_pack_once_per_saved_tensor_unpack_on_every_read_and_nothing_after_backward():
    log = []
    a, b = ag.ones(3, requires_grad=True), ag.full((3,), 2.0, requires_grad=True)
    with saved_tensors_hooks(*_logging_hooks(log)):
        y = a * b
    assert [k for k, _ in log] == ["pack", "pack"]
    log.clear()
    y.grad_fn._saved_self  # noqa: B018  (one read, one unpack)
    assert len(log) == 1 and log[0][1] is a
    log.clear()
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert [k for k, _ in log] == ["unpack"] * 4  # two per backward; pack never again
    log.clear()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.grad_fn._saved_self  # noqa: B018
    assert log == []


def test_only_the_tensors_a_wanted_gradient_reads_are_packed():
    log = []
    a, c = ag.ones(3, requires_grad=True), ag.ones(3)
    with saved_tensors_hooks(*_logging_hooks(log)):
        a * c  # only a's gradient is wanted, and it reads c
        a * 2  # a number is not a saved tensor
        a + c  # Add saves nothing
    assert len(log) == 1 and log[0][1] is c


def test_a_saved_output_is_packed_as_the_output_itself_and_unpacked_as_a_new_tensor_of_its_node():
    log = []
    a = ag.ones(3, requires_grad=True)
    with saved_tensors_hooks(*_logging_hooks(log)):
        y = a.exp()
    assert len(log) == 1 and log[0][1] is y and log[0][1].grad_fn is y.grad_fn
    result = y.grad_fn._saved_result
    assert result is not y and result.equal(y) and result.grad_fn is y.grad_fn


def test_hooks_nest_and_the_innermost_pair_is_used():
    used = []
    a, b = ag.ones(3, requires_grad=True), ag.ones(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: used.append("outer") or t, lambda t: t):
        with saved_tensors_hooks(lambda t: used.append("inner") or t, lambda t: t):
            a * b
        a * b
    a * b
    assert used == ["inner", "inner", "outer", "outer"]


def test_tensors_packed_by_hooks_are_not_version_checked_as_in_pytorch():
    x = ag.ones(3, requires_grad=True)
    x2 = x * 1
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        y = x2 * x2
    x2.add_(1)
    y.sum().backward()  # no error: the hooks hand back the changed tensor
    assert x.grad.tolist() == [4.0, 4.0, 4.0]
    x2 = x * 1
    y = x2 * x2
    x2.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_hook_errors_have_pytorchs_messages():
    a = ag.ones(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = a * a
    with pytest.raises(TypeError, match="^Output of saved tensor unpack_hook expected to be a Tensor but got result "
                                        "of type int$"):
        y.grad_fn._saved_self  # noqa: B018
    x = ag.ones(3)
    with pytest.raises(RuntimeError, match="^A saved tensor pack hook is modifying its input in place"):
        with saved_tensors_hooks(lambda t: t.add_(1), lambda t: t):
            a * x
    with disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="^no hooks here$"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
        with disable_saved_tensors_hooks("inner"):
            pass
        with pytest.raises(RuntimeError, match="^no hooks here$"):  # the outer message is back
            saved_tensors_hooks(lambda t: t, lambda t: t).__enter__()
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        with pytest.raises(RuntimeError, match="^msg2$"):
            with disable_saved_tensors_hooks("msg2"):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: t):  # enabled again after the blocks
        pass


def test_custom_function_saved_tensors_are_packed_in_save_order_outputs_included():
    class Scale(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            out = x * y
            ctx.save_for_backward(x, None, out, y)
            return out

        @staticmethod
        def backward(ctx, g):
            x, none, out, y = ctx.saved_tensors
            assert none is None and out.grad_fn is ctx
            return g * y, g * x

    log = []
    a, b = ag.ones(3, requires_grad=True), ag.full((3,), 2.0)
    with saved_tensors_hooks(*_logging_hooks(log)):
        o = Scale.apply(a, b)
    assert [t for _, t in log][0] is a and log[1][1] is o and log[2][1] is b and len(log) == 3
    log.clear()
    o.sum().backward()
    assert len(log) == 3 and a.grad.tolist() == [2.0, 2.0, 2.0]


def test_the_tutorials_hooks_int_tuple_and_string_give_the_right_gradient():
    storage = []
    x = ag.randn(5, requires_grad=True)
    with saved_tensors_hooks(lambda t: storage.append(t) or len(storage) - 1, lambda i: storage[i]):
        y = x * x
    y.sum().backward()
    assert x.grad.equal(2 * x) and len(storage) == 2
    x = ag.randn(5, requires_grad=True)
    with saved_tensors_hooks(lambda t: repr(t), lambda s: eval("ag." + s)):  # noqa: S307 (the tutorial's trick)
        y = x * x
    y.sum().backward()
    assert ag.allclose(x.grad, 2 * x, atol=1e-4)


def test_double_backward_through_unpacked_tensors():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t * 4, lambda t: t / 4):
        y = (x * x * x).sum()
        (g,) = ag.autograd.grad(y, x, create_graph=True)  # 3x²
    assert g.tolist() == [3.0, 12.0]
    g.sum().backward()  # 6x, through the unpacked tensors' place in the graph
    assert x.grad.tolist() == [6.0, 12.0]


def test_packed_values_are_dropped_after_backward():
    class Box:
        pass

    refs = []

    def pack(t):
        box = Box()
        box.t = t
        refs.append(weakref.ref(box))
        return box

    a = ag.ones(3, requires_grad=True)
    with saved_tensors_hooks(pack, lambda box: box.t):
        y = a.exp()
    y.sum().backward()
    gc.collect()
    assert refs and all(r() is None for r in refs)


def test_save_on_cpu_keeps_the_tensor_itself_or_with_pin_memory_a_copy():
    for pin, expected in ((False, 4.0), (True, 2.0)):
        x = ag.ones(3, requires_grad=True)
        x2 = x * 1
        with save_on_cpu(pin_memory=pin):
            y = x2 * x2
        assert y.grad_fn._saved_self.grad_fn is x2.grad_fn
        x2.add_(1)
        y.sum().backward()
        assert x.grad.tolist() == [expected] * 3


def test_raw_saved_tensor_register_hooks_and_its_errors():
    a, b = ag.ones(3, requires_grad=True), ag.full((3,), 2.0, requires_grad=True)
    y = a * b
    raw = y.grad_fn._raw_saved_self
    assert isinstance(raw, SavedTensor) and raw.unpack_hook is None and raw.data is a
    got = []
    unpack = lambda n: a.detach() * n  # noqa: E731
    raw.register_hooks(lambda t: got.append(t) or 3, unpack)
    assert got[0] is not a and not got[0].requires_grad  # pack sees a detached tensor
    assert raw.data == 3 and raw.unpack_hook is unpack
    assert y.grad_fn._saved_self.tolist() == [3.0] * 3 and y.grad_fn._saved_self.requires_grad
    with pytest.raises(RuntimeError, match="^Calling register_hooks on a saved tensor whose hooks have already been "
                                           "set. Hint: only one pair of hooks is allowed at a time.$"):
        raw.register_hooks(lambda t: t, lambda t: t)
    with pytest.raises(TypeError, match="incompatible function arguments"):
        y.grad_fn._raw_saved_other.register_hooks(1, 2)
    z = a * ag.ones(3)
    with pytest.raises(RuntimeError, match="^Calling register_hooks on a saved tensor with value None is forbidden$"):
        z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
    e = a.exp()
    raw = e.grad_fn._raw_saved_result
    e.sum().backward()
    with pytest.raises(RuntimeError, match="^Calling register_hooks on a saved tensor after it has been freed"):
        raw.register_hooks(lambda t: t, lambda t: t)


class _Exp(ag.autograd.Function):
    """exp, saving its output (a saved output of a custom Function)."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return t * y


@pytest.mark.parametrize("lib_name", ["autograd_lite", "torch"])
def test_a_saved_tensor_keeps_its_tangent_through_hooks(lib_name):
    """Forward-over-reverse differentiates the rules, which read the saved values: unpacked through hooks (which
    may return a new tensor) they still carry their tangents, as PyTorch keeps a saved tensor's forward grad beside
    it. x**3 saves its input, prod its input and output; the gradient's tangent along e_1 is H e_1."""
    lib = ag if lib_name == "autograd_lite" else pytest.importorskip("torch")
    fwad = lib.autograd.forward_ad
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
    for pack in (lambda t: t, lambda t: t.detach() * 1):
        with fwad.dual_level():
            dual = fwad.make_dual(x.clone().requires_grad_(), lib.tensor([0.0, 1.0, 0.0], dtype=lib.float64))
            with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                y = (dual**3).sum() + dual.prod()
            (g,) = lib.autograd.grad(y, dual)
            assert fwad.unpack_dual(g).tangent.tolist() == [3.0, 12.0, 1.0]  # 6 x_1 on the diagonal; x_0 x_2 from prod


def test_hessians_under_saved_tensor_hooks_are_those_without():
    """(torch.func refuses saved-tensor hooks: "don't yet support saved tensor hooks"; here they work.) The saved
    inputs and outputs of ops, a custom Function's saved output and std_mean's saved output 0 keep their tangents."""
    x = ag.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.5]], dtype=ag.float64)
    w = ag.tensor([[0.3, -1.2, 0.7], [1.1, 0.4, -0.8]], dtype=ag.float64)
    functions = [lambda x: (x**3).sum() + x.prod(), lambda x: (_Exp.apply(x) * w).sum(),
                 lambda x: (ag.std_mean(x, 1)[0] * w[:, 0]).sum()]
    for f in functions:
        expected = ag.func.jacrev(ag.func.jacrev(f))(x).numpy()
        np.testing.assert_allclose(ag.func.hessian(f)(x).numpy(), expected, rtol=1e-12, atol=1e-12)
        with saved_tensors_hooks(lambda t: t * 1, lambda t: t):
            np.testing.assert_allclose(ag.func.hessian(f)(x).numpy(), expected, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(ag.func.jacfwd(ag.func.jacfwd(f))(x).numpy(), expected, rtol=1e-12, atol=1e-12)
    with ag.autograd.forward_ad.dual_level():  # a saved output packed by `register_hooks` keeps its tangent too
        dual = ag.autograd.forward_ad.make_dual(x.clone().requires_grad_(), ag.ones_like(x))
        e = dual.exp()
        e.grad_fn._raw_saved_result.register_hooks(lambda t: t * 1, lambda t: t)
        (g,) = ag.autograd.grad(e.sum(), dual)
        assert ag.autograd.forward_ad.unpack_dual(g).tangent.tolist() == x.exp().tolist()


def test_node_is_the_base_of_every_grad_fn():
    a = ag.ones(2, requires_grad=True)
    assert isinstance((a * a).grad_fn, Node) and isinstance(ag.autograd.graph.Node, type)
    assert not isinstance(a, Node)


# -- side by side with PyTorch ------------------------------------------------------------------------------
_OPS = {
    "mul": lambda a, b: a * b, "div": lambda a, b: a / b, "add": lambda a, b: a + b, "pow": lambda a, b: a ** 2,
    "pow_tensor": lambda a, b: a ** b, "exp": lambda a, b: a.exp(), "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(), "relu": lambda a, b: a.relu(), "log": lambda a, b: a.log(),
    "matmul": lambda a, b: a @ b.T, "sum": lambda a, b: a.sum(), "log_softmax": lambda a, b: a.log_softmax(-1),
    "prod": lambda a, b: a.prod(), "norm": lambda a, b: a.norm(), "max": lambda a, b: a.max(),
}
# (packs in forward, unpacks in backward), recorded from torch 2.13
_COUNTS = {"mul": (2, 2), "div": (2, 2), "add": (0, 0), "pow": (1, 1), "pow_tensor": (3, 3), "exp": (1, 1),
           "tanh": (1, 1), "sigmoid": (1, 1), "relu": (1, 1), "log": (1, 1), "matmul": (2, 2), "sum": (0, 0),
           "log_softmax": (1, 1), "prod": (2, 2), "norm": (2, 2), "max": (2, 2)}


def _counts(lib, name):
    a = (lib.arange(1.0, 10.0) / 4).reshape(3, 3).requires_grad_()
    b = (lib.arange(2.0, 11.0) / 5).reshape(3, 3).requires_grad_()
    log = []
    with lib.autograd.graph.saved_tensors_hooks(*_logging_hooks(log)):
        y = _OPS[name](a, b)
    packs = len(log)
    y.sum().backward()
    return packs, len(log) - packs, a.grad.flatten().tolist()


@pytest.mark.parametrize("name", sorted(_OPS))
def test_pack_and_unpack_counts_per_op(name):
    assert _counts(ag, name)[:2] == _COUNTS[name]


@pytest.mark.parametrize("name", sorted(_OPS))
def test_pack_and_unpack_counts_per_op_match_torch(name):
    torch = pytest.importorskip("torch")
    mine, theirs = _counts(ag, name), _counts(torch, name)
    assert mine[:2] == theirs[:2]
    assert mine[2] == pytest.approx(theirs[2], rel=1e-5)
