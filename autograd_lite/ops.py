r"""Every differentiable operation, one class each: forward computation, reverse rule (VJP) and forward
rule (JVP) side by side, as in PyTorch's `derivatives.yaml`.

Notation in the docstrings: $\bar z$ is the gradient arriving at the output (`grad`), $\bar x$ what the
rule returns for input $x$; $\dot x$ is input $x$'s tangent, $\dot z$ what the forward rule returns.
The rules use tensor operations (not raw numpy), so they are recorded when `create_graph=True` and
can be differentiated again. Where a factor is piecewise constant (a mask, a sign), it is built from
the saved values with numpy and enters as a constant, which is its exact derivative almost everywhere.

The functions after the classes (`add`, `matmul`, `sum`, ...) choose the op (and PyTorch's node name)
for the arguments, check shapes with PyTorch's error messages, and are what `Tensor` methods call.
"""
import builtins
import math
import numbers
import re
import sys
import warnings

import numpy as np

from . import grad_mode
from .engine import sum_to
from .dtypes import get_default_dtype, to_numpy_dtype
from .function import Op, _legacy_type
from .tensor import Tensor, _dim, _number_or_tensor, _wrap


def _const(array):
    """A constant tensor (no graph) around a numpy array: masks, signs, index patterns."""
    return _wrap(np.asarray(array))


def _is_scalar(x):
    return not isinstance(x, Tensor)


# =====================================================================================================
# Elementwise arithmetic
# =====================================================================================================
class Add(Op):
    r"""$z=x+y$.   VJP: $\bar x=\bar z,\ \bar y=\bar z$.   JVP: $\dot z=\dot x+\dot y$."""
    name = "Add"

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def vjp(ctx, grad):
        return grad, grad

    @staticmethod
    def jvp(ctx, x_t, y_t):
        return x_t + y_t


