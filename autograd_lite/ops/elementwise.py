r"""Elementwise functions: exp and log, sqrt and abs, tanh and the activations (softplus, ...), sin and cos, clamp
and where.

Notation in the docstrings: $\bar z$ is the gradient arriving at the output (`grad`), $\bar x$ what the
rule returns for input $x$; $\dot x$ is input $x$'s tangent, $\dot z$ what the forward rule returns.
Where a factor is piecewise constant (a mask, a sign), it is built from the saved values by comparing tensors
(`x >= ctx.min`, not numpy on `x._data`, so that `autograd_lite.compile` traces it) and enters as a constant bool
tensor, which is its exact derivative almost everywhere. Where PyTorch records that factor
instead (`abs`: `grad * sgn(x)`; `relu`: `threshold_backward(grad, z)`), so that a gradient taken with
`create_graph=True` stays connected to the input (its own gradient being zero), the rule does the same.
"""
import math

import numpy as np

from ..dtypes import scalar_type_name
from ..tensor import Tensor, _number_or_tensor
from .batching import BatchedTensor, apply_batched, line_up_rank
from .op import Op, _const, _zeros_like


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


def exp(input):
    return Exp.apply(input)


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


def expm1(input):
    return Expm1.apply(input)


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


def log(input):
    return Log.apply(input)


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


def log1p(input):
    return Log1p.apply(input)


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


def sqrt(input):
    return Sqrt.apply(input)


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
        return (grad * Sgn.apply(x),)  # recorded, as PyTorch's SgnBackward0: the gradient stays connected to x

    @staticmethod
    def jvp(ctx, x_t):
        (x,) = ctx.saved_tensors
        return x_t * Sgn.apply(x)


def abs(input):  # noqa: A001
    return Abs.apply(input)


class Sign(Op):
    r"""$z=\mathrm{sign}(x)\in\{-1,0,1\}$ (0 at NaN, as in PyTorch).   VJP: $\bar x=0$ (zeros).   JVP: $\dot z=0$."""
    name = "Sign"

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind != "f":
            return np.sign(x) if x.dtype != np.bool_ else x.copy()
        z = np.sign(x)
        return np.where(z != z, z.dtype.type(0), z)  # sign(NaN) is 0 in PyTorch (numpy: NaN)

    @staticmethod
    def vjp(ctx, grad):
        return (_zeros_like(grad),)

    @staticmethod
    def jvp(ctx, x_t):
        return _zeros_like(x_t)  # zeros not connected to x_t's graph, as PyTorch's


class Sgn(Sign):
    r"""$z=\mathrm{sgn}(x)$, `sign` extended to complex numbers ($x/|x|$); the same for real $x$.
    VJP: $\bar x=0$.   JVP: $\dot z=0$."""
    name = "Sgn"
    save_inputs = save_output = True  # PyTorch saves both (for complex inputs): `_saved_self`, `_saved_result`


def sign(input):
    return Sign.apply(input)


def sgn(input):
    return Sgn.apply(input)


class Round(Sign):
    r"""$z=\mathrm{round}(x)$ (half to even; `decimals=d`: to $10^{-d}$, PyTorch's `RoundBackward1`). Piecewise
    constant, like `sign`: VJP: $\bar x=0$.   JVP: $\dot z=0$.   Integer tensors come back unchanged (a copy)."""
    name = "Round"
    save_inputs = save_output = False

    @staticmethod
    def forward(ctx, x, decimals=0):
        if x.dtype == np.bool_ or (decimals and x.dtype.kind in "iu"):
            kernel = "round_vml_cpu" if x.dtype == np.bool_ else "round_cpu"
            raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(x.dtype)}\'')
        return np.round(x, decimals) if x.dtype.kind == "f" else x.copy()


class RoundDecimals(Round):
    r"""`round(x, decimals=d)` for $d\neq0$: PyTorch's `RoundBackward1`."""
    overload = 1


class Floor(Round):
    r"""$z=\lfloor x\rfloor$.   VJP: $\bar x=0$.   JVP: $\dot z=0$.   (Integers: unchanged, a copy.)"""
    name = "Floor"

    @staticmethod
    def forward(ctx, x):
        return _integral_step(np.floor, "floor", x)


