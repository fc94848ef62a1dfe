"""Views and in-place ops as PyTorch records them (ops/views.py): a view taken before an in-place op on its
base follows the base's new history (AsStridedBackward0), and an in-place op on a view gives the base a
CopySlices node. Checked against recorded results always, and against PyTorch when it is installed."""
import importlib

import numpy as np
import pytest

import autograd_lite as ag


def _libs():
    libs = [ag]
    try:
        libs.append(importlib.import_module("torch"))
    except ImportError:
        pass
    return libs


LIBS = pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)


def _leaf(lib, values):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


def _names(node):
    return [type(n).__name__ if n is not None else None for n, _ in node.next_functions]


@LIBS
def test_a_view_follows_its_base_after_an_in_place_op(lib):
    x = _leaf(lib, [1.0, 2.0])
    b = x * 1
    v = b[0:1]
    assert type(v.grad_fn).__name__ == "SliceBackward0"
    b.mul_(3)
    assert type(v.grad_fn).__name__ == "AsStridedBackward0" and _names(v.grad_fn) == ["MulBackward0"]
    assert v._version == b._version == 1
    v.sum().backward()
    assert x.grad.tolist() == [3.0, 0.0]  # through the new history of b (it was [1, 0], silently)


@LIBS
def test_an_in_place_op_on_a_view_gives_the_base_copyslices(lib):
    x = _leaf(lib, [1.0, 2.0])
    b = x * 1
    v = b[0:1]
    v.mul_(3)
    assert type(b.grad_fn).__name__ == "CopySlices" and _names(b.grad_fn) == ["MulBackward0", None]
    assert type(v.grad_fn).__name__ == "AsStridedBackward0" and _names(v.grad_fn) == ["CopySlices"]
    b.sum().backward()
    assert x.grad.tolist() == [3.0, 1.0]


@LIBS
def test_in_place_on_views_of_views_and_with_tensor_operands(lib):
    x = _leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
    y = _leaf(lib, [10.0, 20.0])
    b = x * 1
    v = b.t()[0]  # the first column of b
    v.mul_(y)
    (b * b).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad.tolist()), [[200.0, 4.0], [2400.0, 8.0]])
    np.testing.assert_allclose(np.asarray(y.grad.tolist()), [20.0, 360.0])
    t = _leaf(lib, [-1.0, 0.5, 2.0]) * 1
    u = t.unsqueeze(0)
    u.clamp_(0, 1)  # refused before: now recorded as PyTorch records it
    assert type(u.grad_fn).__name__ == "AsStridedBackward0" and type(t.grad_fn).__name__ == "CopySlices"


@LIBS
def test_a_view_of_a_base_without_history_joins_the_graph_when_the_base_does(lib):
    x = _leaf(lib, [1.0, 2.0])
    d = lib.zeros(2, dtype=lib.float64)
    view = d[0:1]
    d.add_(x)
    assert view.requires_grad and type(view.grad_fn).__name__ == "AsStridedBackward0"
    (view * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 0.0]


