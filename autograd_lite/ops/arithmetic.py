r"""Arithmetic: + - * / // % **, neg, reciprocal, maximum and minimum, each with the function that picks it.

Notation in the docstrings: $\bar z$ is the gradient arriving at the output (`grad`), $\bar x$ what the
rule returns for input $x$; $\dot x$ is input $x$'s tangent, $\dot z$ what the forward rule returns.
"""
import numbers
import sys

import numpy as np

from ..dtypes import get_default_dtype
from ..tensor import Tensor, _number_or_tensor
from .elementwise import log, where
from .op import Op, _const, _is_scalar


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


def _kind(a):
    return a._data.dtype.kind if isinstance(a, Tensor) else "b" if isinstance(a, bool) else np.asarray(a).dtype.kind


def times_alpha(input, other, alpha):
    """`other * alpha`, what `add` and `sub` (and `add_`, `sub_`) add, with PyTorch's checks of `alpha`."""
    kinds = _kind(input) + _kind(other)
    if isinstance(alpha, bool) and kinds != "bb":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, float) and set(kinds) <= set("biu"):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return other if alpha == 1 and not isinstance(alpha, bool) else other * alpha


def add(input, other, *, alpha=1):
    return Add.apply(input, _number_or_tensor(times_alpha(input, other, alpha), input))


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


def sub(input, other, *, alpha=1):
    return Sub.apply(input, _number_or_tensor(times_alpha(input, other, alpha), input))


class Rsub(Op):
    r"""$z=c-x$ (a number, or an array, minus a tensor).   VJP: $\bar x=-\bar z$.   JVP: $\dot z=\dot c-\dot x$.
    A number `c` is an option (one edge, as PyTorch's `RsubBackward1`); an array is a second input."""
    name = "Rsub"
    overload = 1

    @staticmethod
    def forward(ctx, x, c):
        return c - x

    @staticmethod
    def vjp(ctx, grad):
        if len(ctx.needs_input_grad) == 1:
            return (-grad,)
        return -grad, (grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, x_t, c_t=0.0):
        return c_t - x_t


class Mul(Op):
    r"""$z=xy$.   VJP: $\bar x=\bar z\,y,\ \bar y=\bar z\,x$.   JVP: $\dot z=\dot x\,y+x\,\dot y$."""
    name = "Mul"
    save_inputs = ((1,), (0,))
    saved_names = ("self", "other")

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


def mul(input, other):
    return Mul.apply(input, _number_or_tensor(other, input))


class Div(Op):
    r"""$z=x/y$.   VJP: $\bar x=\bar z/y,\ \bar y=-\bar z\,x/y^2$.   JVP: $\dot z=(\dot x-z\,\dot y)/y$."""
    name = "Div"
    save_inputs = ((1,), (0, 1))
    saved_names = ("self", "other")

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):  # x/0 is inf or nan, silently, as in PyTorch
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


def div(input, other):
    other = _number_or_tensor(other, input)
    if (isinstance(input, Tensor) and input._data.dtype.kind in "iub"
            and (_is_scalar(other) or other._data.dtype.kind in "iub")):
        input = input.to(get_default_dtype())  # true division of integers gives floats, as in PyTorch
    return Div.apply(input, other)


def _check_integer_division(x, y):
    if np.result_type(x, y).kind in "iu" and np.any(np.asarray(y) == 0):
        raise RuntimeError("ZeroDivisionError")  # PyTorch's whole message; numpy would give 0 and a warning


