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


def test_jacfwd_through_an_in_place_op_on_a_view():
    """The report: all NaN (the batched tangent's stand-in values were written into the base's tangent)."""
    def f(x):
        b = x * 1
        b[1:].mul_(x[:4])
        return b

    expected = [[1, 0, 0, 0, 0], [2, 1, 0, 0, 0], [0, 3, 2, 0, 0], [0, 0, 4, 3, 0], [0, 0, 0, 5, 4]]  # PyTorch's
    assert ag.func.jacfwd(f)(ag.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=ag.float64)).tolist() == expected


@LIBS
def test_the_tangent_of_a_written_view_has_the_views_dtype(lib):
    fw = lib.autograd.forward_ad
    with fw.dual_level():
        x = fw.make_dual(lib.ones(3, dtype=lib.float32), lib.ones(3, dtype=lib.float32))
        y = fw.make_dual(lib.ones(2, dtype=lib.float64), lib.full((2,), 2.0, dtype=lib.float64))
        b = x * 1
        v = b[1:]
        v.add_(y)  # the float64 values and tangent are written into float32 memory
        assert fw.unpack_dual(v).tangent.dtype == fw.unpack_dual(b).tangent.dtype == lib.float32
        assert fw.unpack_dual(b).tangent.tolist() == [1.0, 3.0, 3.0]


def test_a_view_made_under_no_grad_follows_its_bases_tangent():
    def f(x):
        b = x * 1
        with ag.no_grad():
            v = b[1]
        b.mul_(x)  # v = x[1] ** 2
        return v * 1

    x = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)
    assert ag.func.jacfwd(f)(x).tolist() == [0.0, 4.0, 0.0]  # PyTorch's (it was [0, 1, 0], silently)


# -- every transform through in-place ops on views and bases (views.write_tangent, AsStrided's batching rules) ---------
# Each program takes x (2 x 3) and writes in place into tensors it makes and their views. It is run by `func.jacfwd`
# (vmap over jvp: the primal computed once, a batch of tangents pushed through it), `func.jacrev`, vmap over jvp and
# vjp (against a loop over the examples), the four compositions of order two, and PyTorch's torch.func when installed.
def _prog(*steps):
    """A program `(lib, x) -> result`: b = x * 1, then each step `(lib, x, b) -> None` (a write), then b."""
    def run(lib, x):
        b = x * 1
        for step in steps:
            step(lib, x, b)
        return b
    return run


def _no_grad_split(lib, x):
    b = x * 1
    with lib.no_grad():
        b.split(1, 0)[1].mul_(2.0)  # a write autograd does not see (values changed, derivative not)
    return b * x


def _no_grad_unbind(lib, x):
    b = x * 1
    with lib.no_grad():
        b.unbind(0)[0].add_(1.0)
    return b * x


def _read_a_view_after_its_base_changes(lib, x):
    b = x * 1
    v, w = b[:, 1], b.t()
    b[0] = x[1] ** 2
    w.mul_(2.0)
    return v * 3 + b.sum()


def _buffer_of_zeros(lib, x):
    b = lib.zeros(3, 3, dtype=x.dtype)
    b[:2].copy_(x * x)
    b[2] = x[0] + x[1]
    b[::2, 1].mul_(x[0, :2])
    return b.t()


def _zeros_by_slices(lib, x):
    b = lib.zeros(6, dtype=x.dtype)
    b[1::2] = x[0]
    b[::2] = x[1] ** 2
    return b


def _zeros_then_a_view_of_them(lib, x):
    b = lib.zeros(2, 3, dtype=x.dtype)
    v, w = b[1], b.t()  # views made before b has a tangent
    b.copy_(x * x)
    return w * v.sum()


def _zeros_written_through_views(lib, x):
    b = lib.zeros(2, 3, dtype=x.dtype)
    w = b.t()
    b[0].copy_(x[1])  # the first tangent of b comes through a view of it
    b[:, 1].mul_(x[:, 0])
    return w * b[1].sum()


def _write_view_base_view(lib, x):
    b = x * 1
    v = b[:, 1]
    v.mul_(x[:, 0])
    b.add_(x)
    v.exp_()
    return b + v.sum()


