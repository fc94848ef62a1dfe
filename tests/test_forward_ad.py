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