class Ceil(Floor):
    r"""$z=\lceil x\rceil$.   VJP: $\bar x=0$.   JVP: $\dot z=0$.   (Integers: unchanged, a copy.)"""
    name = "Ceil"

    @staticmethod
    def forward(ctx, x):
        return _integral_step(np.ceil, "ceil", x)


class Trunc(Floor):
    r"""$z=\mathrm{trunc}(x)$ (towards 0).   VJP: $\bar x=0$.   JVP: $\dot z=0$.   (Integers: unchanged, a copy.)"""
    name = "Trunc"

    @staticmethod
    def forward(ctx, x):
        return _integral_step(np.trunc, "trunc", x)


class Frac(Op):
    r"""$z=x-\mathrm{trunc}(x)$ (the sign of $x$).   VJP: $\bar x=\bar z$.   JVP: $\dot z=\dot x$."""
    name = "Frac"

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind != "f":
            raise NotImplementedError(f'"frac_cpu" not implemented for \'{scalar_type_name(x.dtype)}\'')
        return x - np.trunc(x)

    @staticmethod
    def vjp(ctx, grad):
        return (grad,)

    @staticmethod
    def jvp(ctx, x_t):
        return x_t.clone()  # a copy, on purpose: PyTorch's is x's tangent itself, wrong after an in-place op on z


def _integral_step(kernel, name, x):
    """floor / ceil / trunc of an array: integers come back as they are (a copy), booleans are refused."""
    if x.dtype == np.bool_:
        raise NotImplementedError(f'"{name}_vml_cpu" not implemented for \'Bool\'')
    return kernel(x) if x.dtype.kind == "f" else x.copy()


def round(input, *, decimals=0):  # noqa: A001
    return (RoundDecimals if decimals else Round).apply(input, decimals=decimals)


def floor(input):
    return Floor.apply(input)


def ceil(input):
    return Ceil.apply(input)


def trunc(input):
    return Trunc.apply(input)


def frac(input):
    return Frac.apply(input)


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


def tanh(input):
    return Tanh.apply(input)


class TanhBackward(Op):
    r"""$w=g\,(1-z^2)$: tanh's rule as one op (PyTorch's `tanh_backward`: one node instead of three).
    VJP: $\bar g=\bar w\,(1-z^2),\ \bar z=-2\bar w\,g\,z$.   JVP: $\dot w=\dot g\,(1-z^2)-2g\,z\,\dot z$."""
    name = "TanhBackward"
    save_inputs = True
    saved_names = ("grad_output", "output")

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


def sigmoid(input):
    return Sigmoid.apply(input)


class SigmoidBackward(Op):
    r"""$w=g\,z(1-z)$: the sigmoid's rule as one op (PyTorch's `sigmoid_backward`).
    VJP: $\bar g=\bar w\,z(1-z),\ \bar z=\bar w\,g\,(1-2z)$.   JVP: $\dot w=\dot g\,z(1-z)+g\,(1-2z)\,\dot z$."""
    name = "SigmoidBackward"
    save_inputs = True
    saved_names = ("grad_output", "output")

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
        return (ThresholdBackward.apply(grad, ctx.output, threshold=0),)

    @staticmethod
    def jvp(ctx, x_t):
        return ThresholdBackward.apply(x_t, ctx.output, threshold=0)


def relu(input):
    return Relu.apply(input)


class ThresholdBackward(Op):
    r"""$w=g\,[\lnot(x\le t)]$: relu's rule as one op (PyTorch's `threshold_backward`, called with relu's output
    as $x$; a NaN $x$ keeps $g$).   VJP: $\bar g=\bar w\,[\lnot(x\le t)],\ \bar x=0$.
    JVP: $\dot w=\dot g\,[\lnot(x\le t)]$."""
    name = "ThresholdBackward"
    save_inputs = ((1,), ())
    saved_names = ("grad_output", "self")

    @staticmethod
    def forward(ctx, g, x, threshold):
        ctx.threshold = threshold
        return np.where(x <= threshold, 0, g).astype(np.result_type(g, x), copy=False)  # NaN x: g, as PyTorch

    @staticmethod
    def vjp(ctx, grad):
        _, x = ctx.saved_tensors
        need_g, need_x = ctx.needs_input_grad
        g_bar = ThresholdBackward.apply(grad, x, threshold=ctx.threshold) if need_g else None
        return g_bar, (_zeros_like(grad) if need_x else None)

    @staticmethod
    def jvp(ctx, g_t, x_t):
        _, x = ctx.saved_tensors
        return ThresholdBackward.apply(g_t, x, threshold=ctx.threshold)


