"""`gradcheck`: compare the engine's gradients with central finite differences.

For each input x_j that requires grad and each element k, perturb x_j[k] by ±eps and see how every
output moves: (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) is column k of the numerical Jacobian. The
analytical Jacobian comes from one vector-Jacobian product per output element. Use float64: with
float32 rounding error swamps the difference quotient.
"""
import numpy as np

from ..engine import grad
from ..tensor import Tensor, _wrap
from . import forward_ad as fwAD


class GradcheckError(RuntimeError):
    pass


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _numerical_jacobian(fn, inputs, index, eps):
    x = inputs[index]
    data = x._data
    outs0 = [o._data for o in _tuple(fn(*inputs)) if isinstance(o, Tensor)]
    cols = [np.zeros((o.size, data.size)) for o in outs0]
    flat = data.reshape(-1)  # a view: perturbing it perturbs the input in place
    for k in range(data.size):
        orig = flat[k]
        flat[k] = orig + eps
        plus = [o._data.copy() for o in _tuple(fn(*inputs)) if isinstance(o, Tensor)]
        flat[k] = orig - eps
        minus = [o._data.copy() for o in _tuple(fn(*inputs)) if isinstance(o, Tensor)]
        flat[k] = orig
        for c, p, m in zip(cols, plus, minus):
            c[:, k] = ((p - m) / (2 * eps)).reshape(-1)
    return cols


def _analytical_jacobian(fn, inputs, index):

    outs = [o for o in _tuple(fn(*inputs)) if isinstance(o, Tensor)]
    x = inputs[index]
    jacs = []
    for out in outs:
        jac = np.zeros((out._data.size, x._data.size))
        if out._requires_grad:
            for r in range(out._data.size):
                v = np.zeros(out._data.size, out._data.dtype)
                v[r] = 1
                (g,) = grad(out, x, _wrap(v.reshape(out._data.shape)), retain_graph=True, allow_unused=True)
                if g is not None:
                    jac[r] = g._data.reshape(-1)
        jacs.append(jac)
    return jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, check_forward_ad=False,
              check_backward_ad=True, **unused):
    """True when the reverse-mode (check_backward_ad) and forward-mode (check_forward_ad) Jacobians match finite
    differences. With check_backward_ad=False no backward runs, so a Function with only a `jvp` can be checked."""
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    inputs = _tuple(inputs)
    for j, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            continue
        numerical = _numerical_jacobian(func, inputs, j, eps)
        checks = []
        if check_backward_ad:
            checks.append(("", _analytical_jacobian(func, inputs, j)))
        if check_forward_ad:
            checks.append((" computed with forward mode", _forward_jacobian(func, inputs, j)))
        for how, jacs in checks:
            for i, (n, a) in enumerate(zip(numerical, jacs)):
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    if not raise_exception:
                        return False
                    raise GradcheckError(
                        f"Jacobian{how} mismatch for output {i} with respect to input {j},\n"
                        f"numerical:{n}\nanalytical:{a}\n"
                    )
    return True


def _forward_jacobian(fn, inputs, index):
    x = inputs[index]
    cols = None
    for k in range(x._data.size):
        v = np.zeros(x._data.size, x._data.dtype)
        v[k] = 1
        with fwAD.dual_level():
            args = list(inputs)
            args[index] = fwAD.make_dual(x.detach(), _wrap(v.reshape(x._data.shape)))
            outs = [o for o in _tuple(fn(*args)) if isinstance(o, Tensor)]
            tangents = [fwAD.unpack_dual(o).tangent for o in outs]
            if cols is None:
                cols = [np.zeros((o._data.size, x._data.size)) for o in outs]
            for c, t in zip(cols, tangents):
                if t is not None:
                    c[:, k] = t._data.reshape(-1)
    return cols


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **unused):
    """gradcheck of the gradient itself: checks that the reverse rules differentiate correctly."""

    inputs = _tuple(inputs)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        return True
    if grad_outputs is None:  # a random v as PyTorch draws one, but seeded so that a failure repeats
        rng = np.random.default_rng(0)
        grad_outputs = [_wrap(rng.standard_normal(o._data.shape).astype(o._data.dtype)) for o in _tuple(func(*inputs))]
    grad_outputs = _tuple(grad_outputs)

    def first_grads(*args):
        outs = _tuple(func(*args))
        xs = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        return grad(outs, xs, grad_outputs, create_graph=True, allow_unused=True, materialize_grads=True)

    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