class Sub(Op):
    r"""$z=x-y$.   VJP: $\bar x=\bar z,\ \bar y=-\bar z$.   JVP: $\dot z=\dot x-\dot y$."""
    name = "Sub"

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def vjp(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        return x_t - y_t


class Rsub(Op):
    r"""$z=c-x$ (a number minus a tensor).   VJP: $\bar x=-\bar z$.   JVP: $\dot z=\dot c-\dot x$."""
    name = "Rsub"
    overload = 1

    @staticmethod
    def forward(ctx, x, c):
        return c - x

    @staticmethod
    def vjp(ctx, grad):
        return -grad, (grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, x_t, c_t):
        return c_t - x_t


class Mul(Op):
    r"""$z=xy$.   VJP: $\bar x=\bar z\,y,\ \bar y=\bar z\,x$.   JVP: $\dot z=\dot x\,y+x\,\dot y$."""
    name = "Mul"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def vjp(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * y if need_x else None), (grad * x if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, y = ctx.saved_tensors
        return x_t * y + x * y_t


class Div(Op):
    r"""$z=x/y$.   VJP: $\bar x=\bar z/y,\ \bar y=-\bar z\,x/y^2$.   JVP: $\dot z=(\dot x-z\,\dot y)/y$."""
    name = "Div"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, y):
        return x / y

    @staticmethod
    def vjp(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad / y if need_x else None), (-grad * x / (y * y) if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, y = ctx.saved_tensors
        return (x_t - x / y * y_t) / y


def _check_integer_division(x, y):
    if np.result_type(x, y).kind in "iu" and np.any(np.asarray(y) == 0):
        raise RuntimeError("ZeroDivisionError")  # PyTorch's whole message; numpy would give 0 and a warning


class Remainder(Op):
    r"""$z=x-y\lfloor x/y\rfloor$ (`x % y`: the sign of $y$).   VJP: $\bar x=\bar z,\ \bar y=-\bar z\lfloor x/y\rfloor$.
    JVP: $\dot z=\dot x-\dot y\lfloor x/y\rfloor$.   ($\lfloor x/y\rfloor$ is piecewise constant: a constant here.)"""
    name = "Remainder"
    overload = 1
    save_inputs = True

    @staticmethod
    def forward(ctx, x, y):
        _check_integer_division(x, y)
        with np.errstate(invalid="ignore"):  # x % 0.0 is nan, as in PyTorch
            return np.remainder(x, y)

    @staticmethod
    def _quotient(ctx):
        x, y = ctx.saved_tensors
        return _const(np.floor_divide(x._data, y._data))

    @staticmethod
    def vjp(ctx, grad):
        need_x, need_y = ctx.needs_input_grad
        return (grad if need_x else None), (-grad * Remainder._quotient(ctx) if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        return x_t - y_t * Remainder._quotient(ctx)


class RemainderScalar(Op):
    r"""$z=x-c\lfloor x/c\rfloor$ (`x % c` for a number $c$).   VJP: $\bar x=\bar z$.   JVP: $\dot z=\dot x$."""
    name = "Remainder"

    @staticmethod
    def forward(ctx, x, other):
        _check_integer_division(x, other)
        with np.errstate(invalid="ignore"):
            return np.remainder(x, other)

    @staticmethod
    def vjp(ctx, grad):
        return (grad,)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t


class FloorDivide(Op):
    r"""$z=\lfloor x/y\rfloor$ (`x // y`). Not differentiable in PyTorch: the node is `NotImplemented`, and a
    backward or a tangent through it raises PyTorch's error."""
    name = "NotImplemented"
    node_name = "NotImplemented"
    aten = "floor_divide"  # the name in the errors

    @staticmethod
    def forward(ctx, x, y):
        _check_integer_division(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):  # x // 0.0 is ±inf or nan, as in PyTorch
            return np.floor_divide(x, y)

    @staticmethod
    def vjp(ctx, grad):
        raise RuntimeError(f"derivative for aten::{ctx.op.aten} is not implemented")

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError(f"Trying to use forward AD with aten::{ctx.op.aten} that does not support it.")


class RemainderOfNumber(FloorDivide):
    r"""$z=c-x\lfloor c/x\rfloor$ (`c % x` for a number $c$): not differentiable in PyTorch either."""
    node_name = "NotImplemented"
    aten = "remainder"

    @staticmethod
    def forward(ctx, c, x):
        _check_integer_division(c, x)
        with np.errstate(invalid="ignore"):
            return np.remainder(c, x)


class Maximum(Op):
    r"""$z=\max(x,y)$ elementwise.   VJP: $\bar x=\bar z\,w,\ \bar y=\bar z\,(1-w)$ with $w=[x>y]+\tfrac12[x=y]$
    (ties split the gradient in half, as PyTorch).   JVP: $\dot z=\dot y+w\,(\dot x-\dot y)$."""
    name = "Maximum"
    save_inputs = True
    largest = True

    @staticmethod
    def forward(ctx, x, y):
        return np.maximum(x, y)

    @staticmethod
    def _masks(ctx):
        """(ties, x wins, y wins) as numpy masks; minimum is maximum with the comparison reversed."""
        x, y = ctx.saved_tensors
        a, b = (x._data, y._data) if ctx.op.largest else (y._data, x._data)
        return a == b, a > b, a < b

    @staticmethod
    def vjp(ctx, grad):
        tie, x_wins, y_wins = Maximum._masks(ctx)
        dtype = grad._data.dtype
        need_x, need_y = ctx.needs_input_grad
        # PyTorch's rule zeroes the loser's gradient (so where a NaN makes both comparisons false, both get it)
        gx = grad * _const(np.where(tie, 0.5, ~y_wins).astype(dtype)) if need_x else None
        gy = grad * _const(np.where(tie, 0.5, ~x_wins).astype(dtype)) if need_y else None
        return gx, gy

    @staticmethod
    def jvp(ctx, x_t, y_t):
        tie, x_wins, _ = Maximum._masks(ctx)
        return y_t + _const(np.where(tie, 0.5, x_wins).astype(x_t._data.dtype)) * (x_t - y_t)


class Minimum(Maximum):
    r"""$z=\min(x,y)$ elementwise: `Maximum`'s rules with the comparison reversed (ties split in half)."""
    name = "Minimum"
    largest = False

    @staticmethod
    def forward(ctx, x, y):
        return np.minimum(x, y)


class Neg(Op):
    r"""$z=-x$.   VJP: $\bar x=-\bar z$.   JVP: $\dot z=-\dot x$."""
    name = "Neg"

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def vjp(ctx, grad):
        return (-grad,)

    @staticmethod
    def jvp(ctx, x_t):
        return -x_t


class Reciprocal(Op):
    r"""$z=1/x$.   VJP: $\bar x=-\bar z\,z^2$.   JVP: $\dot z=-\dot x\,z^2$."""
    name = "Reciprocal"
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return np.reciprocal(x.astype(np.result_type(x, np.float32)) if x.dtype.kind != "f" else x)

    @staticmethod
    def vjp(ctx, grad):
        z = ctx.output
        return (-grad * z * z,)

    @staticmethod
    def jvp(ctx, x_t):
        z = ctx.output
        return -x_t * z * z


class Pow(Op):
    r"""$z=x^p$ for a number $p$.   VJP: $\bar x=\bar z\,p\,x^{p-1}$.   JVP: $\dot z=\dot x\,p\,x^{p-1}$."""
    name = "Pow"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        return np.power(x, exponent) if x.dtype.kind == "f" or exponent >= 0 else np.power(x.astype(np.float32), exponent)

    @staticmethod
    def _derivative(ctx):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return 0.0 * x
        return p * x ** (p - 1) if p != 1 else 1.0

    @staticmethod
    def vjp(ctx, grad):
        return (grad * Pow._derivative(ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * Pow._derivative(ctx)


class PowTensor(Op):
    r"""$z=x^y$ for tensors.   VJP: $\bar x=\bar z\,y\,x^{y-1},\ \bar y=\bar z\,z\ln x$.
    JVP: $\dot z=\dot x\,y\,x^{y-1}+\dot y\,z\ln x$.   ($z\ln x$ is taken as 0 where $x=0$, $y\ge0$, as PyTorch.)"""
    name = "Pow"
    overload = 1
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(ctx, x, y):
        return np.power(x, y)

    @staticmethod
    def _dy(ctx):
        x, y = ctx.saved_tensors
        safe = _const((x._data == 0) & (np.asarray(y._data if isinstance(y, Tensor) else y) >= 0))
        return where(safe, 0.0, ctx.output * log(where(safe, 1.0, x)))

    @staticmethod
    def vjp(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = grad * y * x ** (y - 1) if need_x else None
        gy = grad * PowTensor._dy(ctx) if need_y else None
        return gx, gy

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, y = ctx.saved_tensors
        return x_t * y * x ** (y - 1) + y_t * PowTensor._dy(ctx)


class RPow(Op):
    r"""$z=c^x$ for a number $c$.   VJP: $\bar x=\bar z\,z\ln c$.   JVP: $\dot z=\dot x\,z\ln c$."""
    name = "Pow"
    overload = 2
    save_output = True

    @staticmethod
    def forward(ctx, x, base):
        ctx.log_base = float(np.log(base)) if base > 0 else float("nan") if base < 0 else float("-inf")
        return np.power(base, x if x.dtype.kind == "f" else x.astype(np.float32))

    @staticmethod
    def vjp(ctx, grad):
        return (grad * ctx.output * ctx.log_base,)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * ctx.output * ctx.log_base


# =====================================================================================================
# Elementwise functions
# =====================================================================================================
class Exp(Op):
    r"""$z=e^x$.   VJP: $\bar x=\bar z\,z$.   JVP: $\dot z=\dot x\,z$."""
    name = "Exp"
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return np.exp(x)

    @staticmethod
    def vjp(ctx, grad):
        return (grad * ctx.output,)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * ctx.output


class Expm1(Op):
    r"""$z=e^x-1$, accurate for small $x$.   VJP: $\bar x=\bar z\,(z+1)$.   JVP: $\dot z=\dot x\,(z+1)$."""
    name = "Expm1"
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return np.expm1(x)

    @staticmethod
    def vjp(ctx, grad):
        return (grad * (ctx.output + 1),)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * (ctx.output + 1)


class Log(Op):
    r"""$z=\ln x$.   VJP: $\bar x=\bar z/x$.   JVP: $\dot z=\dot x/x$."""
    name = "Log"
    save_inputs = True

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def vjp(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad / x,)

    @staticmethod
    def jvp(ctx, x_t):
        (x,) = ctx.saved_tensors
        return x_t / x


class Log1p(Op):
    r"""$z=\ln(1+x)$, accurate for small $x$.   VJP: $\bar x=\bar z/(1+x)$.   JVP: $\dot z=\dot x/(1+x)$."""
    name = "Log1P"  # PyTorch's spelling: Log1PBackward0
    save_inputs = True

    @staticmethod
    def forward(ctx, x):
        return np.log1p(x)

    @staticmethod
    def vjp(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad / (1 + x),)

    @staticmethod
    def jvp(ctx, x_t):
        (x,) = ctx.saved_tensors
        return x_t / (1 + x)


class Sqrt(Op):
    r"""$z=\sqrt x$.   VJP: $\bar x=\bar z/(2z)$.   JVP: $\dot z=\dot x/(2z)$."""
    name = "Sqrt"
    save_output = True

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            return np.sqrt(x)

    @staticmethod
    def vjp(ctx, grad):
        return (grad / (2 * ctx.output),)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t / (2 * ctx.output)


class Abs(Op):
    r"""$z=|x|$.   VJP: $\bar x=\bar z\,\mathrm{sign}(x)$.   JVP: $\dot z=\dot x\,\mathrm{sign}(x)$ (0 at 0)."""
    name = "Abs"
    save_inputs = True

    @staticmethod
    def forward(ctx, x):
        return np.abs(x)

    @staticmethod
    def vjp(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * _const(np.sign(x._data)),)

    @staticmethod
    def jvp(ctx, x_t):
        (x,) = ctx.saved_tensors
        return x_t * _const(np.sign(x._data))


class Tanh(Op):
    r"""$z=\tanh x$.   VJP: $\bar x=\bar z\,(1-z^2)$.   JVP: $\dot z=\dot x\,(1-z^2)$."""
    name = "Tanh"
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return np.tanh(x)

    @staticmethod
    def vjp(ctx, grad):
        z = ctx.output  # reuse the output instead of recomputing tanh
        return (TanhBackward.apply(grad, z),)  # grad * (1 - z * z), as one op

    @staticmethod
    def jvp(ctx, x_t):
        return TanhBackward.apply(x_t, ctx.output)


class TanhBackward(Op):
    r"""$w=g\,(1-z^2)$: tanh's rule as one op (PyTorch's `tanh_backward`: one node instead of three).
    VJP: $\bar g=\bar w\,(1-z^2),\ \bar z=-2\bar w\,g\,z$.   JVP: $\dot w=\dot g\,(1-z^2)-2g\,z\,\dot z$."""
    name = "TanhBackward"
    save_inputs = True

    @staticmethod
    def forward(ctx, g, z):
        return g * (1 - z * z)

    @staticmethod
    def vjp(ctx, grad):
        g, z = ctx.saved_tensors
        need_g, need_z = ctx.needs_input_grad
        return (TanhBackward.apply(grad, z) if need_g else None), (-2 * grad * g * z if need_z else None)

    @staticmethod
    def jvp(ctx, g_t, z_t):
        g, z = ctx.saved_tensors
        return TanhBackward.apply(g_t, z) - 2 * g * z * z_t


def _sigmoid(x):
    r"""Numerically stable logistic function (no overflow warning for large |x|): $1/(1+e^{-x})$ for $x\ge0$,
    $e^x/(1+e^x)$ below. (Both are computed and one picked: cheaper than boolean indexing.)"""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Op):
    r"""$z=\sigma(x)=1/(1+e^{-x})$.   VJP: $\bar x=\bar z\,z(1-z)$.   JVP: $\dot z=\dot x\,z(1-z)$."""
    name = "Sigmoid"
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return _sigmoid(x)

    @staticmethod
    def vjp(ctx, grad):
        return (SigmoidBackward.apply(grad, ctx.output),)  # grad * z * (1 - z), as one op

    @staticmethod
    def jvp(ctx, x_t):
        return SigmoidBackward.apply(x_t, ctx.output)


class SigmoidBackward(Op):
    r"""$w=g\,z(1-z)$: the sigmoid's rule as one op (PyTorch's `sigmoid_backward`).
    VJP: $\bar g=\bar w\,z(1-z),\ \bar z=\bar w\,g\,(1-2z)$.   JVP: $\dot w=\dot g\,z(1-z)+g\,(1-2z)\,\dot z$."""
    name = "SigmoidBackward"
    save_inputs = True

    @staticmethod
    def forward(ctx, g, z):
        return g * z * (1 - z)

    @staticmethod
    def vjp(ctx, grad):
        g, z = ctx.saved_tensors
        need_g, need_z = ctx.needs_input_grad
        return (SigmoidBackward.apply(grad, z) if need_g else None), (grad * g * (1 - 2 * z) if need_z else None)

    @staticmethod
    def jvp(ctx, g_t, z_t):
        g, z = ctx.saved_tensors
        return SigmoidBackward.apply(g_t, z) + g * (1 - 2 * z) * z_t


class Relu(Op):
    r"""$z=\max(x,0)$.   VJP: $\bar x=\bar z\,[z>0]$.   JVP: $\dot z=\dot x\,[z>0]$."""
    name = "Relu"
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return np.maximum(x, 0)

    @staticmethod
    def vjp(ctx, grad):
        return (grad * _const(ctx.output._data > 0),)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * _const(ctx.output._data > 0)


class LeakyRelu(Op):
    r"""$z=x$ for $x>0$, $ax$ otherwise ($a$ = `negative_slope`).   VJP: $\bar x=\bar z\,s$ with $s=[x>0]+a[x\le0]$
    (so $a$ at 0, as PyTorch).   JVP: $\dot z=\dot x\,s$."""
    name = "LeakyRelu"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, negative_slope):
        if x.dtype.kind != "f":
            raise NotImplementedError(f'"leaky_relu_cpu" not implemented for \'{_dtype_word(x)}\'')
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def _slope(ctx):
        (x,) = ctx.saved_tensors
        return _const(np.where(x._data > 0, 1, ctx.negative_slope).astype(x._data.dtype))

    @staticmethod
    def vjp(ctx, grad):
        return (grad * LeakyRelu._slope(ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * LeakyRelu._slope(ctx)


class LeakyReluInplace(LeakyRelu):
    r"""`leaky_relu(x, inplace=True)`: PyTorch's `LeakyReluBackward1`."""
    overload = 1


_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf element by element (exact, if slowish)


class Erf(Op):
    r"""$z=\mathrm{erf}\,x=\tfrac{2}{\sqrt\pi}\int_0^xe^{-t^2}dt$.   VJP: $\bar x=\bar z\,\tfrac{2}{\sqrt\pi}e^{-x^2}$.
    JVP: $\dot z=\dot x\,\tfrac{2}{\sqrt\pi}e^{-x^2}$."""
    name = "Erf"
    save_inputs = True

    @staticmethod
    def forward(ctx, x):
        return np.asarray(_erf(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)

    @staticmethod
    def _derivative(ctx):
        (x,) = ctx.saved_tensors
        return exp(-x * x) * (2 / math.sqrt(math.pi))

    @staticmethod
    def vjp(ctx, grad):
        return (grad * Erf._derivative(ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * Erf._derivative(ctx)


_GELU_C = math.sqrt(2 / math.pi)  # the tanh approximation: tanh(c (x + 0.044715 x^3))


class Gelu(Op):
    r"""$z=x\,\Phi(x)$, $\Phi$ the standard normal CDF $\tfrac12(1+\mathrm{erf}(x/\sqrt2))$ (`approximate='tanh'`:
    $\Phi(x)\approx\tfrac12(1+\tanh(\sqrt{2/\pi}(x+0.044715x^3)))$).   VJP: $\bar x=\bar z\,z'(x)$, with
    $z'=\Phi(x)+x\varphi(x)$ (differentiated the same way for tanh).   JVP: $\dot z=\dot x\,z'(x)$."""
    name = "Gelu"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, approximate):
        if x.dtype.kind != "f":
            raise NotImplementedError(f'"GeluKernelImpl" not implemented for \'{_dtype_word(x)}\'')
        ctx.approximate = approximate
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_GELU_C * (x + 0.044715 * x**3)))
        return 0.5 * x * (1 + np.asarray(_erf(x * (1 / math.sqrt(2))), dtype=x.dtype))

    @staticmethod
    def _derivative(ctx):
        """z'(x), built from ops on the saved x, so that it can be differentiated again."""
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = tanh(_GELU_C * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_GELU_C * (1 + 3 * 0.044715 * x * x))
        return 0.5 * (1 + Erf.apply(x * (1 / math.sqrt(2)))) + x * exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))

    @staticmethod
    def vjp(ctx, grad):
        return (grad * Gelu._derivative(ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * Gelu._derivative(ctx)


class Sin(Op):
    r"""$z=\sin x$.   VJP: $\bar x=\bar z\cos x$.   JVP: $\dot z=\dot x\cos x$."""
    name = "Sin"
    save_inputs = True

    @staticmethod
    def forward(ctx, x):
        return np.sin(x)

    @staticmethod
    def vjp(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * cos(x),)

    @staticmethod
    def jvp(ctx, x_t):
        (x,) = ctx.saved_tensors
        return x_t * cos(x)


class Cos(Op):
    r"""$z=\cos x$.   VJP: $\bar x=-\bar z\sin x$.   JVP: $\dot z=-\dot x\sin x$."""
    name = "Cos"
    save_inputs = True

    @staticmethod
    def forward(ctx, x):
        return np.cos(x)

    @staticmethod
    def vjp(ctx, grad):
        (x,) = ctx.saved_tensors
        return (-grad * sin(x),)

    @staticmethod
    def jvp(ctx, x_t):
        (x,) = ctx.saved_tensors
        return -x_t * sin(x)


class Clamp(Op):
    r"""$z=\min(\max(x,a),b)$.   VJP: $\bar x=\bar z\,[a\le x\le b]$.   JVP: $\dot z=\dot x\,[a\le x\le b]$."""
    name = "Clamp"
    overload = 1
    save_inputs = True

    @staticmethod
    def forward(ctx, x, min, max):  # noqa: A002
        ctx.min, ctx.max = min, max
        return np.clip(x, min, max)

    @staticmethod
    def _mask(ctx):
        (x,) = ctx.saved_tensors
        keep = np.ones(x._data.shape, bool)
        if ctx.min is not None:
            keep &= x._data >= ctx.min
        if ctx.max is not None:
            keep &= x._data <= ctx.max
        return _const(keep)

    @staticmethod
    def vjp(ctx, grad):
        return (grad * Clamp._mask(ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t * Clamp._mask(ctx)


class Where(Op):
    r"""$z=c\,?\,x:y$.   VJP: $\bar x=[c]\,\bar z,\ \bar y=[\lnot c]\,\bar z$.   JVP: $\dot z=c\,?\,\dot x:\dot y$."""
    name = "Where"

    @staticmethod
    def forward(ctx, x, y, condition):
        ctx.condition = condition
        return np.where(condition, x, y)

    @staticmethod
    def vjp(ctx, grad):
        c = _const(ctx.condition)
        need_x, need_y = ctx.needs_input_grad
        return (where(c, grad, 0.0) if need_x else None), (where(c, 0.0, grad) if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        return where(_const(ctx.condition), x_t, y_t)


class ToCopy(Op):
    r"""$z=x$ converted to another dtype.   VJP: $\bar x=\bar z$ (in $x$'s dtype).   JVP: $\dot z=\dot x$."""
    name = "ToCopy"

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = dtype
        return x.astype(dtype)

    @staticmethod
    def vjp(ctx, grad):
        return (grad,)  # the engine casts it back to x's dtype

    @staticmethod
    def jvp(ctx, x_t):
        return x_t.to(ctx.dtype) if isinstance(x_t, Tensor) else x_t


class Clone(Op):
    r"""$z=x$ (a copy).   VJP: $\bar x=\bar z$.   JVP: $\dot z=\dot x$."""
    name = "Clone"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def vjp(ctx, grad):
        return (grad,)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t


class Alias(Op):
    r"""$z=x$ (same memory; what `make_dual` returns).   VJP: $\bar x=\bar z$.   JVP: $\dot z=\dot x$."""
    name = "Alias"
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def vjp(ctx, grad):
        return (grad,)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t


class Fill(Op):
    r"""$z=c$ everywhere (`fill_`).   VJP: $\bar x=0$.   JVP: $\dot z=0$."""
    name = "Fill"
    overload = 2

    @staticmethod
    def forward(ctx, x, value):
        return np.full_like(x, value)

    @staticmethod
    def vjp(ctx, grad):
        return (None,)

    @staticmethod
    def jvp(ctx, x_t):
        return 0.0 * x_t


class Zero(Fill):
    r"""$z=0$ everywhere (`zero_`): PyTorch's `ZeroBackward0`."""
    name = "Zero"
    overload = 0


class Copy(Op):
    r"""$z=s$ broadcast to $x$'s shape and dtype (`x.copy_(s)`).   VJP: $\bar x=0,\ \bar s=\bar z$.
    JVP: $\dot z=\dot s$."""
    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, x, src):
        return np.broadcast_to(np.asarray(src, dtype=x.dtype), x.shape).copy()

    @staticmethod
    def vjp(ctx, grad):
        return None, grad

    @staticmethod
    def jvp(ctx, x_t, s_t):
        return s_t + 0.0 * x_t


# =====================================================================================================
# Linear algebra
# =====================================================================================================
class Mm(Op):
    r"""$Z=XY$ (matrices).   VJP: $\bar X=\bar Z Y^\top,\ \bar Y=X^\top\bar Z$.   JVP: $\dot Z=\dot XY+X\dot Y$."""
    name = "Mm"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, y):
        return x @ y

    @staticmethod
    def vjp(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (mm(grad, t(y)) if need_x else None), (mm(t(x), grad) if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, y = ctx.saved_tensors
        return mm(x_t, y) + mm(x, y_t)


class Mv(Op):
    r"""$z=Av$ (matrix times vector).   VJP: $\bar A=\bar z v^\top,\ \bar v=A^\top\bar z$.   JVP: $\dot z=\dot Av+A\dot v$."""
    name = "Mv"
    save_inputs = True

    @staticmethod
    def forward(ctx, a, v):
        return a @ v

    @staticmethod
    def vjp(ctx, grad):
        a, v = ctx.saved_tensors
        need_a, need_v = ctx.needs_input_grad
        return (unsqueeze(grad, 1) * v if need_a else None), (Mv.apply(t(a), grad) if need_v else None)

    @staticmethod
    def jvp(ctx, a_t, v_t):
        a, v = ctx.saved_tensors
        return Mv.apply(a_t, v) + Mv.apply(a, v_t)


class Dot(Op):
    r"""$z=x\cdot y$ (vectors).   VJP: $\bar x=\bar z\,y,\ \bar y=\bar z\,x$.   JVP: $\dot z=\dot x\cdot y+x\cdot\dot y$."""
    name = "Dot"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, y):
        return np.dot(x, y)

    @staticmethod
    def vjp(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (grad * y if need_x else None), (grad * x if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, y = ctx.saved_tensors
        return Dot.apply(x_t, y) + Dot.apply(x, y_t)


class Bmm(Op):
    r"""$Z_b=X_bY_b$ (batched, broadcasting over batch dims).   VJP: $\bar X=\bar Z Y^\top,\ \bar Y=X^\top\bar Z$
    (summed over broadcast batch dims by the engine).   JVP: $\dot Z=\dot XY+X\dot Y$."""
    name = "Bmm"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, y):
        return np.matmul(x, y)

    @staticmethod
    def vjp(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (Bmm.apply(grad, y.mT) if need_x else None), (Bmm.apply(x.mT, grad) if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, y = ctx.saved_tensors
        return Bmm.apply(x_t, y) + Bmm.apply(x, y_t)


class Addmm(Op):
    r"""$Z=b+XW$ (`F.linear` with bias).   VJP: $\bar b=\bar Z,\ \bar X=\bar ZW^\top,\ \bar W=X^\top\bar Z$.
    JVP: $\dot Z=\dot b+\dot XW+X\dot W$."""
    name = "Addmm"
    save_inputs = True

    @staticmethod
    def forward(ctx, b, x, w):
        return x @ w + b

    @staticmethod
    def vjp(ctx, grad):
        b, x, w = ctx.saved_tensors
        need_b, need_x, need_w = ctx.needs_input_grad
        return (grad if need_b else None), (mm(grad, t(w)) if need_x else None), (mm(t(x), grad) if need_w else None)

    @staticmethod
    def jvp(ctx, b_t, x_t, w_t):
        b, x, w = ctx.saved_tensors
        return b_t + mm(x_t, w) + mm(x, w_t)


# =====================================================================================================
# Shape operations (results are views of the input where numpy can make them)
# =====================================================================================================
class T(Op):
    r"""$Z=X^\top$ (`t()`, 2-D or less).   VJP: $\bar X=\bar Z^\top$.   JVP: $\dot Z=\dot X^\top$."""
    name = "T"
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.T

    @staticmethod
    def vjp(ctx, grad):
        return (t(grad),)

    @staticmethod
    def jvp(ctx, x_t):
        return t(x_t)


class Transpose(Op):
    r"""Swap two dims.   VJP: swap them back.   JVP: swap the tangent's."""
    name = "Transpose"
    is_view = True

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(x, dim0, dim1)

    @staticmethod
    def vjp(ctx, grad):
        return (transpose(grad, *ctx.dims),)

    @staticmethod
    def jvp(ctx, x_t):
        return transpose(x_t, *ctx.dims)


class Permute(Op):
    r"""Reorder dims.   VJP: the inverse permutation.   JVP: the same permutation of the tangent."""
    name = "Permute"
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def vjp(ctx, grad):
        return (permute(grad, tuple(np.argsort(ctx.dims).tolist())),)

    @staticmethod
    def jvp(ctx, x_t):
        return permute(x_t, ctx.dims)


class View(Op):
    r"""Same values, new shape.   VJP: reshape back.   JVP: reshape the tangent."""
    name = "View"
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape, ctx.shape = x.shape, shape
        return x.reshape(shape)

    @staticmethod
    def vjp(ctx, grad):
        return (reshape(grad, ctx.input_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return reshape(x_t, ctx.shape)


class UnsafeView(View):
    r"""`reshape` of a non-contiguous tensor: a copy with a new shape (PyTorch's `UnsafeViewBackward0`)."""
    name = "UnsafeView"
    is_view = False

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape, ctx.shape = x.shape, shape
        return np.reshape(x, shape).copy()


class Unsqueeze(Op):
    r"""Insert a dim of size 1.   VJP: squeeze it.   JVP: unsqueeze the tangent."""
    name = "Unsqueeze"
    is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x.reshape(x.shape[:dim] + (1,) + x.shape[dim:])  # np.expand_dims, without its Python overhead

    @staticmethod
    def vjp(ctx, grad):
        return (reshape(grad, _squeezed_shape(grad.shape, (ctx.dim,))),)

    @staticmethod
    def jvp(ctx, x_t):
        return unsqueeze(x_t, ctx.dim)


class Squeeze(Op):
    r"""Remove dims of size 1 (all of them).   VJP: reshape back.   JVP: squeeze the tangent."""
    name = "Squeeze"
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.input_shape = x.shape
        ctx.dims = dims
        return np.squeeze(x, dims)

    @staticmethod
    def vjp(ctx, grad):
        return (reshape(grad, ctx.input_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return reshape(x_t, _squeezed_shape(ctx.input_shape, ctx.dims))


class SqueezeDim(Squeeze):
    r"""`squeeze(dim)`: remove one dim of size 1 (PyTorch's `SqueezeBackward1`)."""
    overload = 1


class SqueezeInplace(Squeeze):
    r"""The squeeze that `matmul(vector, matrix)` applies to its result (PyTorch's `SqueezeBackward4`)."""
    overload = 4


def _squeezed_shape(shape, dims):
    if dims is None:
        return tuple(s for s in shape if s != 1)
    return tuple(s for i, s in enumerate(shape) if i not in dims)


class Expand(Op):
    r"""Broadcast to a larger shape (no copy).   VJP: $\bar x=$ `sum_to`$(\bar z)$.   JVP: expand the tangent."""
    name = "Expand"
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        ctx.shape = shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def vjp(ctx, grad):
        return (sum_to(grad, ctx.input_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return expand(x_t, ctx.shape)


# =====================================================================================================
# Reductions
# =====================================================================================================
def _keep_dims(t, ctx):
    """A reduction's result (or its gradient) with the reduced dims put back as size 1: it then broadcasts
    against the input."""
    if ctx.dim is not None and not ctx.keepdim:
        kept_shape = tuple([1 if i in ctx.dim else s for i, s in enumerate(ctx.input_shape)])
        t = reshape(t, kept_shape)
    return t


def _grad_to_input(grad, ctx):
    """Put back the reduced dims so `grad` has the input's shape."""
    grad = _keep_dims(grad, ctx)
    return expand(grad, ctx.input_shape) if grad.shape != ctx.input_shape else grad


def _reduction_setup(ctx, x, dim, keepdim):
    ctx.input_shape = x.shape
    ctx.dim, ctx.keepdim = dim, keepdim


class Sum(Op):
    r"""$z=\sum_{i\in\text{dims}} x_i$.   VJP: $\bar x=\bar z$ broadcast back.   JVP: $\dot z=\sum\dot x$."""
    name = "Sum"

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype):
        _reduction_setup(ctx, x, dim, keepdim)
        if dtype is None and x.dtype.kind in "bi":
            dtype = np.int64
        return np.add.reduce(x, axis=dim, dtype=dtype, keepdims=keepdim)  # np.sum without its Python wrapper

    @staticmethod
    def vjp(ctx, grad):
        return (_grad_to_input(grad, ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return sum(x_t, ctx.dim, ctx.keepdim)


class SumDim(Sum):
    r"""`sum(dim)`: PyTorch's `SumBackward1`."""
    overload = 1


class Mean(Op):
    r"""$z=\frac1n\sum x_i$.   VJP: $\bar x=\bar z/n$ broadcast back.   JVP: $\dot z=\frac1n\sum\dot x$."""
    name = "Mean"

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype):
        if x.dtype.kind != "f" and dtype is None:
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
                f"dtype. Got: {_type_name(x)}"
            )
        _reduction_setup(ctx, x, dim, keepdim)
        ctx.count = int(np.prod([x.shape[d] for d in dim])) if dim is not None else x.size
        return np.mean(x, axis=dim, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def vjp(ctx, grad):
        return (_grad_to_input(grad, ctx) / ctx.count,)

    @staticmethod
    def jvp(ctx, x_t):
        return mean(x_t, ctx.dim, ctx.keepdim)


class MeanDim(Mean):
    r"""`mean(dim)`: PyTorch's `MeanBackward1`."""
    overload = 1


def _type_name(x):
    return {"f": "Float", "i": "Long", "b": "Bool"}.get(x.dtype.kind, str(x.dtype))


class Amax(Op):
    r"""$z=\max_i x_i$ over all elements.   VJP: $\bar z$ shared equally among the maximal elements.
    JVP: the mean of $\dot x$ over the maximal elements.   (`min` is the same op on $-x$.)"""
    name = "Max"
    overload = 1
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(ctx, x, largest):
        ctx.largest = largest
        if x.size == 0:
            raise RuntimeError(
                f"{'max' if largest else 'min'}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return np.max(x) if largest else np.min(x)

    @staticmethod
    def _weights(ctx):
        (x,) = ctx.saved_tensors
        mask = x._data == ctx.output._data
        return _const(mask / mask.sum())

    @staticmethod
    def vjp(ctx, grad):
        return (grad * Amax._weights(ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return sum(x_t * Amax._weights(ctx))


class Min(Amax):
    r"""`min()` of all elements: PyTorch's `MinBackward1`."""
    name = "Min"
    overload = 1


class MaxDim(Op):
    r"""$z_j=x_{i_j j}$ with $i_j=\arg\max$ along a dim.   VJP: $\bar z$ placed at the chosen indices.
    JVP: $\dot z$ = the tangent at the chosen indices."""
    name = "Max"

    @staticmethod
    def forward(ctx, x, dim, keepdim, indices):
        ctx.dim, ctx.keepdim, ctx.input_shape = dim, keepdim, x.shape
        ctx.indices = np.expand_dims(indices, dim)
        out = np.take_along_axis(x, ctx.indices, dim)
        return out if keepdim else np.squeeze(out, dim)

    @staticmethod
    def _onehot(ctx):
        onehot = np.zeros(ctx.input_shape, bool)
        np.put_along_axis(onehot, ctx.indices, True, ctx.dim)
        return _const(onehot)

    @staticmethod
    def vjp(ctx, grad):
        if not ctx.keepdim:
            grad = unsqueeze(grad, ctx.dim)
        return (grad * MaxDim._onehot(ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return sum(x_t * MaxDim._onehot(ctx), ctx.dim, ctx.keepdim)


class MinDim(MaxDim):
    r"""`min(dim)`: PyTorch's `MinBackward0`."""
    name = "Min"


class Var(Op):
    r"""$z=\frac{1}{n-c}\sum_i(x_i-m)^2$ over dims, $m$ the mean, $c$ the `correction` (1 by default).
    VJP: $\bar x=\bar z\,D$ with $D=\partial z/\partial x=\frac{2(x-m)}{n-c}$.   JVP: $\dot z=\sum_i D_i\,\dot x_i$."""
    name = "Var"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        _reduction_setup(ctx, x, dim, keepdim)
        ctx.n = n = x.size if dim is None else math.prod([x.shape[d] for d in dim])
        ctx.scale = 1 / (n - correction) if n > correction else math.inf  # PyTorch divides by max(0, n - c)
        centered = x - np.sum(x, axis=dim, keepdims=True) / builtins.max(n, 1)
        with np.errstate(invalid="ignore"):  # 0 * inf: nan, as in PyTorch
            return np.sum(centered * centered, axis=dim, keepdims=keepdim) * ctx.scale

    @staticmethod
    def _derivative(ctx):
        (x,) = ctx.saved_tensors
        return (x - sum(x, ctx.dim, True) / builtins.max(ctx.n, 1)) * (2 * ctx.scale)

    @staticmethod
    def vjp(ctx, grad):
        return (_keep_dims(grad, ctx) * ctx.op._derivative(ctx),)

    @staticmethod
    def jvp(ctx, x_t):
        return sum(x_t * ctx.op._derivative(ctx), ctx.dim, ctx.keepdim)


class Std(Var):
    r"""$z=\sqrt{\mathrm{var}(x)}$ over dims.   VJP: $\bar x=\bar z\,D$ with $D=\frac{x-m}{(n-c)\,z}$ (0 where $z=0$,
    as PyTorch).   JVP: $\dot z=\sum_i D_i\,\dot x_i$."""
    name = "Std"
    save_output = True

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        return np.sqrt(Var.forward(ctx, x, dim, correction, keepdim))

    @staticmethod
    def _derivative(ctx):
        z = _keep_dims(ctx.output, ctx)
        return Var._derivative(ctx) / (2 * where(_const(z._data == 0), 1.0, z))  # z = 0: x = m, so D = 0


class LinalgVectorNorm(Op):
    r"""$z=\|x\|_p=(\sum_i|x_i|^p)^{1/p}$ over dims ($p=\infty$: $\max_i|x_i|$).   VJP: $\bar x=\bar z\,D$ with
    $D=\partial z/\partial x=\mathrm{sign}(x)\,|x|^{p-1}/z^{p-1}$ ($x/z$ for $p=2$; 0 where $z=0$, as PyTorch).
    JVP: $\dot z=\sum_i D_i\,\dot x_i$."""
    name = "LinalgVectorNorm"
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(ctx, x, ord, dim, keepdim, dtype):  # noqa: A002
        _reduction_setup(ctx, x, dim, keepdim)
        ctx.ord = ord
        a = np.abs(x if dtype is None else x.astype(dtype))
        if ord == math.inf:
            return np.max(a, axis=dim, keepdims=keepdim)
        if ord == -math.inf:
            return np.min(a, axis=dim, keepdims=keepdim)
        if ord == 0:
            return np.sum(a != 0, axis=dim, keepdims=keepdim).astype(a.dtype)
        if ord == 1:
            return np.sum(a, axis=dim, keepdims=keepdim)
        if ord == 2:
            return np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
        return np.sum(a**ord, axis=dim, keepdims=keepdim) ** (1 / ord)

    @staticmethod
    def _derivative(ctx):
        """D = dz/dx, of the input's shape (None for p = 0: no gradient, as PyTorch)."""
        (x,) = ctx.saved_tensors
        p, sign = ctx.ord, np.sign(x._data)
        if p == 0:
            return None
        if p == 1:
            return _const(sign)
        z = _keep_dims(ctx.output, ctx)
        if p in (math.inf, -math.inf):  # the gradient is shared among the elements where |x| is extreme
            at_extreme = np.abs(x._data) == z._data
            return _const(sign * at_extreme / np.sum(at_extreme, axis=ctx.dim, keepdims=True))
        if p == 2:
            return x / where(_const(z._data == 0), 1.0, z)  # z = 0 only where x = 0: D = 0 there
        abs_x = where(_const(x._data == 0), 1.0, abs(x))  # |x|^(p-1) is infinite at 0 for p < 1: D = 0 there
        scale = z ** (1 - p) if p < 1 else where(_const(z._data == 0), 1.0, z) ** (1 - p)
        return _const(sign) * abs_x ** (p - 1) * scale

    @staticmethod
    def vjp(ctx, grad):
        d = LinalgVectorNorm._derivative(ctx)
        return (None if d is None else _keep_dims(grad, ctx) * d,)

    @staticmethod
    def jvp(ctx, x_t):
        d = LinalgVectorNorm._derivative(ctx)
        return 0.0 * sum(x_t, ctx.dim, ctx.keepdim) if d is None else sum(x_t * d, ctx.dim, ctx.keepdim)


# =====================================================================================================
# Joining and indexing
# =====================================================================================================
class Cat(Op):
    r"""Concatenate along a dim.   VJP: split $\bar z$ into the inputs' pieces.   JVP: concatenate the tangents."""
    name = "Cat"

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def vjp(ctx, grad):
        grads, start = [], 0
        for size in ctx.sizes:
            index = [slice(None)] * grad.ndim
            index[ctx.dim] = slice(start, start + size)
            grads.append(grad[tuple(index)])
            start += size
        return tuple(grads)

    @staticmethod
    def jvp(ctx, *tangents):
        return cat(tangents, ctx.dim)


class Stack(Op):
    r"""Stack along a new dim.   VJP: $\bar x_i=\bar z$ selected at $i$.   JVP: stack the tangents."""
    name = "Stack"

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def vjp(ctx, grad):
        n = grad.shape[ctx.dim]
        index = [slice(None)] * grad.ndim
        grads = []
        for i in range(n):
            index[ctx.dim] = i
            grads.append(grad[tuple(index)])
        return tuple(grads)

    @staticmethod
    def jvp(ctx, *tangents):
        return stack(tangents, ctx.dim)


class Index(Op):
    r"""$z=x[\text{idx}]$ with integer arrays or masks.   VJP: $\bar x=$ zeros with $\bar z$ added at idx
    (repeated indices accumulate).   JVP: $\dot z=\dot x[\text{idx}]$."""
    name = "Index"

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.input_shape = index, x.shape
        return x[index]

    @staticmethod
    def vjp(ctx, grad):
        return (IndexAdd.apply(grad, index=ctx.index, shape=ctx.input_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return Index.apply(x_t, index=ctx.index)


class Select(Index):
    r"""`x[i]` with an integer (a view): PyTorch's `SelectBackward0`."""
    name = "Select"
    is_view = True


class Slice(Index):
    r"""`x[a:b]` and other basic indexing (a view): PyTorch's `SliceBackward0`."""
    name = "Slice"
    is_view = True


class SliceUnsqueeze(Index):
    r"""Basic indexing whose last part adds a dim, such as `x[1:, None]` (a view): PyTorch's `UnsqueezeBackward0`."""
    name = "Unsqueeze"
    is_view = True


class IndexAdd(Op):
    r"""$z=$ zeros of a shape with $g$ added at idx (the reverse of `Index`).   VJP: $\bar g=\bar z[\text{idx}]$.
    JVP: $\dot z$ = zeros with $\dot g$ added at idx."""
    name = "IndexPut"

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index, ctx.shape = index, shape
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, index, g)
        return out

    @staticmethod
    def vjp(ctx, grad):
        return (Index.apply(grad, index=ctx.index),)

    @staticmethod
    def jvp(ctx, g_t):
        return IndexAdd.apply(g_t, index=ctx.index, shape=ctx.shape)


class SetItem(Op):
    r"""$z=x$ with $z[\text{idx}]=v$ (`x[idx] = v`).   VJP: $\bar x=\bar z$ zeroed at idx, $\bar v=\bar z[\text{idx}]$.
    JVP: $\dot z=\dot x$ with $\dot z[\text{idx}]=\dot v$."""
    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index = index
        out = x.copy()
        out[index] = value
        return out

    @staticmethod
    def _mask(ctx, like):
        keep = np.ones(like.shape, bool)
        keep[ctx.index] = False
        return _const(keep)

    @staticmethod
    def vjp(ctx, grad):
        need_x, need_v = ctx.needs_input_grad
        return (grad * SetItem._mask(ctx, grad) if need_x else None), (Index.apply(grad, index=ctx.index) if need_v else None)

    @staticmethod
    def jvp(ctx, x_t, v_t):
        return SetItem.apply(x_t, v_t, index=ctx.index)


def _diagonal_index(shape, offset):
    """Row and column indices of diagonal number `offset` of a matrix (above the main one for offset > 0)."""
    rows, cols = shape
    length = builtins.max(0, builtins.min(rows + builtins.min(offset, 0), cols - builtins.max(offset, 0)))
    i = np.arange(length)
    return i - builtins.min(offset, 0), i + builtins.max(offset, 0)


class DiagEmbed(Op):
    r"""$Z$ = zeros with the vector $v$ on diagonal $k$ (`diag` of a vector).
    VJP: $\bar v$ = diagonal $k$ of $\bar Z$.   JVP: $\dot Z$ = zeros with $\dot v$ on diagonal $k$."""
    name = "DiagEmbed"

    @staticmethod
    def forward(ctx, v, offset, shape=None):
        ctx.offset = offset
        n = len(v) + builtins.abs(offset)
        out = np.zeros(shape or (n, n), v.dtype)  # a shape is given when this is Diagonal's rule
        out[_diagonal_index(out.shape, offset)] = v
        return out

    @staticmethod
    def vjp(ctx, grad):
        return (Diagonal.apply(grad, offset=ctx.offset),)

    @staticmethod
    def jvp(ctx, v_t):
        return DiagEmbed.apply(v_t, offset=ctx.offset, shape=None)


class Diagonal(Op):
    r"""$z$ = diagonal $k$ of the matrix $X$ (`diag` of a matrix, a copy).   VJP: $\bar X$ = zeros with $\bar z$ on
    diagonal $k$.   JVP: $\dot z$ = diagonal $k$ of $\dot X$."""
    name = "Diagonal"
    node_name = "DiagonalBackward0_copy"  # what PyTorch 2.13 names torch.diag's node for a matrix

    @staticmethod
    def forward(ctx, x, offset):
        ctx.offset, ctx.input_shape = offset, x.shape
        return x[_diagonal_index(x.shape, offset)]

    @staticmethod
    def vjp(ctx, grad):
        return (DiagEmbed.apply(grad, offset=ctx.offset, shape=ctx.input_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return Diagonal.apply(x_t, offset=ctx.offset)


# =====================================================================================================
# Neural-network functions and losses (used by nn.functional)
# =====================================================================================================
def _reduce(loss, reduction):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _constant(t):
    """A loss's weight as a constant tensor for its rules (or None): weights are not differentiated."""
    return None if t is None else t.detach() if isinstance(t, Tensor) else _const(t)


def _array(t):
    return t._data if isinstance(t, Tensor) else t


def _softplus_neg(z):
    """$\\log(1+e^{-z})$, stable for large |z|, written with ops so it can be differentiated again."""
    return relu(-z) + log(1 + exp(-abs(z)))


class BinaryCrossEntropyWithLogits(Op):
    r"""$\ell=w\,[(1-y)z+(1+(p-1)y)\log(1+e^{-z})]$, reduced.   VJP: $\bar z=\bar\ell\,w\,[(1+(p-1)y)\sigma(z)-py]$,
    $\bar y=\bar\ell\,w\,[(p-1)\log(1+e^{-z})-z]$.   JVP: $\dot\ell=$ the same factors times $\dot z$, $\dot y$.
    ($p$ is `pos_weight`, 1 by default; the log term is computed as $\max(-z,0)+\log(1+e^{-|z|})$.)"""
    name = "BinaryCrossEntropyWithLogits"
    save_inputs = True

    @staticmethod
    def forward(ctx, z, y, weight, pos_weight, reduction):
        # weight and pos_weight are constants (not differentiated, as in PyTorch): options, not inputs
        ctx.reduction, ctx.weight, ctx.pos_weight = reduction, _constant(weight), _constant(pos_weight)
        weight, pos_weight = _array(weight), _array(pos_weight)
        softplus = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))
        if pos_weight is None:
            loss = (1 - y) * z + softplus
        else:
            loss = (1 - y) * z + (1 + (pos_weight - 1) * y) * softplus
        if weight is not None:
            loss = loss * weight
        if reduction == "none":
            return loss
        return np.mean(loss) if reduction == "mean" else np.sum(loss)

    @staticmethod
    def _factors(ctx, need_dy=True):
        """d(loss_i)/dz_i and d(loss_i)/dy_i, elementwise (the second only if asked: targets rarely need one)."""
        z, y = ctx.saved_tensors
        w, p = ctx.weight, ctx.pos_weight
        if p is None:
            dz = sigmoid(z) - y
            dy = -z if need_dy else None
        else:
            dz = (1 + (p - 1) * y) * sigmoid(z) - p * y
            dy = (p - 1) * _softplus_neg(z) - z if need_dy else None
        if w is not None:
            dz = dz * w
            dy = dy * w if need_dy else None
        return z, dz, dy

    @staticmethod
    def _spread(ctx, grad, z):
        if ctx.reduction == "mean":
            return grad / z.numel()
        return grad  # "sum" broadcasts the scalar, "none" is already elementwise

    @staticmethod
    def vjp(ctx, grad):
        need_z, need_y = ctx.needs_input_grad
        z, dz, dy = BinaryCrossEntropyWithLogits._factors(ctx, need_y)
        g = BinaryCrossEntropyWithLogits._spread(ctx, grad, z)
        return (g * dz if need_z else None), (g * dy if need_y else None)

    @staticmethod
    def jvp(ctx, z_t, y_t):
        z, dz, dy = BinaryCrossEntropyWithLogits._factors(ctx)
        return _reduce(dz * z_t + dy * y_t, ctx.reduction)


class BinaryCrossEntropy(Op):
    r"""$\ell=-w\,[y\log x+(1-y)\log(1-x)]$ (logs clamped at $-100$), reduced.
    VJP: $\bar x=\bar\ell\,w\,(x-y)/\max(x(1-x),10^{-12})$, $\bar y=\bar\ell\,w\,[\log(1-x)-\log x]$.
    JVP: the same factors times $\dot x$, $\dot y$."""
    name = "BinaryCrossEntropy"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        ctx.weight, weight = _constant(weight), _array(weight)
        if not np.all((x >= 0) & (x <= 1)):  # written so that NaN fails too
            raise RuntimeError("all elements of input should be between 0 and 1")
        if not np.all((y >= 0) & (y <= 1)):
            raise RuntimeError("all elements of target should be between 0 and 1")
        ctx.reduction = reduction
        with np.errstate(divide="ignore"):
            loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
        if weight is not None:
            loss = loss * weight
        if reduction == "none":
            return loss
        return np.mean(loss) if reduction == "mean" else np.sum(loss)

    @staticmethod
    def _factors(ctx):
        x, y = ctx.saved_tensors
        w = ctx.weight
        dx = (x - y) / clamp(x * (1 - x), 1e-12, None)
        dy = clamp(log(1 - x), -100, None) - clamp(log(x), -100, None)
        if w is not None:
            dx, dy = dx * w, dy * w
        return x, dx, dy

    @staticmethod
    def vjp(ctx, grad):
        x, dx, dy = BinaryCrossEntropy._factors(ctx)
        g = grad / x.numel() if ctx.reduction == "mean" else grad
        need_x, need_y = ctx.needs_input_grad
        return (g * dx if need_x else None), (g * dy if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, dx, dy = BinaryCrossEntropy._factors(ctx)
        return _reduce(dx * x_t + dy * y_t, ctx.reduction)


class MseLoss(Op):
    r"""$\ell=(x-y)^2$, reduced.   VJP: $\bar x=2\bar\ell(x-y),\ \bar y=-2\bar\ell(x-y)$ (divided by $n$ for the mean).
    JVP: $\dot\ell=2(x-y)(\dot x-\dot y)$, reduced."""
    name = "MseLoss"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.reduction = reduction
        loss = (x - y) ** 2
        if reduction == "none":
            return loss
        return np.mean(loss) if reduction == "mean" else np.sum(loss)

    @staticmethod
    def vjp(ctx, grad):
        x, y = ctx.saved_tensors
        diff = x - y
        g = 2 * grad * diff
        if ctx.reduction == "mean":
            g = g / diff.numel()
        need_x, need_y = ctx.needs_input_grad
        return (g if need_x else None), (-g if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, y = ctx.saved_tensors
        return _reduce(2 * (x - y) * (x_t - y_t), ctx.reduction)


def _logsumexp(x, dim):
    m = np.max(x, axis=dim, keepdims=True, initial=-np.inf)  # (initial: a dim of size 0 has no max)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):  # log(0) = -inf for an empty dim: only ever broadcast to empty results
        return m + np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True))


class LogSoftmax(Op):
    r"""$z=x-\log\sum_j e^{x_j}$ along a dim.   VJP: $\bar x=\bar z-e^{z}\sum_j\bar z_j$.
    JVP: $\dot z=\dot x-\sum_j e^{z_j}\dot x_j$."""
    name = "LogSoftmax"
    save_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x - _logsumexp(x, dim)

    @staticmethod
    def vjp(ctx, grad):
        p = exp(ctx.output)
        return (grad - p * sum(grad, ctx.dim, True),)

    @staticmethod
    def jvp(ctx, x_t):
        p = exp(ctx.output)
        return x_t - sum(p * x_t, ctx.dim, True)


class Softmax(Op):
    r"""$z=e^{x}/\sum_j e^{x_j}$ along a dim.   VJP: $\bar x=z\,(\bar z-\sum_j\bar z_jz_j)$.
    JVP: $\dot z=z\,(\dot x-\sum_j z_j\dot x_j)$."""
    name = "Softmax"
    save_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        e = np.exp(x - np.max(x, axis=dim, keepdims=True, initial=-np.inf))
        return e / np.sum(e, axis=dim, keepdims=True)

    @staticmethod
    def vjp(ctx, grad):
        z = ctx.output
        return (z * (grad - sum(grad * z, ctx.dim, True)),)

    @staticmethod
    def jvp(ctx, x_t):
        z = ctx.output
        return z * (x_t - sum(z * x_t, ctx.dim, True))


class NllLoss(Op):
    r"""$\ell=-\sum_i w_{t_i}x_{i,t_i}/\sum_i w_{t_i}$ (mean; `sum` drops the denominator, `none` the sum).
    Linear in $x$: $\ell=-\langle M,x\rangle$ for a constant matrix $M$ built from the targets.
    VJP: $\bar x=-\bar\ell M$.   JVP: $\dot\ell=-\langle M,\dot x\rangle$."""
    name = "NllLoss"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        ctx.reduction = reduction
        squeeze_batch = x.ndim == 1
        if squeeze_batch:
            x, target = x[None], np.asarray(target)[None]
        n, c = x.shape
        if target.shape != (n,):
            raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({target.shape[0] if target.ndim else 0}).")
        valid = target != ignore_index
        safe = np.where(valid, target, 0)
        if np.any((safe < 0) | (safe >= c)):
            raise IndexError(f"Target {int(safe[(safe < 0) | (safe >= c)][0])} is out of bounds.")
        w = (weight[safe] if weight is not None else np.ones(n, x.dtype)) * valid
        rows = np.arange(n)
        m = np.zeros((n, c), x.dtype)
        m[rows, safe] = w / w.sum() if reduction == "mean" else w
        ctx.m = m[0] if squeeze_batch else m
        per_sample = -(x[rows, safe] * m[rows, safe])  # = -(x * m).sum(1): M has one entry per row
        if reduction == "none":
            return per_sample[0] if squeeze_batch else per_sample
        return per_sample.sum()

    @staticmethod
    def _apply_m(ctx, v):
        out = -(v * _const(ctx.m))
        if ctx.reduction == "none":
            return sum(out, -1) if out.ndim > 1 else sum(out)
        return sum(out)

    @staticmethod
    def vjp(ctx, grad):
        m = _const(ctx.m)
        if ctx.reduction == "none" and ctx.m.ndim == 2:
            grad = unsqueeze(grad, 1)
        return -grad * m, None, None

    @staticmethod
    def jvp(ctx, x_t, target_t, w_t):
        return NllLoss._apply_m(ctx, x_t)


# =====================================================================================================
# The functions that Tensor methods and the public namespace call
# =====================================================================================================
def add(x, y, *, alpha=1):
    if alpha != 1:
        y = y * alpha
    return Add.apply(x, _number_or_tensor(y, x))


def sub(x, y, *, alpha=1):
    if alpha != 1:
        y = y * alpha
    return Sub.apply(x, _number_or_tensor(y, x))


def mul(x, y):
    return Mul.apply(x, _number_or_tensor(y, x))


def div(x, y):
    y = _number_or_tensor(y, x)
    if isinstance(x, Tensor) and x._data.dtype.kind in "iub" and (_is_scalar(y) or y._data.dtype.kind in "iub"):
        x = x.to(get_default_dtype())  # true division of integers gives floats, as in PyTorch
    return Div.apply(x, y)


def pow(x, exponent):  # noqa: A001
    if not isinstance(x, Tensor):
        return RPow.apply(exponent, base=x)
    exponent = _number_or_tensor(exponent, x)
    if isinstance(exponent, Tensor):
        return PowTensor.apply(x, exponent)
    if x._data.dtype.kind in "iub" and isinstance(exponent, numbers.Integral) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(x, exponent=exponent)


def exp(x):
    return Exp.apply(x)


def expm1(x):
    return Expm1.apply(x)


def log(x):
    return Log.apply(x)


def log1p(x):
    return Log1p.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def erf(x):
    return Erf.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return Relu.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def abs(x):  # noqa: A001
    return Abs.apply(x)


def neg(x):
    return Neg.apply(x)


def clamp(x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = where(out < min, min, out)
        if max is not None:
            out = where(out > max, max, out)
        return out
    return Clamp.apply(x, min=min, max=max)


def where(condition, x, y):
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {_type_name(cond)}")
    like = x if isinstance(x, Tensor) else y
    x, y = _number_or_tensor(x, like), _number_or_tensor(y, like)
    return Where.apply(x, y, condition=cond)


def _shape_str(shape):
    return "x".join(str(s) for s in shape)


def mm(x, y):
    a, b = x._data, y._data  # checked on the arrays: every backward through a matmul comes here twice
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a.shape)} and {_shape_str(b.shape)})")
    if a.dtype != b.dtype:
        _check_same_dtype(x, y)
    return Mm.apply(x, y)


def dot(x, y):
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src [{y.shape[0]}] to have the same number "
            f"of elements, but got {x.shape[0]} and {y.shape[0]} elements respectively"
        )
    _check_same_dtype(x, y, "dot : expected both vectors to have same dtype, but found {} and {}")
    return Dot.apply(x, y)


_DTYPE_WORD = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool", "float16": "Half"}
_C_TYPE = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "bool": "bool",
           "float16": "c10::Half"}  # how PyTorch's C++ names the types in the mm message


def _check_same_dtype(x, y, message="expected m1 and m2 to have the same dtype, but got: {} != {}"):
    """PyTorch's message for a product of two dtypes; `{}`s get the dtypes (`{y}` = y's again, for addmv)."""
    if x._data.dtype != y._data.dtype:
        a, b = x._data.dtype.name, y._data.dtype.name
        names = _C_TYPE if "m1" in message else _DTYPE_WORD
        a, b = names.get(a, a), names.get(b, b)
        raise RuntimeError(message.replace("{y}", b).format(a, b))


def _dtype_word(array):
    """A dtype as PyTorch's messages name it: Float, Double, Long, Int."""
    return _DTYPE_WORD.get(array.dtype.name, array.dtype.name)


_ADDMV_DTYPES = "addmv input tensors must have the same dtype, but got {y}, {}, and {}"
_BMM_DTYPES = "expected scalar type {} but found {}"


def matmul(x, y):
    """`x @ y` with PyTorch's rules for 1-D and batched operands, and PyTorch's graph node names."""
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise TypeError("matmul(): argument 'other' must be Tensor")
    nx, ny = x._data.ndim, y._data.ndim  # read once: the common cases below are decided on these alone
    if nx == 0 or ny == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {x.ndim}D and {y.ndim}D")
    if nx == 1 and ny == 1:
        return dot(x, y)
    if nx == 2 and ny == 1:
        if x.shape[1] != y.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat ({_shape_str(x.shape)}), vec ({y.shape[0]})")
        _check_same_dtype(x, y, _ADDMV_DTYPES)
        return Mv.apply(x, y)
    if nx == 1 and ny == 2:
        if x.shape[0] != y.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{x.shape[0]} and {_shape_str(y.shape)})")
        return SqueezeInplace.apply(mm(unsqueeze(x, 0), y), dims=(0,))
    if nx == 2 and ny == 2:
        return mm(x, y)
    if y.ndim <= 2 and x.shape[-1] != y.shape[0]:  # PyTorch folds the batch into rows, and says so
        rows = int(np.prod(x.shape[:-1]))
        if y.ndim == 1:
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{x.shape[-1]}), vec ({y.shape[0]})")
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and {_shape_str(y.shape)})")
    if y.ndim == 2:
        # a batch of matrices times one matrix is one big matrix product: fold the batch into the rows
        rows = reshape(x, (int(np.prod(x.shape[:-1])), x.shape[-1]))  # not -1: ambiguous when empty
        return UnsafeView.apply(mm(rows, y), shape=tuple(x.shape[:-1]) + (y.shape[1],))
    # batched: vectors become matrices, batch dims broadcast
    xm = unsqueeze(x, 0) if x.ndim == 1 else x
    ym = unsqueeze(y, -1) if y.ndim == 1 else y
    if xm.shape[-1] != ym.shape[-2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{_batch(xm, ym)}, {xm.shape[-1]}] "
            f"but got: [{_batch(ym, xm)}, {ym.shape[-2]}]."
        )
    try:
        np.broadcast_shapes(xm.shape[:-2], ym.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({xm.shape[0]}) must match the size of tensor b ({ym.shape[0]}) at non-singleton "
            "dimension 0"
        ) from None
    _check_same_dtype(xm, ym, _ADDMV_DTYPES if y.ndim == 1 else _BMM_DTYPES)
    out = Bmm.apply(xm, ym)
    if x.ndim == 1:
        out = SqueezeDim.apply(out, dims=(out.ndim - 2,))
    if y.ndim == 1:
        out = SqueezeDim.apply(out, dims=(out.ndim - 1,))
    return out


def _batch(a, b):
    return int(np.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))) if a.ndim > 2 or b.ndim > 2 else 1


def t(x):
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return T.apply(x)


def transpose(x, dim0, dim1):
    n = x.ndim
    return Transpose.apply(x, dim0=_dim(dim0, n), dim1=_dim(dim1, n))


def permute(x, dims):
    n = x.ndim
    dims = tuple(_dim(d, n) for d in dims)
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired "
            f"ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}"
        )
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(x, dims=dims)


def _infer_shape(shape, numel):
    shape = [int(s) for s in shape]
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod([s for s in shape if s != -1])
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape[shape.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
    return tuple(shape)


def view(x, shape):
    shape = _infer_shape(shape, x.numel())
    if not x._data.flags.c_contiguous and x.ndim > 1 and x.numel() > 1:
        try:
            x._data.view().shape = shape  # numpy raises when no view of this shape exists
        except AttributeError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
                "two contiguous subspaces). Use .reshape(...) instead."
            ) from None
    return View.apply(x, shape=shape)


def reshape(x, shape):
    shape = _infer_shape(shape, x.numel())
    if x._data.flags.c_contiguous or x.numel() <= 1:
        return View.apply(x, shape=shape)
    return UnsafeView.apply(x, shape=shape)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = _dim(start_dim, x.ndim), _dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shape = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return reshape(x, shape)


def unsqueeze(x, dim):
    return Unsqueeze.apply(x, dim=_dim(dim, x.ndim + 1))


def squeeze(x, dim=None):
    if dim is None:
        return Squeeze.apply(x, dims=None)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(_dim(d, x.ndim) for d in dims) if x.ndim else ()
    dims = tuple(d for d in dims if x.shape[d] == 1)
    return SqueezeDim.apply(x, dims=dims)


def expand(x, shape):
    shape = tuple(shape)
    if len(shape) < x.ndim:
        raise RuntimeError(
            f"expand({_legacy_type(x._data)}{{{list(x.shape)}}}, size={list(shape)}): the number of sizes provided "
            f"({len(shape)}) must be greater or equal to the number of dimensions in the tensor ({x.ndim})"
        )
    lead = len(shape) - x.ndim
    full = tuple(x.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape))
    for i in range(x.ndim):
        if x.shape[i] != 1 and x.shape[i] != full[i + lead]:
            raise RuntimeError(
                f"The expanded size of the tensor ({full[i + lead]}) must match the existing size ({x.shape[i]}) at "
                f"non-singleton dimension {i + lead}.  Target sizes: {list(shape)}.  Tensor sizes: {list(x.shape)}"
            )
    return Expand.apply(x, shape=full)


def _dims(dim, ndim):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    dims = [_dim(d, ndim) for d in dims]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(dims))


def sum(x, dim=None, keepdim=False, dtype=None):  # noqa: A001
    dims = _dims(dim, x.ndim)
    np_dtype = None if dtype is None else to_numpy_dtype(dtype)
    if dims is None:
        return Sum.apply(x, dim=None, keepdim=False, dtype=np_dtype)
    return SumDim.apply(x, dim=dims or tuple(range(x.ndim)), keepdim=keepdim, dtype=np_dtype)  # dim=[]: all, as PyTorch


def mean(x, dim=None, keepdim=False, dtype=None):
    dims = _dims(dim, x.ndim)
    np_dtype = None if dtype is None else to_numpy_dtype(dtype)
    if dims is None:
        return Mean.apply(x, dim=None, keepdim=False, dtype=np_dtype)
    return MeanDim.apply(x, dim=dims or tuple(range(x.ndim)), keepdim=keepdim, dtype=np_dtype)


class _ReturnTypes(tuple):
    """`values, indices = x.max(dim)`, printed as PyTorch's `torch.return_types.max(...)`."""

    _name = "max"

    def __new__(cls, values, indices, name):
        self = super().__new__(cls, (values, indices))
        self._name = name
        return self

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return f"autograd_lite.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _max_or_min(x, dim, keepdim, largest):
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise, as torch.maximum(a, b)
        return (Maximum if largest else Minimum).apply(x, dim)
    if dim is None:
        return (Amax if largest else Min).apply(x, largest=largest)
    d = _dim(dim, x.ndim)
    if x.ndim == 0:
        return _ReturnTypes(x.clone(), _wrap(np.array(0)), "max" if largest else "min")
    indices = (np.argmax if largest else np.argmin)(x._data, axis=d)
    values = (MaxDim if largest else MinDim).apply(x, dim=d, keepdim=keepdim, indices=indices)
    idx = np.expand_dims(indices, d) if keepdim else indices
    return _ReturnTypes(values, _wrap(np.asarray(idx, dtype=np.int64)), "max" if largest else "min")


def max(x, dim=None, keepdim=False):  # noqa: A001
    return _max_or_min(x, dim, keepdim, True)


def min(x, dim=None, keepdim=False):  # noqa: A001
    return _max_or_min(x, dim, keepdim, False)


def floor_divide(x, other):
    return FloorDivide.apply(_number_or_tensor(x, other), _number_or_tensor(other, x))


def remainder(x, other):
    if not isinstance(x, Tensor):  # a number % a tensor
        return RemainderOfNumber.apply(_number_or_tensor(x, other), other)
    other = _number_or_tensor(other, x)
    return Remainder.apply(x, other) if isinstance(other, Tensor) else RemainderScalar.apply(x, other=other)


def maximum(x, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"maximum(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return Maximum.apply(x, other)


def minimum(x, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"minimum(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return Minimum.apply(x, other)


def _reduced_dims(dim, x, keepdim):
    """The dims a norm / var / std reduces: None for all of them (dim None or empty), or a sorted tuple.
    All of them with keepdim are listed, so that the result keeps every dim as size 1."""
    dims = _dims(dim, x.ndim) if dim is not None and x.ndim else None
    if not dims:
        return tuple(range(x.ndim)) if keepdim and x.ndim else None
    return dims


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):  # noqa: A002
    """The p-norm of the elements over `dim` (all dims by default): `torch.linalg.vector_norm`, which `norm` calls."""
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' must be Number, not str")
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {_dtype_word(x._data)}"
        )
    dims = _reduced_dims(dim, x, keepdim)
    if ord < 0 or ord == math.inf:  # max, min and negative powers have no value on nothing
        if dims is None and x.numel() == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty tensor because the "
                               "operation does not have an identity")
        for d in dims or ():
            if x.shape[d] == 0:  # (PyTorch's message lacks the space before "because")
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on the dimension {d}because "
                                   "this dimension is empty and the operation does not have an identity")
    np_dtype = None if dtype is None else to_numpy_dtype(dtype)
    return LinalgVectorNorm.apply(x, ord=float(ord), dim=dims, keepdim=keepdim, dtype=np_dtype)


def norm(x, p="fro", dim=None, keepdim=False, dtype=None):
    """`torch.norm` / `Tensor.norm`: vector norms ('fro' is the 2-norm of all the elements reduced)."""
    if p == "fro":
        p = 2
    elif p == "nuc":
        raise NotImplementedError("autograd_lite has no nuclear norm (it needs a singular value decomposition)")
    elif isinstance(p, str):
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    return vector_norm(x, p, dim, keepdim, dtype)


def _var_or_std(op, x, dim, unbiased, keepdim, correction):
    name = op.name.lower()
    if isinstance(dim, bool):  # x.var(False): `unbiased` given first, as PyTorch allows
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (correction=, unbiased=): "
                        "give either correction or unbiased")
    if x._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    correction = correction if correction is not None else 0 if unbiased is False else 1
    dims = _reduced_dims(dim, x, keepdim)
    n = x.numel() if dims is None else math.prod([x.shape[d] for d in dims])
    if n - correction <= 0:
        _warn_user(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                   "factor (input numel divided by output numel).")
    return op.apply(x, dim=dims, correction=correction, keepdim=keepdim)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_or_std(Var, x, dim, unbiased, keepdim, correction)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_or_std(Std, x, dim, unbiased, keepdim, correction)


def _warn_user(message):
    """A UserWarning that points at the user's line: the first caller outside autograd_lite."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "autograd_lite":
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


def argmax(x, dim=None, keepdim=False):
    if dim is None:
        return _wrap(np.asarray(np.argmax(x._data), dtype=np.int64))
    return _wrap(np.asarray(np.argmax(x._data, axis=_dim(dim, x.ndim), keepdims=keepdim), dtype=np.int64))


def argmin(x, dim=None, keepdim=False):
    if dim is None:
        return _wrap(np.asarray(np.argmin(x._data), dtype=np.int64))
    return _wrap(np.asarray(np.argmin(x._data, axis=_dim(dim, x.ndim), keepdims=keepdim), dtype=np.int64))


def cat(tensors, dim=0):
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    first = tensors[0]
    d = _dim(dim, first.ndim)
    for i, other in enumerate(tensors[1:], 1):
        if other.ndim != first.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {first.ndim} and {other.ndim}"
            )
        for k in range(first.ndim):
            if k != d and other.shape[k] != first.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {first.shape[k]} but got size "
                    f"{other.shape[k]} for tensor number {i} in the list."
                )
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    if isinstance(tensors, Tensor):
        raise TypeError("stack(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, other in enumerate(tensors[1:], 1):
        if other.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at entry 0 and "
                f"{list(other.shape)} at entry {i}"
            )
    return Stack.apply(*tensors, dim=_dim(dim, tensors[0].ndim + 1))


def outer(x, vec2):
    """The matrix x yᵀ of two vectors, recorded as PyTorch does: `x` viewed as a column, times `vec2`."""
    for name, v in (("self", x), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return mul(View.apply(x, shape=(x.shape[0], 1)), vec2)


def diag(x, diagonal=0):
    """A vector becomes a matrix with it on diagonal `diagonal`; a matrix gives that diagonal, as a vector."""
    if x.ndim == 1:
        return DiagEmbed.apply(x, offset=diagonal)
    if x.ndim == 2:
        return Diagonal.apply(x, offset=diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


def _normalize_index(index):
    """Tensors in an index become numpy arrays; says whether the index is basic (a view)."""
    items = index if isinstance(index, tuple) else (index,)
    out, basic = [], True
    for item in items:
        if isinstance(item, Tensor):
            item = item._data
        if isinstance(item, (list, np.ndarray)):
            item = np.asarray(item)
            if item.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if item.ndim == 0 and item.dtype.kind in "iu":
                item = int(item)
            else:
                basic = False
        out.append(item)
    return (tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]), basic


def _index_error(x, index, message):
    """numpy's IndexError for `x[index]`, reworded as PyTorch words it."""
    items = index if isinstance(index, tuple) else (index,)
    if x.ndim == 0 and "too many indices" in message:
        return ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to "
                "convert a 0-dim tensor to a number")
    if "too many indices" in message:
        return f"too many indices for tensor of dimension {x.ndim}"
    found = re.match(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)", message)
    if found:
        return f"index {found[1]} is out of bounds for dimension {found[2]} with size {found[3]}"
    found = re.match(r"boolean index did not match indexed array along (?:axis|dimension) (\d+)", message)
    masks = [i for i, item in enumerate(items) if isinstance(item, np.ndarray) and item.dtype == np.bool_]
    if found and len(masks) == 1 and not any(item is Ellipsis for item in items):
        before = items[: masks[0]]
        ints = [i for i, item in enumerate(before) if isinstance(item, (int, np.integer))]
        start = builtins.sum(item is not None for item in before)  # the first dim the mask covers
        shape = [s for i, s in enumerate(x.shape) if i not in ints]  # ints are applied first, as in PyTorch
        axis = int(found[1]) - len(ints)
        mask = items[masks[0]]
        return (f"The shape of the mask {list(mask.shape)} at index {int(found[1]) - start} does not match the shape "
                f"of the indexed tensor {shape} at index {axis}")
    return message


def getitem(x, index):
    index, basic = _normalize_index(index)
    try:
        x._data[index]  # let numpy validate, then raise PyTorch's message
    except IndexError as e:
        raise IndexError(_index_error(x, index, str(e))) from None
    if not basic:
        return Index.apply(x, index=index)
    if isinstance(index, (int, np.integer)):
        return Select.apply(x, index=index)
    if index is None:
        return unsqueeze(x, 0)
    # PyTorch applies the parts one by one and names the node after the last one that does something
    parts = [p for p in (index if isinstance(index, tuple) else (index,)) if p is not Ellipsis and p != slice(None)]
    if parts and isinstance(parts[-1], (int, np.integer)):
        return Select.apply(x, index=index)
    if parts and parts[-1] is None:
        return SliceUnsqueeze.apply(x, index=index)
    return Slice.apply(x, index=index)


def setitem(x, index, value):
    index, _ = _normalize_index(index)
    if grad_mode.enabled and x.grad_fn is None and x._requires_grad:  # `x[i] = v` writes through a view of x
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    value = _number_or_tensor(value, x)
    inplace(x, lambda old, v: SetItem.apply(old, v, index=index), value)


def copy_from(x, src):
    src = _number_or_tensor(src, x)
    np.broadcast_shapes(x.shape, src.shape if isinstance(src, Tensor) else ())
    return Copy.apply(x, src)


def fill(x, value):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions."
            )
        return copy_from(x, value)
    return (Zero if value == 0 else Fill).apply(x, value=value)


def inplace(x, op, other):
    """Run `op(x, other)` and write the result into `x` (the in-place ops `add_`, `mul_`, `copy_`, ...).

    When recording, the op is applied to a copy of `x`'s old values (which is what backward needs) and
    `x` takes the new node as its `grad_fn`; `x`'s version counter is bumped either way, so nodes that
    saved the old values can tell that they are gone.
    """
    record = grad_mode.enabled and (x._requires_grad or (isinstance(other, Tensor) and other._requires_grad))
    if record and x.grad_fn is None and x._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if record and x._base is not None and x._base.grad_fn is None and x._base._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if record and x._base is not None:
        raise RuntimeError(
            "autograd_lite does not record in-place operations on views (results of view, reshape, transpose, "
            "indexing, ...) that take part in autograd; use the out-of-place operation instead, e.g. `y = y + 1`."
        )
    if record:
        old = _wrap(x._data.copy())
        old.grad_fn, old._requires_grad, old._tangent = x.grad_fn, x._requires_grad, x._tangent
        result = op(old, other)
    else:
        result = op(x, other)
    new = result._data
    if new.shape != x._data.shape:
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape {list(new.shape)}")
    if new.dtype != x._data.dtype and not np.can_cast(new.dtype, x._data.dtype, "same_kind"):
        raise RuntimeError(f"result type {_type_name(new)} can't be cast to the desired output type {_type_name(x._data)}")
    if not x._data.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation."
        )
    np.copyto(x._data, new, casting="unsafe")
    x._vc[0] += 1
    if record:
        x.grad_fn = result.grad_fn
        x._requires_grad = result._requires_grad
    if result._tangent is not None:
        x._tangent = result._tangent
    return x
