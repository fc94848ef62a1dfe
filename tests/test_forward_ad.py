"""autograd.forward_ad: dual tensors carry J·v through ops, and only while their level is open.

Each op's forward rule is checked in tests/test_ops.py; these tests check the API around them.
"""
import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.autograd import forward_ad as fwAD


def test_the_tangent_of_a_composition_is_the_chain_rule():
    x, v = ag.tensor([0.5, 1.0, 2.0], dtype=ag.float64), ag.tensor([1.0, -1.0, 0.5], dtype=ag.float64)
    with fwAD.dual_level():
        out = fwAD.unpack_dual((fwAD.make_dual(x, v) ** 2).sin())
    x0, v0 = x.numpy(), v.numpy()
    np.testing.assert_allclose(out.primal.numpy(), np.sin(x0**2))
    np.testing.assert_allclose(out.tangent.numpy(), np.cos(x0**2) * 2 * x0 * v0)  # d sin(x²) = cos(x²) 2x dx


def test_tangents_are_dropped_when_their_level_exits():
    x, v = ag.tensor([1.0, 2.0]), ag.tensor([1.0, 0.0])
    with fwAD.dual_level():
        y = fwAD.make_dual(x, v) * 2
        assert fwAD.unpack_dual(y).tangent.tolist() == [2.0, 0.0]
    assert fwAD.unpack_dual(y).tangent is None and y.tolist() == [2.0, 4.0]
    with fwAD.dual_level():  # a new level does not see the old tangent, nor propagate it
        assert fwAD.unpack_dual(y).tangent is None and fwAD.unpack_dual(y * 3).tangent is None


def test_inputs_without_a_tangent_count_as_constants():
    x, c = ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])
    with fwAD.dual_level():
        out = fwAD.unpack_dual(fwAD.make_dual(x, ag.ones(2)) * c)
    assert out.tangent.tolist() == [3.0, 4.0]


# -- in-place ops: the tangent is written in place too, as PyTorch's is ----------------------------------------------
# Each scenario runs in autograd_lite and in PyTorch (skipped without it); both must give what PyTorch 2.13 was seen
# to give, recorded here (or, where autograd_lite differs on purpose, what each gives).
@pytest.fixture(params=["autograd_lite", "torch"])
def lib(request):
    return ag if request.param == "autograd_lite" else pytest.importorskip("torch")


def _t(lib, values, **kw):
    return lib.tensor(values, dtype=lib.float64, **kw)


def _tangent(lib, t):
    return lib.autograd.forward_ad.unpack_dual(t).tangent


def test_an_in_place_op_writes_the_new_tangent_into_the_old_one(lib):
    with lib.autograd.forward_ad.dual_level():
        y = lib.autograd.forward_ad.make_dual(_t(lib, [1.0, -2.0]), _t(lib, [0.5, 1.0])) * 3.0
        before = _tangent(lib, y)
        y.mul_(2.0).exp_()  # d exp(6x) = 6 exp(6x) dx
        after = _tangent(lib, y)
        assert after is before and after._version == 2
        np.testing.assert_allclose(after.tolist(), [3 * np.exp(6.0), 6 * np.exp(-12.0)])


def test_the_tangent_of_x_remainder_c_is_its_own_where_pytorchs_is_xs(lib):
    """A difference kept on purpose. PyTorch's rule for `x % c` returns x's tangent itself, which stays the result's
    where its layout in memory is the result's: an in-place op on the result then changes x's tangent too, and
    forward mode goes wrong. autograd_lite's is a copy."""
    seen = []
    with lib.autograd.forward_ad.dual_level():
        x = lib.autograd.forward_ad.make_dual(_t(lib, [[0.5, 2.0], [-1.0, 3.5]]), _t(lib, [[1.0, 2.0], [3.0, 4.0]]))
        x = x * 1.0
        for operand in (x, x.t(), x[1:], x[:, 0]):  # in PyTorch: shared, shared (transposed alike), copied, copied
            (operand % 1.5).mul_(-1.0)
            seen.append(_tangent(lib, x).tolist())
    untouched = [[1.0, 2.0], [3.0, 4.0]]
    assert seen == ([untouched] * 4 if lib is ag else [[[-1.0, -2.0], [-3.0, -4.0]]] + [untouched] * 3)


def test_a_tangent_written_under_no_grad_keeps_its_history(lib):
    w = _t(lib, [2.0, -1.0], requires_grad=True)
    seen = []
    for mode in (lib.no_grad, lib.enable_grad):
        with lib.autograd.forward_ad.dual_level():
            y = lib.autograd.forward_ad.make_dual(_t(lib, [1.0, 3.0]), _t(lib, [1.0, 1.0])) * w  # tangent 1 * w
            before = _tangent(lib, y)
            with mode():
                y.mul_(0.5)
            seen.append((_tangent(lib, y) is before, _tangent(lib, y).requires_grad, _tangent(lib, y).tolist()))
    assert seen == [(True, True, [1.0, -0.5])] * 2  # under no_grad the copy is not recorded: the old history stays