class LeakyRelu(Op):
    r"""$z=x$ for $x>0$, $ax$ otherwise ($a$ = `negative_slope`).   VJP: $\bar x=\bar z\,s$ with $s=[x>0]+a[x\le0]$
    (so $a$ at 0, as PyTorch).   JVP: $\dot z=\dot x\,s$."""
    name = "LeakyRelu"
    save_inputs = True
    saved_names = ("self", "negative_slope")

    @staticmethod
    def forward(ctx, x, negative_slope):
        if x.dtype.kind != "f":
            raise NotImplementedError(f'"leaky_relu_cpu" not implemented for \'{scalar_type_name(x.dtype)}\'')
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def vjp(ctx, grad):
        (x,) = ctx.saved_tensors
        return (LeakyReluBackward.apply(grad, x, negative_slope=ctx.negative_slope),)

    @staticmethod
    def jvp(ctx, x_t):
        (x,) = ctx.saved_tensors
        return LeakyReluBackward.apply(x_t, x, negative_slope=ctx.negative_slope)


class LeakyReluInplace(LeakyRelu):
    r"""`leaky_relu(x, inplace=True)`: PyTorch's `LeakyReluBackward1`, whose rules read the result (x itself
    after the write, so a later in-place change of x is caught) where those of `LeakyRelu` read the input."""
    overload = 1
    save_inputs = False
    save_output = True

    @staticmethod
    def vjp(ctx, grad):
        return (LeakyReluBackward.apply(grad, ctx.output, negative_slope=ctx.negative_slope),)

    @staticmethod
    def jvp(ctx, x_t):
        return LeakyReluBackward.apply(x_t, ctx.output, negative_slope=ctx.negative_slope)


class LeakyReluBackward(Op):
    r"""$w=g\,s$ with $s=[x>0]+a[x\le0]$: leaky_relu's rule as one op (PyTorch's `leaky_relu_backward`).
    VJP: $\bar g=\bar w\,s,\ \bar x=0$.   JVP: $\dot w=\dot g\,s$."""
    name = "LeakyReluBackward"
    save_inputs = ((1,), ())
    saved_names = ("grad_output", "self")

    @staticmethod
    def forward(ctx, g, x, negative_slope):
        ctx.negative_slope = negative_slope
        return np.where(x > 0, g, g * negative_slope).astype(np.result_type(g, x), copy=False)

    @staticmethod
    def vjp(ctx, grad):
        _, x = ctx.saved_tensors
        need_g, need_x = ctx.needs_input_grad
        g_bar = LeakyReluBackward.apply(grad, x, negative_slope=ctx.negative_slope) if need_g else None
        return g_bar, (_zeros_like(grad) if need_x else None)

    @staticmethod
    def jvp(ctx, g_t, x_t):
        _, x = ctx.saved_tensors
        return LeakyReluBackward.apply(g_t, x, negative_slope=ctx.negative_slope)