WRITES = {
    "mul_on_a_slice": _prog(lambda lib, x, b: b[1:].mul_(x[:1])),
    "mul_on_a_flat_view": _prog(lambda lib, x, b: b.view(6)[1:].mul_(x.reshape(6)[:5])),
    "setitem_a_row": _prog(lambda lib, x, b: b.__setitem__(0, x[1] * 2)),
    "setitem_a_number_through_t": _prog(lambda lib, x, b: b.t().__setitem__((2, 1), x[0, 0] * 3)),
    "setitem_advanced_index": _prog(lambda lib, x, b: b.__setitem__(([0, 1], [2, 0]), x[0, :2] ** 2)),
    "add_on_a_strided_view": _prog(lambda lib, x, b: b.view(6)[::2].add_(x[0] ** 2)),
    "copy_into_a_column_of_t": _prog(lambda lib, x, b: b.t()[1].copy_(x[:, 1] * x[:, 0])),
    "copy_an_expanded_value": _prog(lambda lib, x, b: b[:, 1:].copy_(x[:, :1].expand(2, 2) * 2)),
    "fill_a_view": _prog(lambda lib, x, b: b[:, 1:].fill_(1.5), lambda lib, x, b: b.mul_(x)),
    "zero_a_row": _prog(lambda lib, x, b: b[1].zero_(), lambda lib, x, b: b.add_(x * x)),
    "masked_fill_a_row": _prog(lambda lib, x, b: b[1].masked_fill_(lib.tensor([True, False, True]), 0.5)),
    "clamp_a_row": _prog(lambda lib, x, b: b[0].clamp_(0.5, 0.9)),
    "exp_a_column": _prog(lambda lib, x, b: b[:, 0].exp_()),
    "div_and_sub_on_views": _prog(lambda lib, x, b: b[:, 1:].div_(x[:, :2] + 2),
                                  lambda lib, x, b: b[0].sub_(x[1] * x[0])),
    "sigmoid_a_row": _prog(lambda lib, x, b: b[0].sigmoid_()),  # (one op that saves its result, last: a later
    "tanh_part_of_a_row": _prog(lambda lib, x, b: b[1, 1:].tanh_()),  # write into b would change what it saved)
    "relu_a_column": _prog(lambda lib, x, b: b.sub_(0.7), lambda lib, x, b: b[:, 0].relu_()),
    "mul_through_unsqueeze": _prog(lambda lib, x, b: b.unsqueeze(0).mul_(x)),
    "mul_through_a_view_of_a_row": _prog(lambda lib, x, b: b[1].unsqueeze(1).mul_(x[0].unsqueeze(1))),
    "mul_through_view_shape": _prog(lambda lib, x, b: b.view(3, 2)[1:].mul_(x.reshape(3, 2)[:2])),
    "mul_a_view_of_a_view": _prog(lambda lib, x, b: b[1:][:, 1:].mul_(x[:1, :2])),
    "two_rows_in_turn": _prog(lambda lib, x, b: b[0].mul_(x[1]), lambda lib, x, b: b[1].add_(b[0] * 1 + x[0])),
    "a_diagonal_by_strides": _prog(lambda lib, x, b: b.view(6)[::4].mul_(x[0, :2])),
    "mul_the_base": _prog(lambda lib, x, b: b.mul_(x), lambda lib, x, b: b[0].mul_(x[1])),
    "read_a_view_after_its_base_changes": _read_a_view_after_its_base_changes,
    "write_a_view_then_its_base_then_the_view": _write_view_base_view,
    "a_buffer_of_zeros": _buffer_of_zeros,
    "zeros_by_slices": _zeros_by_slices,
    "zeros_then_a_view_of_them": _zeros_then_a_view_of_them,
    "zeros_written_through_views": _zeros_written_through_views,
    "under_no_grad_split": _no_grad_split,
    "under_no_grad_unbind": _no_grad_unbind,
}
# writes under no_grad: forward mode sees them (as PyTorch's, which no_grad does not turn off), reverse mode does not
UNTRACKED = {"under_no_grad_split", "under_no_grad_unbind"}
# a batched value written into an unbatched tensor: refused (by vmap over the primal)
FRESH_BUFFER = {"a_buffer_of_zeros", "zeros_by_slices", "zeros_then_a_view_of_them", "zeros_written_through_views"}
X = np.random.default_rng(7).uniform(0.3, 1.2, (4, 2, 3))  # x = X[0]; a batch of 4 for vmap


def _ag(name):
    return lambda x: WRITES[name](ag, x)