class Remainder(Op):
    r"""$z=x-y\lfloor x/y\rfloor$ (`x % y`: the sign of $y$).   VJP: $\bar x=\bar z,\ \bar y=-\bar z\lfloor x/y\rfloor$.
    JVP: $\dot z=\dot x-\dot y\lfloor x/y\rfloor$.   ($\lfloor x/y\rfloor$ is piecewise constant: a constant here.)"""
    name = "Remainder"
    overload = 1
    save_inputs = ((), (0, 1))
    saved_names = ("self", "other")

    @staticmethod
    def forward(ctx, x, y):
        _check_integer_division(x, y)
        with np.errstate(invalid="ignore"):  # x % 0.0 is nan, as in PyTorch
            return np.remainder(x, y)

    @staticmethod
    def derivative(ctx, need=None):
        x, y = ctx.saved_tensors
        return 1.0, -FloorQuotient.apply(x, y)  # recorded (with zero derivatives), as PyTorch's rule records it

    @staticmethod
    def vjp(ctx, grad):
        need_x, need_y = ctx.needs_input_grad
        return (grad if need_x else None), (grad * Remainder.derivative(ctx)[1] if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        _, dy = Remainder.derivative(ctx)
        return x_t + y_t * dy


class FloorQuotient(Op):
    r"""$z=\lfloor x/y\rfloor$ as a factor in remainder's rules: PyTorch's `div(x, y, rounding_mode='floor')`.
    Piecewise constant: VJP $\bar x=\bar y=0$, JVP $\dot z=0$."""
    name = "Div"
    overload = 2

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(x, y)

    @staticmethod
    def vjp(ctx, grad):
        return tuple(_const(np.zeros(shape, dtype)) if need else None
                     for need, (shape, dtype) in zip(ctx.needs_input_grad, ctx._inputs_meta))

    @staticmethod
    def jvp(ctx, x_t, y_t):
        return 0.0 * (x_t + y_t)


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
        # A copy, on purpose: PyTorch's rule returns x's tangent itself, so an in-place op on z then changes x's
        # tangent too, and forward mode goes wrong (J u no longer agrees with reverse mode's u^T J).
        return x_t.clone()


class FloorDivide(Op):
    r"""$z=\lfloor x/y\rfloor$ (`x // y`). Not differentiable in PyTorch: the node is `NotImplemented`, and a
    backward or a tangent through it raises PyTorch's error."""
    name = "NotImplemented"
    node_name = "NotImplemented"
    aten = "floor_divide"  # the name in the errors

    @classmethod
    def apply(cls, *inputs, **options):
        result = super().apply(*inputs, **options)
        if result.grad_fn is not None:  # PyTorch numbers a NotImplemented node last of all (as an AccumulateGrad):
            result.grad_fn._seq = sys.maxsize  # a backward runs it, and raises, before any other node it can
        return result

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


def floor_divide(input, other):
    return FloorDivide.apply(_number_or_tensor(input, other), _number_or_tensor(other, input))


class RemainderOfNumber(FloorDivide):
    r"""$z=c-x\lfloor c/x\rfloor$ (`c % x` for a number $c$): not differentiable in PyTorch either."""
    node_name = "NotImplemented"
    aten = "remainder"

    @staticmethod
    def forward(ctx, c, x):
        _check_integer_division(c, x)
        with np.errstate(invalid="ignore"):
            return np.remainder(c, x)


def remainder(input, other):
    if not isinstance(input, Tensor):  # a number % a tensor
        return RemainderOfNumber.apply(_number_or_tensor(input, other), other)
    other = _number_or_tensor(other, input)
    return Remainder.apply(input, other) if isinstance(other, Tensor) else RemainderScalar.apply(input, other=other)


class Maximum(Op):
    r"""$z=\max(x,y)$ elementwise.   VJP: $\bar x=\bar z\,w,\ \bar y=\bar z\,(1-w)$ with $w=[x>y]+\tfrac12[x=y]$
    (ties split the gradient in half, as PyTorch).   JVP: $\dot z=\dot y+w\,(\dot x-\dot y)$."""
    name = "Maximum"
    save_inputs = True
    saved_names = ("self", "other")
    largest = True

    @staticmethod
    def forward(ctx, x, y):
        return np.maximum(x, y)

    @staticmethod
    def vjp(ctx, grad):
        # PyTorch's rule: grad, halved at a tie, and exact zeros for the loser (even for a NaN or inf gradient); where
        # a NaN makes both comparisons false, both get it. The masks are comparisons of tensors: compile traces them.
        # Minimum is Maximum with the comparison reversed.
        x, y = ctx.saved_tensors
        a, b = (x, y) if ctx.op.largest else (y, x)
        need_x, need_y = ctx.needs_input_grad
        shared = where(a == b, grad / 2, grad)
        return (where(a < b, 0.0, shared) if need_x else None), (where(a > b, 0.0, shared) if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        # PyTorch's forward formula, y' + w (x' - y') with w = [x wins] + 1/2 [tie]: at a NaN it gives y'
        x, y = ctx.saved_tensors
        a, b = (x, y) if ctx.op.largest else (y, x)
        w = where(a == b, 0.5, (a > b).to(x_t.dtype))
        return y_t + w * (x_t - y_t)


def maximum(input, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"maximum(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return Maximum.apply(input, other)


class Minimum(Maximum):
    r"""$z=\min(x,y)$ elementwise: `Maximum`'s rules with the comparison reversed (ties split in half)."""
    name = "Minimum"
    largest = False

    @staticmethod
    def forward(ctx, x, y):
        return np.minimum(x, y)


def minimum(input, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"minimum(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return Minimum.apply(input, other)


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


def neg(input):
    return Neg.apply(input)


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
    saved_names = ("self", "exponent")

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        return np.power(x, exponent) if x.dtype.kind == "f" or exponent >= 0 else np.power(x.astype(np.float32), exponent)

    @staticmethod
    def derivative(ctx, need=None):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return (0.0 * x,)
        return (p * x ** (p - 1) if p != 1 else 1.0,)

    @staticmethod
    def vjp(ctx, grad):
        (dx,) = Pow.derivative(ctx)
        return (grad * dx,)

    @staticmethod
    def jvp(ctx, x_t):
        (dx,) = Pow.derivative(ctx)
        return x_t * dx


class PowTensor(Op):
    r"""$z=x^y$ for tensors.   VJP: $\bar x=\bar z\,y\,x^{y-1},\ \bar y=\bar z\,z\ln x$.
    JVP: $\dot z=\dot x\,y\,x^{y-1}+\dot y\,z\ln x$.   ($z\ln x$ is taken as 0 where $x=0$, $y\ge0$, as PyTorch.)"""
    name = "Pow"
    overload = 1
    save_inputs = True
    saved_names = ("self", "exponent")
    save_output = True

    @staticmethod
    def forward(ctx, x, y):
        return np.power(x, y)

    @staticmethod
    def derivative(ctx, need=None):
        x, y = ctx.saved_tensors
        dx = dy = None
        if need is None or need[0]:
            dx = y * x ** (y - 1)
        if need is None or need[1]:
            safe = (x == 0) & (y >= 0)  # comparisons of tensors, not numpy on the data: compile traces them
            dy = where(safe, 0.0, ctx.output * log(where(safe, 1.0, x)))
        return dx, dy

    @staticmethod
    def vjp(ctx, grad):
        need_x, need_y = ctx.needs_input_grad
        dx, dy = PowTensor.derivative(ctx, ctx.needs_input_grad)
        return (grad * dx if need_x else None), (grad * dy if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        dx, dy = PowTensor.derivative(ctx)
        return x_t * dx + y_t * dy


class RPow(Op):
    r"""$z=c^x$ for a number $c$.   VJP: $\bar x=\bar z\,z\ln c$.   JVP: $\dot z=\dot x\,z\ln c$."""
    name = "Pow"
    overload = 2
    save_inputs = True  # not read by the rules: saved, as PyTorch does, so that a later change of x is caught
    saved_names = ("exponent",)
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


def pow(input, exponent):  # noqa: A001
    if not isinstance(input, Tensor):
        return RPow.apply(exponent, base=input)
    exponent = _number_or_tensor(exponent, input)
    if isinstance(exponent, Tensor):
        return PowTensor.apply(input, exponent)
    if input._data.dtype.kind in "iub" and isinstance(exponent, numbers.Integral) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(input, exponent=exponent)
