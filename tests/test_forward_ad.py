"""autograd.forward_ad: dual tensors carry J·v through ops, and only while their level is open.

Each op's forward rule is checked in tests/test_ops.py; these tests check the API around them.
"""
import numpy as np

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
