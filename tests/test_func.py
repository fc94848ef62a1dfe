"""autograd_lite.func: torch.func-style transforms, checked against finite differences and each other."""
import numpy as np

import autograd_lite as ag
from autograd_lite.autograd import forward_ad as fwAD


def test_autograd_grad_keeps_the_tangent_of_its_result_inside_a_dual_level():
    # d/dx of the gradient in direction v is the Hessian-vector product (forward-over-reverse).
    x = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)
    v = ag.tensor([1.0, 0.0, 0.0], dtype=ag.float64)
    with fwAD.dual_level():
        leaf = fwAD.make_dual(x.clone().requires_grad_(), v)
        (g,) = ag.autograd.grad((leaf**3).sum() + leaf[0] * leaf[1], leaf)
        primal, tangent = fwAD.unpack_dual(g)
    np.testing.assert_allclose(primal.numpy(), [5.0, 13.0, 27.0])
    np.testing.assert_allclose(tangent.numpy(), [6.0, 1.0, 0.0])  # first column of diag(6x) + [[0,1],[1,0]]
    assert g.grad_fn is None