class Softplus(Op):
    r"""$z=\frac1\beta\ln(1+e^{\beta x})$, and $z=x$ where $\beta x>$ `threshold`.   VJP: $\bar x=\bar z\,s$ with
    $s=\sigma(\beta x)$ (1 above the threshold).   JVP: $\dot z=\dot x\,s$."""
    name = "Softplus"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, beta, threshold):
        if x.dtype.kind != "f":
            raise NotImplementedError(f'"softplus_cpu" not implemented for \'{scalar_type_name(x.dtype)}\'')
        ctx.beta, ctx.threshold = beta, threshold
        bx = x * beta
        with np.errstate(over="ignore"):  # inf above a large threshold, as in PyTorch
            return np.where(bx > threshold, x, np.log1p(np.exp(bx)) / beta)

    @staticmethod
    def derivative(ctx, need=None):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return (where(bx > ctx.threshold, 1.0, sigmoid(bx)),)

    @staticmethod
    def vjp(ctx, grad):
        (dx,) = Softplus.derivative(ctx)
        return (grad * dx,)

    @staticmethod
    def jvp(ctx, x_t):
        (dx,) = Softplus.derivative(ctx)
        return x_t * dx


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
    def derivative(ctx, need=None):
        (x,) = ctx.saved_tensors
        return (exp(-x * x) * (2 / math.sqrt(math.pi)),)

    @staticmethod
    def vjp(ctx, grad):
        (dx,) = Erf.derivative(ctx)
        return (grad * dx,)

    @staticmethod
    def jvp(ctx, x_t):
        (dx,) = Erf.derivative(ctx)
        return x_t * dx


def erf(input):
    return Erf.apply(input)


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
            raise NotImplementedError(f'"GeluKernelImpl" not implemented for \'{scalar_type_name(x.dtype)}\'')
        ctx.approximate = approximate
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_GELU_C * (x + 0.044715 * x**3)))
        return 0.5 * x * (1 + np.asarray(_erf(x * (1 / math.sqrt(2))), dtype=x.dtype))

    @staticmethod
    def derivative(ctx, need=None):
        """z'(x), built from ops on the saved x, so that it can be differentiated again."""
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = tanh(_GELU_C * (x + 0.044715 * x * x * x))
            return (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_GELU_C * (1 + 3 * 0.044715 * x * x)),)
        return (0.5 * (1 + Erf.apply(x * (1 / math.sqrt(2)))) + x * exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi)),)

    @staticmethod
    def vjp(ctx, grad):
        (dx,) = Gelu.derivative(ctx)
        return (grad * dx,)

    @staticmethod
    def jvp(ctx, x_t):
        (dx,) = Gelu.derivative(ctx)
        return x_t * dx


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


def sin(input):
    return Sin.apply(input)


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


def cos(input):
    return Cos.apply(input)


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
    def derivative(ctx, need=None):
        """(keep,): True where x lies between the bounds (False at a NaN), as comparisons of tensors."""
        (x,) = ctx.saved_tensors
        if ctx.max is None:
            return (x >= ctx.min,)
        if ctx.min is None:
            return (x <= ctx.max,)
        return ((x >= ctx.min) & (x <= ctx.max),)

    @staticmethod
    def vjp(ctx, grad):  # a where, as PyTorch's clamp_backward: exact zeros outside, even for a NaN gradient
        (dx,) = Clamp.derivative(ctx)
        return (where(dx, grad, 0.0),)

    @staticmethod
    def jvp(ctx, x_t):
        (dx,) = Clamp.derivative(ctx)
        return where(dx, x_t, 0.0)


def clamp(input, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = where(out < min, min, out)
        if max is not None:
            out = where(out > max, max, out)
        return out
    return Clamp.apply(input, min=min, max=max)


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

    @classmethod
    def batch(cls, n, x, y, condition):
        """Inside vmap: elementwise (see `elementwise`), the condition lined up with x and y."""
        cond = condition._data if isinstance(condition, Tensor) else condition
        c_rank = cond.ndim - n if isinstance(condition, Tensor) else cond.ndim
        rank = max([c_rank] + [v.ndim - n for v in (x, y) if isinstance(v, Tensor)])
        if isinstance(condition, Tensor):
            cond = line_up_rank(condition, n, rank)._data
        x, y = (line_up_rank(v, n, rank) if isinstance(v, Tensor) else v for v in (x, y))
        return cls.apply(x, y, condition=cond)


def where(condition, input, other):
    if isinstance(condition, BatchedTensor):  # inside vmap, a condition that differs per example: Where's rule
        like = input if isinstance(input, Tensor) else other
        return apply_batched(Where, (_number_or_tensor(input, like), _number_or_tensor(other, like)),
                             {"condition": condition})
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {scalar_type_name(cond.dtype)}")
    like = input if isinstance(input, Tensor) else other
    input, other = _number_or_tensor(input, like), _number_or_tensor(other, like)
    return Where.apply(input, other, condition=cond)