def test_a_views_tangent_is_a_view_of_its_bases_tangent(lib):
    with lib.autograd.forward_ad.dual_level():
        x = lib.autograd.forward_ad.make_dual(_t(lib, [[1.0, 2.0], [3.0, 4.0]]), _t(lib, [[1.0, 0.0], [0.0, 1.0]]))
        y = x * 2.0
        v = y.t()
        y.add_(x)  # the view's tangent follows its base's ...
        assert _tangent(lib, v).tolist() == [[3.0, 0.0], [0.0, 3.0]]
        v[0].mul_(10.0)  # ... and the base's follows the view's
        assert _tangent(lib, y).tolist() == [[30.0, 0.0], [0.0, 3.0]]
        plain = _t(lib, [[0.0, 0.0], [0.0, 0.0]])
        row, column = plain[1], plain[:, 0]
        row.copy_(x[0])  # a view of a base without a tangent: the base gets zeros and the row's; its views, theirs
        assert _tangent(lib, plain).tolist() == [[0.0, 0.0], [1.0, 0.0]]
        assert _tangent(lib, column).tolist() == [0.0, 1.0]


def test_the_tangent_of_a_clone_is_a_copy(lib):
    with lib.autograd.forward_ad.dual_level():
        x = lib.autograd.forward_ad.make_dual(_t(lib, [1.0, 2.0]), _t(lib, [1.0, 1.0]))
        y = x.clone()
        y.mul_(3.0)
        assert (_tangent(lib, x).tolist(), _tangent(lib, y).tolist()) == ([1.0, 1.0], [3.0, 3.0])


def test_make_dual_copies_a_tangent_laid_out_otherwise(lib):
    with lib.autograd.forward_ad.dual_level():
        same, transposed = _t(lib, [[1.0, 2.0], [3.0, 4.0]]), _t(lib, [[1.0, 2.0], [3.0, 4.0]]).t()
        a = lib.autograd.forward_ad.make_dual(_t(lib, [[0.0, 0.0], [0.0, 0.0]]), same)
        b = lib.autograd.forward_ad.make_dual(_t(lib, [[0.0, 0.0], [0.0, 0.0]]), transposed)
        assert _tangent(lib, a) is same and _tangent(lib, b) is not transposed
        assert _tangent(lib, b).tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_the_graph_of_a_tangent_written_in_place_can_be_differentiated(lib):
    """The rule reads a copy of the old tangent (as PyTorch's does where grad mode is on), so writing the new one into
    it does not change what the rule's graph saved; on a view, the base's tangent records CopySlices."""
    w, s = _t(lib, [2.0, -1.0], requires_grad=True), _t(lib, [0.5, 3.0], requires_grad=True)
    seen = []
    for write in (lambda y: y.mul_(s), lambda y: y[1:].mul_(s[0])):
        w.grad = s.grad = None
        with lib.autograd.forward_ad.dual_level():
            y = lib.autograd.forward_ad.make_dual(_t(lib, [1.0, 3.0]), _t(lib, [1.0, 2.0])) * w
            write(y)
            tangent = _tangent(lib, y)
            (tangent * _t(lib, [1.0, 10.0])).sum().backward()
        seen.append((tangent.tolist(), w.grad.tolist(), s.grad.tolist()))
    assert seen == [([1.0, -6.0], [0.5, 60.0], [2.0, -20.0]), ([2.0, -1.0], [1.0, 10.0], [-20.0, 0.0])]


def test_tangents_written_in_place_are_dropped_when_their_level_exits_too():
    """An in-place op on a view writes tangents into its base and the base's other views: those go at the exit as
    well (they used to survive it, and a later level propagated them from tensors that were never made dual)."""
    x = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)
    y = x * 2
    w = y[1:]
    with fwAD.dual_level():
        y[0:2].add_(fwAD.make_dual(ag.zeros(2, dtype=ag.float64), ag.ones(2, dtype=ag.float64)))
        assert fwAD.unpack_dual(y).tangent.tolist() == [1.0, 1.0, 0.0]
        assert fwAD.unpack_dual(w).tangent.tolist() == [1.0, 0.0]
    assert fwAD.unpack_dual(y).tangent is None and fwAD.unpack_dual(w).tangent is None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(y * 2).tangent is None and fwAD.unpack_dual(w * 2).tangent is None


def test_a_tensor_given_a_tangent_twice_is_one_dual():
    x = ag.tensor([1.0, 2.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ag.ones(2))
        d.mul_(2)  # its tangent is replaced (a tensor of two elements: `==` would be elementwise)
        d.mul_(2)
        assert fwAD.unpack_dual(d).tangent.tolist() == [4.0, 4.0]
    assert fwAD.unpack_dual(d).tangent is None


def test_make_dual_refuses_a_tensor_that_already_has_a_tangent_at_the_level(lib):
    fw = lib.autograd.forward_ad
    message = ("^Making a dual Tensor based on a Tensor that already has a forward gradient at the same level 0 is not "
               "supported.$")
    with fw.dual_level():
        dual = fw.make_dual(_t(lib, [1.0, 2.0]), _t(lib, [1.0, 1.0]))
        for primal in (dual, dual[0:1], dual * 2):  # a dual, a view of one, a value computed from one
            with pytest.raises(RuntimeError, match=message):
                fw.make_dual(primal, lib.ones_like(primal))
        assert fw.make_dual(fw.unpack_dual(dual).primal, _t(lib, [3.0, 3.0])) is not None  # the primal has none
    with fw.dual_level():  # the old tangent went with its level
        assert _tangent(lib, fw.make_dual(dual, _t(lib, [2.0, 2.0]))).tolist() == [2.0, 2.0]