@LIBS
def test_double_backward_through_an_in_place_op_on_a_view(lib):
    x = _leaf(lib, [1.0, 2.0, 3.0])
    b = x * 1
    b[1:].mul_(b[:2].detach() + x[1:])  # the view's new values depend on x twice
    (g,) = lib.autograd.grad((b ** 2).sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    expected = {"g": [2.0, 60.0, 240.0], "gg": [2.0, 74.0, 188.0]}  # b = [x0, x1 (1 + x1), x2 (2 + x2)]
    np.testing.assert_allclose(np.asarray(g.tolist()), expected["g"])
    np.testing.assert_allclose(np.asarray(gg.tolist()), expected["gg"])


@LIBS
def test_outputs_of_split_and_unbind_may_not_be_changed_in_place(lib):
    x = _leaf(lib, [1.0, 2.0, 3.0, 4.0])
    a, b = (x * 1).split(2)
    with pytest.raises(RuntimeError) as info:
        a.mul_(2)
    assert str(info.value).startswith("Output 0 of Split is a view and is being modified inplace. This view is "
                                      "the output of a function that returns multiple views.")
    first, second = (x * 1).view(2, 2).unbind(0)
    with pytest.raises(RuntimeError, match="^Output 1 of Unbind is a view and is being modified inplace"):
        second.add_(1)
    c, d = lib.ones(4).split(2)
    c.mul_(2)  # no autograd involved: allowed
    assert c.tolist() == [2.0, 2.0]


@LIBS
def test_a_view_made_without_recording_reports_its_base_requires_grad(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        v = x[0:1]
    b = lib.ones(2)
    w = b[0:1]
    b.requires_grad_()
    for view in (v, w):
        assert view.requires_grad and view.is_leaf and view.grad_fn is None
    assert x[0:1].detach().requires_grad is False


@LIBS
def test_views_follow_an_in_place_op_that_is_not_recorded(lib):
    x = _leaf(lib, [1.0, 2.0])
    b = x * 1
    v, w = b[0:1], b[1:]
    with lib.no_grad():
        b.mul_(3)
    assert type(v.grad_fn).__name__ == "AsStridedBackward0" and _names(v.grad_fn) == ["MulBackward0"]
    with lib.no_grad():
        w.add_(1)  # an in-place op on a view, not recorded: the view itself is rebased too
    assert type(w.grad_fn).__name__ == "AsStridedBackward0" and _names(w.grad_fn) == ["MulBackward0"]
    (v + w).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and b.tolist() == [3.0, 7.0]


@LIBS
def test_views_of_a_0d_tensor_and_unbind_to_0d_share_memory(lib):
    x = lib.tensor([-0.5, 1.5], dtype=lib.float64)
    first, _ = x.unbind(0)
    first.mul_(2)  # a 0-d view: the write reaches x (numpy gave a copied scalar)
    assert x.tolist() == [-1.0, 1.5]
    s = _leaf(lib, 0.25)
    flat = s.flatten()  # a view of a 0-d tensor
    with lib.no_grad():
        flat.add_(flat)
    assert type(flat.grad_fn).__name__ == "AsStridedBackward0" and flat.tolist() == [0.5]
    (flat * 3).sum().backward()
    assert s.grad.item() == 3.0


# -- forward mode: a view's tangent is part of its tangent base's (views.tangent_base) ---------------------------
def _tangents(lib, *ts):
    fw = lib.autograd.forward_ad
    return [None if fw.unpack_dual(t).tangent is None else fw.unpack_dual(t).tangent.tolist() for t in ts]


@LIBS
def test_a_dual_holds_a_tangent_of_its_own_which_its_views_share(lib):
    fw = lib.autograd.forward_ad
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
    w = x[1:]  # a view of the primal, made before: never part of the dual's tangent
    with fw.dual_level():
        d = fw.make_dual(x, lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
        v, u = d[0:2], d[1:]
        v.mul_(2)  # the dual's tangent changes at v's positions, and u sees it; the primal gets none
        assert _tangents(lib, d, u, x, w) == [[2.0, 4.0, 3.0], [4.0, 3.0], None, None]
        x.mul_(3)  # the primal's values: no tangent moves
        d.mul_(2)
        assert _tangents(lib, d, u, v, x) == [[4.0, 8.0, 6.0], [8.0, 6.0], [4.0, 8.0], None]
        w.add_(fw.make_dual(lib.zeros(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64)))
        assert _tangents(lib, x, w, d) == [[0.0, 1.0, 1.0], [1.0, 1.0], [4.0, 8.0, 6.0]]  # the primal's own
        p = fw.unpack_dual(d).primal  # a view of the dual, but a tangent written into it is its own
        p[0:1].add_(fw.make_dual(lib.zeros(1, dtype=lib.float64), lib.ones(1, dtype=lib.float64)))
        assert _tangents(lib, p, d) == [[1.0, 0.0, 0.0], [4.0, 8.0, 6.0]]
        e = fw.make_dual(lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64).t()[1], lib.tensor(
            [5.0, 6.0], dtype=lib.float64))  # the dual of a strided view
        e[0:1].mul_(2)
        assert _tangents(lib, e) == [[10.0, 6.0]]


@LIBS
def test_tangents_written_through_views_keep_their_graph(lib):
    """Forward-over-reverse: a tangent computed from values that require grad requires grad, after an in-place op
    on a view as after any other op."""
    fw = lib.autograd.forward_ad
    x = _leaf(lib, [1.0, 2.0, 3.0])
    with fw.dual_level():
        y = fw.make_dual(x, lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)) * 2
        v = y[0:2]
        y[0:1].mul_(2)  # on a view of y
        y.mul_(3)  # on y, seen through the view v
        t, tv = fw.unpack_dual(y).tangent, fw.unpack_dual(v).tangent
        assert t.tolist() == [12.0, 12.0, 18.0] and tv.tolist() == [12.0, 12.0]
        assert t.requires_grad and tv.requires_grad
