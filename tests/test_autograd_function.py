"""autograd.Function: custom ops written by the user, recorded and run by the same engine as built-in ops.

Names and error messages are PyTorch's (checked against torch 2.13).
"""
import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.autograd import Function, forward_ad as fwAD, gradcheck, gradgradcheck


class Softplus(Function):
    """log(1 + e^x); backward written with tensor ops, so it can be differentiated again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (1 + x.exp()).log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()

    @staticmethod
    def jvp(ctx, x_t):
        (x,) = ctx.saved_tensors
        return x_t * x.sigmoid()


class Scale(Function):
    """x * k for a number k: backward returns None for the non-tensor input."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.k, None


class Exp(Function):
    """Saves its output, as PyTorch's exp does."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


def x64(*values):
    return ag.tensor(values, dtype=ag.float64, requires_grad=True)


def test_a_custom_op_passes_gradcheck_in_both_modes_and_to_second_order():
    x = x64(-1.5, 0.0, 0.3, 2.0)
    assert gradcheck(Softplus.apply, (x,), check_forward_ad=True)
    assert gradgradcheck(Softplus.apply, (x,))
    assert gradcheck(Exp.apply, (x,)) and gradgradcheck(Exp.apply, (x,))


def test_double_backward_goes_through_a_backward_written_with_tensor_ops():
    x = x64(0.5, -1.0)
    (g,) = ag.autograd.grad(Softplus.apply(x).sum(), x, create_graph=True)
    (gg,) = ag.autograd.grad(g.sum(), x)
    s = 1 / (1 + np.exp(-x.detach().numpy()))
    np.testing.assert_allclose(g.detach().numpy(), s)
    np.testing.assert_allclose(gg.numpy(), s * (1 - s))  # d/dx sigmoid(x)


def test_a_saved_output_comes_back_connected_to_its_node():
    x = x64(1.0, 2.0)
    y = Exp.apply(x)
    (saved,) = y.grad_fn.saved_tensors
    assert saved.grad_fn is y.grad_fn and saved.tolist() == y.tolist()
    (g,) = ag.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = ag.autograd.grad(g.sum(), x)  # d²/dx² e^x = e^x, through the saved output
    np.testing.assert_allclose(gg.numpy(), np.exp([1.0, 2.0]))


def test_node_names_and_edges_are_pytorchs():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, 3.0)
    assert type(y.grad_fn).__name__ == "ScaleBackward" and y.grad_fn.name() == "ScaleBackward"
    assert repr(y).endswith("grad_fn=<ScaleBackward>)")
    (edge,) = y.grad_fn.next_functions  # one edge per tensor argument; the number 3.0 has none
    assert edge[0].variable is x
    z = Softplus.apply(y)
    assert z.grad_fn.next_functions[0][0] is y.grad_fn


def test_forward_runs_without_recording_and_backward_receives_the_output_gradient():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x, w, k):
            seen["grad_enabled"] = ag.is_grad_enabled()
            seen["needs"] = ctx.needs_input_grad
            return x * w * k

        @staticmethod
        def backward(ctx, grad):
            seen["grad"] = grad.tolist()
            return grad, grad, None

    x, w = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0, 4.0])
    y = Probe.apply(x, w, 2.0)
    assert seen == {"grad_enabled": False, "needs": (True, False, False)}
    assert y.grad_fn.needs_input_grad == (True, False, False)
    y.backward(ag.tensor([5.0, 6.0]))
    assert seen["grad"] == [5.0, 6.0] and x.grad.tolist() == [5.0, 6.0] and w.grad is None


def test_nothing_is_recorded_without_inputs_that_require_grad_or_under_no_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    assert Scale.apply(ag.ones(2), 2.0).grad_fn is None
    with ag.no_grad():
        y = Scale.apply(x, 2.0)
    assert y.grad_fn is None and not y.requires_grad and y.tolist() == [2.0, 4.0]


def test_keyword_arguments_and_defaults_become_inputs_of_the_node():
    class Mix(Function):
        @staticmethod
        def forward(ctx, x, k=2.0):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0, None

    x = ag.tensor([1.0], requires_grad=True)
    assert Mix.apply(x).tolist() == [2.0] and Mix.apply(x, k=3.0).tolist() == [3.0]
    Mix.apply(x).backward(ag.ones(1))
    assert x.grad.tolist() == [2.0]


def test_saved_tensors_are_freed_after_backward_unless_retain_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = Softplus.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()  # kept by retain_graph: a second pass works and accumulates
    first = 1 / (1 + np.exp(-np.array([1.0, 2.0])))
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        y.backward()
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        y.grad_fn.next_functions[0][0].saved_tensors


def test_a_saved_input_modified_in_place_is_an_error_not_a_wrong_gradient():
    w = ag.ones(3, requires_grad=True)
    y = Softplus.apply(w)
    w.detach().add_(1)  # shares the version counter
    with pytest.raises(RuntimeError, match=r"\[autograd_lite.FloatTensor \[3\]\] is at version 1; expected version 0"):
        y.sum().backward()
    assert w.grad is None


def test_a_saved_output_modified_in_place_names_the_function():
    y = Exp.apply(ag.ones(2, requires_grad=True))
    with ag.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="which is output 0 of Exp, is at version 1; expected version 0"):
        y.sum().backward()


def _fn(name, backward):
    def forward(ctx, x, y):
        return x * y

    return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


@pytest.mark.parametrize("backward, message", [
    (lambda ctx, g: g, r"^function BadBackward returned an incorrect number of gradients \(expected 2, got 1\)$"),
    (lambda ctx, g: (g, g, g), r"^function BadBackward returned an incorrect number of gradients \(expected 2, got 3\)$"),
    (lambda ctx, g: (g, 1.0), r"^expected Variable or None \(got float\)$"),
    (lambda ctx, g: [g, g], r"^function BadBackward returned an incorrect number of gradients \(expected 2, got 1\)$"),
    (lambda ctx, g: (ag.ones(3), g), r"^Function BadBackward returned an invalid gradient at index 0 - got \[3\] but "
                                     r"expected shape compatible with \[2\]$"),
])
def test_a_wrong_backward_gets_pytorchs_error(backward, message):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        _fn("Bad", backward).apply(x, x).sum().backward()
    assert x.grad is None


def test_trailing_nones_are_allowed_and_broadcast_gradients_are_summed():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    _fn("Extra", lambda ctx, g: (g, g, None, None)).apply(x, x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    x.grad = None
    _fn("Wide", lambda ctx, g: (ag.ones(4, 2), None)).apply(x, x).sum().backward()  # summed over the 4 rows
    assert x.grad.tolist() == [4.0, 4.0]


def test_a_gradient_for_a_non_tensor_input_is_an_error():
    with pytest.raises(RuntimeError, match="^function ScaleBadBackward returned a gradient different than None at "
                                           "position 2, but the corresponding forward input was not a Variable$"):
        type("ScaleBad", (Scale,), {"backward": staticmethod(lambda ctx, g: (g, g))}).apply(
            ag.ones(2, requires_grad=True), 2.0).sum().backward()


def test_missing_rules_raise_pytorchs_not_implemented_errors():
    class NoRules(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = ag.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="^You must implement either the backward or vjp method"):
        NoRules.apply(x).sum().backward()
    with fwAD.dual_level():
        with pytest.raises(NotImplementedError, match="^You must implement the jvp function"):
            NoRules.apply(fwAD.make_dual(ag.ones(2), ag.ones(2)))


def test_jvp_gives_the_tangent_in_forward_mode():
    x, v = ag.tensor([-1.0, 0.5], dtype=ag.float64), ag.tensor([2.0, 3.0], dtype=ag.float64)
    with fwAD.dual_level():
        out = fwAD.unpack_dual(Softplus.apply(fwAD.make_dual(x, v)))
    s = 1 / (1 + np.exp(-x.numpy()))
    np.testing.assert_allclose(out.primal.numpy(), np.log1p(np.exp(x.numpy())))
    np.testing.assert_allclose(out.tangent.numpy(), s * v.numpy())


def test_jvp_receives_zeros_for_tensors_without_tangent_and_none_for_numbers():
    seen = []

    class Prod(Function):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_forward(x, y)
            return x * y * k

        @staticmethod
        def jvp(ctx, x_t, y_t, k_t):
            seen.extend([x_t.tolist(), y_t.tolist(), k_t])
            x, y = ctx.saved_tensors
            return (x_t * y + x * y_t) * 3.0

    with fwAD.dual_level():
        out = Prod.apply(fwAD.make_dual(ag.tensor([1.0, 2.0]), ag.ones(2)), ag.tensor([5.0, 7.0]), 3.0)
        assert fwAD.unpack_dual(out).tangent.tolist() == [15.0, 21.0]
    assert seen == [[1.0, 1.0], [0.0, 0.0], None]


def test_unpack_dual_inside_forward_does_not_switch_tangents_back_on():
    class Peek(Function):
        @staticmethod
        def forward(ctx, x):
            fwAD.unpack_dual(x)  # used to turn tangent propagation on again inside forward
            return x * 2

        @staticmethod
        def jvp(ctx, x_t):
            return x_t * 2

    with fwAD.dual_level():
        out = Peek.apply(fwAD.make_dual(ag.ones(2), ag.ones(2)))
        assert fwAD.unpack_dual(out).tangent.tolist() == [2.0, 2.0]


def test_mark_non_differentiable_and_returning_an_input():
    class Argmax(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 1
            ctx.mark_non_differentiable(y)
            return y

    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    assert Argmax.apply(x).grad_fn is None
    y = Identity.apply(x)
    assert y is not x and x.grad_fn is None and type(y.grad_fn).__name__ == "IdentityBackward"
    assert y._base is x  # shares x's memory, as the view PyTorch returns
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_once_differentiable_backward_runs_without_recording():
    class NumpyExp(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.exp()

        @staticmethod
        @ag.autograd.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x.exp()

    x = ag.tensor([0.0, 1.0], requires_grad=True)
    (g,) = ag.autograd.grad(NumpyExp.apply(x).sum(), x, create_graph=True)
    assert g.grad_fn is None
    np.testing.assert_allclose(g.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)


def test_version_counts_in_place_changes_and_is_shared_with_detach():
    x = ag.zeros(3)
    assert x._version == 0
    x.add_(1)
    x.mul_(2)
    d = x.detach()
    assert x._version == 2 and d._version == 2
    d.zero_()
    assert x._version == 3
    with pytest.raises(AttributeError):
        x._version = 0


# ---------------------------------------------------------------------------------------------------
# Functions with several outputs, non-differentiable outputs, in-place forward: as PyTorch
# ---------------------------------------------------------------------------------------------------
def _fidelity_libs():
    libs = [ag]
    try:
        import torch

        libs.append(torch)
    except ImportError:
        pass
    return libs


FIDELITY = pytest.mark.parametrize("lib", _fidelity_libs(), ids=lambda lib: lib.__name__)


def _two_outputs(lib, log):
    class TwoOut(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            a, b = x * k, x.exp()
            ctx.save_for_backward(x, b)  # b is an output: read back connected to this node
            ctx.k = k
            return a, b

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            x, b = ctx.saved_tensors
            log.append((None if grad_a is None else grad_a.tolist(), None if grad_b is None else grad_b.tolist()))
            return grad_a * ctx.k + grad_b * b, None

    return TwoOut


@FIDELITY
def test_a_function_with_two_outputs_has_one_node_and_zeros_for_the_missing_gradient(lib):
    log = []
    x = lib.tensor([0.5, 1.0], requires_grad=True)
    a, b = _two_outputs(lib, log).apply(x, 3.0)
    assert type(a.grad_fn).__name__ == "TwoOutBackward" and a.grad_fn is b.grad_fn
    assert (a.output_nr, b.output_nr) == (0, 1)
    b.sum().backward()
    assert log == [([0.0, 0.0], [1.0, 1.0])]  # a received no gradient: zeros, as PyTorch materializes
    np.testing.assert_allclose(x.grad.tolist(), np.exp([0.5, 1.0]), rtol=1e-6)


@FIDELITY
def test_double_backward_through_a_function_with_two_outputs(lib):
    class Powers(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3, x ** 2

        @staticmethod
        def backward(ctx, grad_cube, grad_square):
            (x,) = ctx.saved_tensors
            return grad_cube * 3 * x ** 2 + grad_square * 2 * x

    x = lib.tensor([2.0], requires_grad=True)
    cube, square = Powers.apply(x)
    (g,) = lib.autograd.grad((cube + square).sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    assert g.tolist() == [16.0] and gg.tolist() == [14.0]


@FIDELITY
def test_materialize_grads_off_passes_none(lib):
    got = []

    class NoZeros(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            got.append((g1, None if g2 is None else g2.tolist()))
            return g1 * 2 if g1 is not None else None

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    p, q = NoZeros.apply(x)
    q.sum().backward()
    assert got == [(None, [1.0, 1.0])] and x.grad is None


@FIDELITY
def test_non_differentiable_outputs_get_no_history(lib):
    class Flip(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            order = lib.tensor([1, 0])
            ctx.mark_non_differentiable(order)
            return x * 1, order

        @staticmethod
        def backward(ctx, grad, grad_order):
            assert grad_order is None or grad_order.tolist() == [0, 0]
            return grad

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    values, order = Flip.apply(x)
    assert values.requires_grad and not order.requires_grad and order.grad_fn is None
    values.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


@FIDELITY
def test_mark_dirty_returns_the_input_itself_with_this_node_as_history(lib):
    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    version = y._version
    z = AddOne.apply(y)
    assert z is y and y.tolist() == [2.0, 3.0] and y._version - version == 2
    assert type(y.grad_fn).__name__ == "AddOneBackward"
    assert [type(n).__name__ for n, _ in y.grad_fn.next_functions] == ["MulBackward0"]
    z.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    with pytest.raises(RuntimeError) as info:
        AddOne.apply(x)  # a leaf that requires grad
    assert str(info.value) == "a leaf Variable that requires grad has been used in an in-place operation."


@FIDELITY
def test_mark_dirty_on_an_input_not_returned_is_refused(lib):
    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="Some elements marked as dirty during the forward method were not "
                                           "returned as output"):
        Wrong.apply(lib.tensor([1.0], requires_grad=True) * 1)


def test_forward_mode_through_a_function_with_two_outputs():
    from autograd_lite.autograd import forward_ad as fwAD

    class TwoOut(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x * 3, x.exp()

        @staticmethod
        def jvp(ctx, x_t):
            (x,) = ctx.saved_tensors
            return x_t * 3, x_t * x.exp()

    with fwAD.dual_level():
        x = fwAD.make_dual(ag.tensor([0.0, 1.0]), ag.tensor([1.0, 2.0]))
        a, b = TwoOut.apply(x)
        assert fwAD.unpack_dual(a).tangent.tolist() == [3.0, 6.0]
        np.testing.assert_allclose(fwAD.unpack_dual(b).tangent.tolist(), [1.0, 2 * np.e], rtol=1e-6)


def test_mark_dirty_and_non_differentiable_leave_no_reference_cycle():
    """Freed by reference counting alone (no cycle for the collector to find), as PyTorch frees them."""
    import gc
    import weakref

    class Scale(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            flag = x > 0
            ctx.mark_non_differentiable(flag)
            return x, flag

        @staticmethod
        def backward(ctx, grad, grad_flag):
            return grad * 2

    gc.collect()
    gc.disable()
    try:
        y = ag.tensor([1.0, 2.0], requires_grad=True) * 1
        out, flag = Scale.apply(y)
        node, tensor = weakref.ref(out.grad_fn), weakref.ref(out)
        del y, out, flag
        assert node() is None and tensor() is None
    finally:
        gc.enable()