def _finite_differences(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.reshape(-1)[i] = eps
        columns.append((f(ag.tensor(x + e)).numpy() - f(ag.tensor(x - e)).numpy()).reshape(-1) / (2 * eps))
    out = f(ag.tensor(x)).numpy()
    return np.stack(columns, -1).reshape(out.shape + x.shape)


@pytest.mark.parametrize("name", WRITES)
def test_jacfwd_through_writes_equals_jacrev_and_finite_differences(name):
    f, x = _ag(name), ag.tensor(X[0])
    by_forward = ag.func.jacfwd(f)(x).numpy()  # was NaN: views.write_tangent read a batched tangent's stand-in values
    np.testing.assert_allclose(by_forward, _finite_differences(f, X[0]), rtol=1e-6, atol=1e-8)
    if name not in UNTRACKED:
        np.testing.assert_allclose(by_forward, ag.func.jacrev(f)(x).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", [name for name in WRITES if name not in UNTRACKED])
def test_second_order_through_writes_agrees_in_every_composition(name):
    f, func = _ag(name), ag.func
    g, x = (lambda x: (f(x) ** 2).sum()), ag.tensor(X[0])
    expected = func.jacrev(func.jacrev(g))(x).numpy()
    np.testing.assert_allclose(expected, _finite_differences(func.grad(g), X[0]), rtol=1e-5, atol=1e-7)
    # jacrev(jacfwd): the tangent a write gives a base keeps its history (it was cut: zeros); jacfwd(jacfwd): a 0-d
    # Index (setitem's VJP for b.t()[2, 1] = v) is 0-d (it was 1-d, and crashed numpy's add.at inside vmap)
    for order in (func.jacrev(func.jacfwd(g)), func.jacfwd(func.jacrev(g)), func.jacfwd(func.jacfwd(g))):
        np.testing.assert_allclose(order(x).numpy(), expected, rtol=1e-10, atol=1e-10)


def _stacked(fn, *batches):
    """fn on each example in a loop (the reference for vmap), stacked."""
    out = np.stack([fn(*[ag.tensor(b[i]) for b in batches]).numpy() for i in range(4)])
    assert np.isfinite(out).all()  # (assert_allclose takes NaN as equal to NaN)
    return out


@pytest.mark.parametrize("name", WRITES)
def test_vmap_of_jvp_and_vjp_through_writes_equals_a_loop(name):
    f, func = _ag(name), ag.func
    rng = np.random.default_rng(8)
    tangents, x = rng.standard_normal((4, 2, 3)), ag.tensor(X[0])
    cotangents = rng.standard_normal((4,) + tuple(f(x).shape))
    jvp = lambda p, t: func.jvp(f, (p,), (t,))[1]
    vjp = lambda p, c: func.vjp(f, p)[1](c)[0]
    cases = [(lambda t: jvp(x, t), (tangents,)), (lambda c: vjp(x, c), (cotangents,))]  # the primal not batched
    batched_primal = [(jvp, (X, tangents)), (lambda p: jvp(p, ag.tensor(tangents[0])), (X,)), (vjp, (X, cotangents))]
    for fn, batches in cases + ([] if name in FRESH_BUFFER else batched_primal):
        got = func.vmap(fn)(*[ag.tensor(b) for b in batches]).numpy()
        np.testing.assert_allclose(got, _stacked(fn, *batches), rtol=1e-12, atol=1e-12)
    if name in FRESH_BUFFER:  # as PyTorch: a batched value cannot be written into a tensor that is not batched
        with pytest.raises(RuntimeError, match=r"vmap: inplace arithmetic\(self, \*extra_args\) is not possible"):
            func.vmap(jvp)(ag.tensor(X), ag.tensor(tangents))


@pytest.mark.parametrize("name", ["mul_on_a_slice", "read_a_view_after_its_base_changes",
                                  "write_a_view_then_its_base_then_the_view"])
def test_vmap_of_jacfwd_through_writes_equals_a_loop(name):
    """Two levels: the primals batched by the outer vmap, their tangents by jacfwd's inner one."""
    f = _ag(name)
    expected = np.stack([_finite_differences(f, x) for x in X])
    np.testing.assert_allclose(ag.func.vmap(ag.func.jacfwd(f))(ag.tensor(X)).numpy(), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", WRITES)
def test_jacfwd_jacrev_and_vmap_of_jvp_through_writes_equal_pytorchs(name):
    torch = pytest.importorskip("torch")
    f_torch, f = (lambda x: WRITES[name](torch, x)), _ag(name)
    tangents = np.random.default_rng(9).standard_normal((4, 2, 3))
    for ours, theirs in ((ag.func.jacfwd, torch.func.jacfwd), (ag.func.jacrev, torch.func.jacrev)):
        np.testing.assert_allclose(ours(f)(ag.tensor(X[0])).numpy(), theirs(f_torch)(torch.tensor(X[0])).numpy(),
                                   rtol=1e-12, atol=1e-12)
    if name not in FRESH_BUFFER:
        ours = ag.func.vmap(lambda p, t: ag.func.jvp(f, (p,), (t,))[1])(ag.tensor(X), ag.tensor(tangents))
        theirs = torch.func.vmap(lambda p, t: torch.func.jvp(f_torch, (p,), (t,))[1])(torch.tensor(X),
                                                                                    torch.tensor(tangents))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
