r"""Reductions: sum, mean, prod, max/min, var/std, logsumexp and vector norms, over all elements or over `dim`.

A reduction's reverse rule puts the reduced dims back (`_grad_to_input`) so that the gradient has the
input's shape.
"""
import builtins
import math

import numpy as np

from .. import grad_mode
from ..dtypes import scalar_type_name, to_numpy_dtype
from ..tensor import Tensor, _dim, _wrap
from .arithmetic import Maximum, Minimum
from .batching import BatchedTensor, reduce_batched, shift
from .elementwise import abs, exp, sgn, where  # noqa: A004
from .op import Op, _const, _warn_user, differentiated
from .shape import expand, movedim, reshape, unsqueeze


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

    @classmethod
    def batch(cls, n, x, dim, keepdim, dtype):
        """Inside vmap: over the example's dims (all of them for None: no keepdim), past the `n` batch dims."""
        if dim is None:
            return cls.apply(x, dim=tuple(range(n, x.ndim)), keepdim=False, dtype=dtype)
        return cls.apply(x, dim=shift(dim, n), keepdim=keepdim, dtype=dtype)


class SumDim(Sum):
    r"""`sum(dim)`: PyTorch's `SumBackward1`."""
    overload = 1


def _dims(dim, ndim):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    dims = [_dim(d, ndim) for d in dims]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(dims)) if ndim else ()  # a 0-d tensor accepts dim 0 or -1, and has nothing to reduce


def sum(input, dim=None, keepdim=False, dtype=None):  # noqa: A001
    dims = _dims(dim, input.ndim)
    np_dtype = None if dtype is None else to_numpy_dtype(dtype)
    if dims is None:
        return Sum.apply(input, dim=None, keepdim=False, dtype=np_dtype)
    # dim=[]: all dims, as PyTorch
    return SumDim.apply(input, dim=dims or tuple(range(input.ndim)), keepdim=keepdim, dtype=np_dtype)


class Mean(Op):
    r"""$z=\frac1n\sum x_i$.   VJP: $\bar x=\bar z/n$ broadcast back.   JVP: $\dot z=\frac1n\sum\dot x$."""
    name = "Mean"

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype):
        if x.dtype.kind != "f" and dtype is None:
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
                f"dtype. Got: {scalar_type_name(x.dtype)}"
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

    @classmethod
    def batch(cls, n, x, dim, keepdim, dtype):
        """Inside vmap: over the example's dims (all of them for None: no keepdim), past the `n` batch dims."""
        if dim is None:
            return cls.apply(x, dim=tuple(range(n, x.ndim)), keepdim=False, dtype=dtype)
        return cls.apply(x, dim=shift(dim, n), keepdim=keepdim, dtype=dtype)


class MeanDim(Mean):
    r"""`mean(dim)`: PyTorch's `MeanBackward1`."""
    overload = 1


def mean(input, dim=None, keepdim=False, dtype=None):
    dims = _dims(dim, input.ndim)
    np_dtype = None if dtype is None else to_numpy_dtype(dtype)
    if dims is None:
        return Mean.apply(input, dim=None, keepdim=False, dtype=np_dtype)
    return MeanDim.apply(input, dim=dims or tuple(range(input.ndim)), keepdim=keepdim, dtype=np_dtype)


class Prod(Op):
    r"""$z=\prod_i x_i$ over all elements.   VJP: $\bar x=\bar z\,D$ with $D_i=\prod_{j\ne i}x_j$ ($z/x_i$ when no
    $x_j$ is 0).   JVP: $\dot z=\sum_i D_i\,\dot x_i$.   (`ProdDim`: the same over one dim.)"""
    name = "Prod"
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype):
        _reduction_setup(ctx, x, dim, keepdim)
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64
        return np.multiply.reduce(x, axis=dim, dtype=dtype, keepdims=keepdim)

    @staticmethod
    def derivative(ctx, need=None):
        """(D,): the product of the other elements, broadcasting against the input (see `_others_product`)."""
        (x,) = ctx.saved_tensors
        if x.ndim == 0:  # the product of one element is that element (PyTorch's prod_backward returns grad)
            return (_const(np.ones((), x._data.dtype)),)
        zero = x == 0
        if not sum(zero):  # (ops and a tensor's bool, so that compile traces the choice and guards it)
            return (_keep_dims(ctx.output, ctx) / x,)  # as PyTorch: the product divided by each element
        if differentiated(x):  # recorded (create_graph) or carrying tangents (forward-over-reverse): D must be
            return (_others_product(x, ctx.dim),)  # ops exact around x too, not only at x
        # a plain backward: with one zero in a product, D is the product of the others at the zero and 0 elsewhere;
        # with two or more, 0 everywhere.
        nonzero = where(zero, 1, x)
        rest = Prod.apply(nonzero, dim=ctx.dim, keepdim=True, dtype=None)
        zeros = sum(zero, ctx.dim, True)
        return (where(zeros == 0, rest / nonzero, where(zero & (zeros == 1), rest, 0)),)

    @staticmethod
    def vjp(ctx, grad):
        (d,) = Prod.derivative(ctx)
        return (_keep_dims(grad, ctx) * d,)

    @staticmethod
    def jvp(ctx, x_t):
        shape = ctx.input_shape
        if grad_mode.forward_ad_state.through_func and (0 in shape or math.prod(
                shape if ctx.dim is None else [shape[d] for d in ctx.dim]) <= 1):
            # PyTorch's rule takes its zero-safe path for torch.func's wrapped values, where the product of one
            # element multiplies its tangent by ones: the same values, but not connected to x (fwAD's path is)
            return sum(x_t, ctx.dim, ctx.keepdim)
        (d,) = Prod.derivative(ctx)
        return sum(x_t * d, ctx.dim, ctx.keepdim)

    @classmethod
    def batch(cls, n, x, dim, keepdim, dtype):
        """Inside vmap: the example's elements, flattened into one dim past the `n` batch dims, multiplied along it."""
        if dim is None:
            flat = reshape(x, tuple(x.shape[:n]) + (-1,))
            return ProdDim.apply(flat, dim=(n,), keepdim=False, dtype=dtype)
        return cls.apply(x, dim=shift(dim, n), keepdim=keepdim, dtype=dtype)


class ProdDim(Prod):
    r"""`prod(dim)`: PyTorch's `ProdBackward1`."""
    overload = 1


def _others_product(x, dim):
    r"""$D_i=\prod_{j\ne i}x_j$ along `dim` (all elements for None), as ops that can be differentiated again, zeros
    included: row $i$ of an $n\times n$ matrix holds $x$ with $x_i$ replaced by 1, and each row is multiplied out
    (n² values: used only where an input is 0)."""
    if not dim:  # all elements (or the one element of a 0-d tensor): a flat vector's
        return reshape(_others_product(reshape(x, (-1,)), (0,)), x.shape)
    last = movedim(x, dim[0], -1)
    n = last.shape[-1]
    rows = expand(unsqueeze(last, -2), last.shape[:-1] + (n, n))
    rows = where(_const(np.eye(n, dtype=bool)), 1.0, rows)
    return movedim(prod(rows, -1), -1, dim[0])


def prod(input, dim=None, keepdim=False, dtype=None):
    np_dtype = None if dtype is None else to_numpy_dtype(dtype)
    if dim is None:
        return Prod.apply(input, dim=None, keepdim=False, dtype=np_dtype)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod() received an invalid combination of arguments - got ({type(dim).__name__}), but "
                        "expected (int dim, bool keepdim, *, dtype)")
    d = _dim(dim, input.ndim)
    return ProdDim.apply(input, dim=(d,) if input.ndim else (), keepdim=keepdim, dtype=np_dtype)


class Amax(Op):
    r"""$z=\max_i x_i$ over all elements.   VJP: $\bar z$ shared equally among the maximal elements.
    JVP: the mean of $\dot x$ over the maximal elements.   (`min` is the same op on $-x$.)"""
    name = "Max"
    overload = 1
    save_inputs = True
    save_output = True
    batch = None  # inside vmap, one call per example: a rule by max(dim) would give ties' gradient to one element

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
    def maximal(ctx, dtype):
        """(mask, count): where the maximal elements are (those equal to the result; the NaNs, when it is NaN, as
        PyTorch's evenly_distribute_backward), and how many there are, as a 0-d tensor of `dtype`. Comparisons of
        tensors and a sum, not numpy on the data, so that compile traces them. `isnan` needs no `and the result is
        NaN`: a NaN in x makes the result NaN, which no element equals."""
        (x,) = ctx.saved_tensors
        mask = (x == ctx.output) | x.isnan()
        return mask, mask.sum(dtype=dtype)

    @staticmethod
    def derivative(ctx, need=None):
        """(D,): 1/count at the maximal elements, 0 elsewhere (in double, as the forward rule has always used it)."""
        mask, count = Amax.maximal(ctx, np.float64)
        return (mask / count,)

    @staticmethod
    def vjp(ctx, grad):
        mask, count = Amax.maximal(ctx, grad.dtype)
        return (where(mask, grad / count, 0.0),)  # exact zeros elsewhere, even for a NaN or inf gradient

    @staticmethod
    def jvp(ctx, x_t):
        (dx,) = Amax.derivative(ctx)
        return sum(x_t * dx)


class Min(Amax):
    r"""`min()` of all elements: PyTorch's `MinBackward1`."""
    name = "Min"
    overload = 1


class Argmax(Op):
    r"""The index of the first largest element along `dim` (of all the elements, flattened, for None). Not
    differentiable, as in PyTorch; an op all the same, so that compile traces the indices (those `max(dim)` picks)."""
    name = "Argmax"
    differentiable = False

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        return np.argmax(x, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)

    @classmethod
    def batch(cls, n, x, dim, keepdim):
        """Inside vmap: along the example's dim, past the `n` batch dims (its elements flattened, for None)."""
        if dim is not None:
            return cls.apply(x, dim=dim + n, keepdim=keepdim)
        out = cls.apply(reshape(x, tuple(x.shape[:n]) + (-1,)), dim=n, keepdim=False)
        return reshape(out, tuple(out.shape) + (1,) * (x.ndim - n)) if keepdim else out


class Argmin(Argmax):
    r"""The index of the first smallest element: as `Argmax`."""
    name = "Argmin"

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        return np.argmin(x, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)


class MaxDim(Op):
    r"""$z_j=x_{i_j j}$ with $i_j=\arg\max$ along a dim (the indices, found by `Argmax`, given as an option).
    VJP: $\bar z$ placed at the chosen indices.   JVP: $\dot z$ = the tangent at the chosen indices."""
    name = "Max"

    @staticmethod
    def forward(ctx, x, dim, keepdim, indices):
        ctx.dim, ctx.keepdim, ctx.input_shape, ctx.indices = dim, keepdim, x.shape, indices
        out = np.take_along_axis(x, indices if keepdim else np.expand_dims(indices, dim), dim)
        return out if keepdim else np.squeeze(out, dim)

    @staticmethod
    def derivative(ctx, need=None):
        """(onehot,): True at the chosen index along dim: the indices compared with the positions 0, 1, ... along
        it (ops and a comparison of tensors, not numpy on the indices, so that compile traces them)."""
        n = ctx.input_shape[ctx.dim]
        positions = _const(np.arange(n).reshape((n,) + (1,) * (len(ctx.input_shape) - 1 - ctx.dim)))
        indices = _const(ctx.indices)
        return ((indices if ctx.keepdim else unsqueeze(indices, ctx.dim)) == positions,)

    @staticmethod
    def vjp(ctx, grad):  # placed, not multiplied by a mask: exact zeros elsewhere, even for a NaN gradient
        if not ctx.keepdim:
            grad = unsqueeze(grad, ctx.dim)
        (dx,) = MaxDim.derivative(ctx)
        return (where(dx, grad, 0.0),)

    @staticmethod
    def jvp(ctx, x_t):
        (dx,) = MaxDim.derivative(ctx)
        return sum(where(dx, x_t, 0.0), ctx.dim, ctx.keepdim)

    @classmethod
    def batch(cls, n, x, dim, keepdim, indices):
        """Inside vmap: along the example's dim, past the `n` batch dims (the indices found again, per example)."""
        find = Argmin if issubclass(cls, MinDim) else Argmax
        return cls.apply(x, dim=dim + n, keepdim=keepdim, indices=find.apply(x, dim=dim + n, keepdim=keepdim)._data)


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
        wide = x.astype(np.float64) if x.dtype.itemsize < 8 else x  # PyTorch accumulates float32 in double
        centered = wide - np.sum(wide, axis=dim, keepdims=True) / builtins.max(n, 1)
        with np.errstate(invalid="ignore"):  # 0 * inf: nan, as in PyTorch
            return (np.sum(centered * centered, axis=dim, keepdims=keepdim) * ctx.scale).astype(x.dtype, copy=False)

    @staticmethod
    def derivative(ctx, need=None):
        (x,) = ctx.saved_tensors
        centered = x - sum(x, ctx.dim, True) / builtins.max(ctx.n, 1)
        if ctx.scale == math.inf and (ctx.dim is None or x.ndim == 0):  # n <= c over all elements: as PyTorch's
            with np.errstate(invalid="ignore"):  # D = inf, or nan where x is its mean (0 * inf): PyTorch's var_backward
                return ((abs(centered) * math.inf).detach(),)  # (ops, not numpy on the data: compile traces them)
        return (centered * (2 * ctx.scale),)

    @staticmethod
    def vjp(ctx, grad):
        (dx,) = ctx.op.derivative(ctx)
        return (_keep_dims(grad, ctx) * dx,)

    @staticmethod
    def jvp(ctx, x_t):
        (dx,) = ctx.op.derivative(ctx)
        return sum(x_t * dx, ctx.dim, ctx.keepdim)

    @classmethod
    def batch(cls, n, x, dim, correction, keepdim):
        """Inside vmap: over the example's dims (all of them for None), past the `n` batch dims."""
        dim = tuple(range(n, x.ndim)) if dim is None else shift(dim, n)
        return cls.apply(x, dim=dim, correction=correction, keepdim=keepdim)


def _var_or_std(op, x, dim, unbiased, keepdim, correction):
    name = getattr(op, "function_name", op.name.lower())  # "var", "std", "var_mean", "std_mean"
    if isinstance(dim, bool):  # x.var(False): `unbiased` given first, as PyTorch allows
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (correction=, unbiased=): "
                        "give either correction or unbiased")
    if x._data.dtype.kind != "f":
        what = name if name.endswith("_mean") else "std and var"
        raise RuntimeError(f"{what} only support floating point and complex dtypes")
    correction = correction if correction is not None else 0 if unbiased is False else 1
    dims = _reduced_dims(dim, x, keepdim)
    n = x.numel() if dims is None else math.prod([x.shape[d] for d in dims])
    if n - correction <= 0:
        _warn_user(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                   "factor (input numel divided by output numel).")
    return op.apply(x, dim=dims, correction=correction, keepdim=keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_or_std(Var, input, dim, unbiased, keepdim, correction)


class Std(Var):
    r"""$z=\sqrt{\mathrm{var}(x)}$ over dims.   VJP: $\bar x=\bar z\,D$ with $D=\frac{x-m}{(n-c)\,z}$ (0 where $z=0$,
    as PyTorch).   JVP: $\dot z=\sum_i D_i\,\dot x_i$."""
    name = "Std"
    save_output = True

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        return np.sqrt(Var.forward(ctx, x, dim, correction, keepdim))

    @staticmethod
    def derivative(ctx, need=None):
        z = _keep_dims(ctx.output, ctx)
        (d_var,) = Var.derivative(ctx)
        # z = 0 (x = m): D = 0, masked as PyTorch's std_backward masks it, so that its derivative is 0 there too
        return (where(z == 0, 0.0, d_var / (2 * where(z == 0, 1.0, z))),)  # (the inner where: no 0/0 behind the mask)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_or_std(Std, input, dim, unbiased, keepdim, correction)


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
    def derivative(ctx, need=None):
        """(D,) with D = dz/dx, of the input's shape (None for p = 0: no gradient, as PyTorch)."""
        (x,) = ctx.saved_tensors
        p = ctx.ord
        if p == 0:
            return (None,)
        sign = sgn(x)  # recorded, as PyTorch's SgnBackward0: a create_graph gradient stays connected to x
        if p == 1:
            return (sign,)
        z = _keep_dims(ctx.output, ctx)
        if p in (math.inf, -math.inf):  # the gradient is shared among the elements where |x| is extreme
            abs_x = abs(x)  # (masks are comparisons of tensors, not numpy on the data: compile traces them)
            at_extreme = (abs_x == z) | (abs_x != abs_x)  # a NaN is extreme too (its norm is NaN), as PyTorch's
            return (sign * (at_extreme / at_extreme.sum(ctx.dim, keepdim=True, dtype=np.float64)),)  # (in double)
        if p == 2:
            # z = 0 only where x = 0: D = 0 there, masked after dividing, as PyTorch's norm_backward (so a second
            # backward at z = 0 is nan, as PyTorch's: the masked gradient 0 divided by z = 0)
            return (where(z == 0, 0.0, x / z),)
        abs_x = where(x == 0, 1.0, abs(x))  # |x|^(p-1) is infinite at 0 for p < 1: D = 0 there
        scale = z ** (1 - p) if p < 1 else where(z == 0, 1.0, z) ** (1 - p)
        return (sign * abs_x ** (p - 1) * scale,)

    @staticmethod
    def vjp(ctx, grad):
        (d,) = LinalgVectorNorm.derivative(ctx)
        return (None if d is None else _keep_dims(grad, ctx) * d,)

    @staticmethod
    def jvp(ctx, x_t):
        (d,) = LinalgVectorNorm.derivative(ctx)
        return 0.0 * sum(x_t, ctx.dim, ctx.keepdim) if d is None else sum(x_t * d, ctx.dim, ctx.keepdim)

    @classmethod
    def batch(cls, n, x, ord, dim, keepdim, dtype):  # noqa: A002
        """Inside vmap: over the example's dims (all of them for None), past the `n` batch dims."""
        dim = tuple(range(n, x.ndim)) if dim is None else shift(dim, n)
        return cls.apply(x, ord=ord, dim=dim, keepdim=keepdim, dtype=dtype)


class Logsumexp(Op):
    r"""$z=\ln\sum_i e^{x_i}$ over dims, computed as $m+\ln\sum_i e^{x_i-m}$ with $m=\max_i x_i$ (no overflow).
    VJP: $\bar x=\bar z\,e^{x-z}$ (the softmax; 0 for $x_i=-\infty$).   JVP: $\dot z=\sum_i e^{x_i-z}\,\dot x_i$."""
    name = "Logsumexp"
    save_inputs = True
    save_output = True

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        _reduction_setup(ctx, x, dim, keepdim)
        x = x if x.dtype.kind == "f" else x.astype(np.float64)  # (the result takes the default float dtype)
        m = np.max(x, axis=dim, keepdims=True, initial=-np.inf)
        m = np.where(np.isinf(m), 0.0, m).astype(x.dtype)  # all -inf, or an inf: no shift (inf - inf is nan)
        with np.errstate(divide="ignore"):  # log 0 = -inf: every element -inf, or none at all
            out = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
        return out if keepdim else np.squeeze(out, dim)

    @staticmethod
    def derivative(ctx, need=None):
        (x,) = ctx.saved_tensors
        return (exp(x - _keep_dims(ctx.output, ctx)),)

    @staticmethod
    def vjp(ctx, grad):
        (d,) = Logsumexp.derivative(ctx)
        return (_keep_dims(grad, ctx) * d,)

    @staticmethod
    def jvp(ctx, x_t):
        (d,) = Logsumexp.derivative(ctx)
        return sum(x_t * d, ctx.dim, ctx.keepdim)

    @classmethod
    def batch(cls, n, x, dim, keepdim):
        """Inside vmap: over the example's dims, past the `n` batch dims."""
        return cls.apply(x, dim=shift(dim, n), keepdim=keepdim)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over `dim` (an int or a list of them; an empty list: all dims), without overflow."""
    dims = _dims(dim, input.ndim)
    return Logsumexp.apply(input, dim=dims or tuple(range(input.ndim)), keepdim=keepdim)


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
    _check_not_empty("max" if largest else "min", x, d)
    indices = (Argmax if largest else Argmin).apply(x, dim=d, keepdim=keepdim)
    op = MaxDim if largest else MinDim
    if isinstance(x, BatchedTensor):  # inside vmap: MaxDim's batching rule finds each example's indices
        return _ReturnTypes(op.apply(x, dim=d, keepdim=keepdim, indices=None), indices, "max" if largest else "min")
    values = op.apply(x, dim=d, keepdim=keepdim, indices=indices._data)
    return _ReturnTypes(values, indices, "max" if largest else "min")


def max(input, dim=None, keepdim=False):  # noqa: A001
    return _max_or_min(input, dim, keepdim, True)


def min(input, dim=None, keepdim=False):  # noqa: A001
    return _max_or_min(input, dim, keepdim, False)


def _reduced_dims(dim, x, keepdim):
    """The dims a norm / var / std reduces: None for all of them (dim None or empty), or a sorted tuple.
    All of them with keepdim are listed, so that the result keeps every dim as size 1."""
    dims = _dims(dim, x.ndim) if dim is not None else None  # checked on a 0-d tensor too (dim 0 or -1 only)
    if not dims:
        return tuple(range(x.ndim)) if keepdim and x.ndim else None
    return dims


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):  # noqa: A002
    """The p-norm of the elements over `dim` (all dims by default): `torch.linalg.vector_norm`, which `norm` calls."""
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' must be Number, not str")
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {scalar_type_name(x._data.dtype)}"
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


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """`torch.norm` / `Tensor.norm`: vector norms ('fro' is the 2-norm of all the elements reduced)."""
    if p == "fro":
        p = 2
    elif p == "nuc":
        raise NotImplementedError("autograd_lite has no nuclear norm (it needs a singular value decomposition)")
    elif isinstance(p, str):
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    return vector_norm(input, p, dim, keepdim, dtype)


def all(input, dim=None, keepdim=False):  # noqa: A001
    """True where every element (along `dim`: an int or a tuple of them) is nonzero. Not differentiable."""
    return _test_all_or_any(np.all, input, dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001
    """True where some element (along `dim`: an int or a tuple of them) is nonzero. Not differentiable."""
    return _test_all_or_any(np.any, input, dim, keepdim)


def _test_all_or_any(test, x, dim, keepdim):
    dims = _dims(dim, x.ndim)
    if isinstance(x, BatchedTensor):  # inside vmap: each example tested (batching.py)
        return reduce_batched(test, x, dims or None, keepdim, np.uint8 if x._data.dtype == np.uint8 else np.bool_)
    out = test(x._data, axis=dims, keepdims=keepdim)
    return _wrap(np.asarray(out, dtype=np.uint8 if x._data.dtype == np.uint8 else np.bool_))  # uint8 stays uint8


def _check_not_empty(name, x, dim):
    """PyTorch's IndexError for `max(dim)`, `argmax`, ... over an empty dim (or over everything when empty)."""
    if dim is None and x.numel() == 0:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is not None and x.ndim and x.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _arg_extreme(name, x, dim, keepdim):
    """`argmax` / `argmin`: the index of the first largest / smallest element, over everything or along `dim`."""
    d = None if dim is None else _dim(dim, x.ndim)
    _check_not_empty(name, x, d)
    return (Argmax if name == "argmax" else Argmin).apply(x, dim=None if x.ndim == 0 else d, keepdim=keepdim)


def argmax(input, dim=None, keepdim=False):
    return _arg_extreme("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg_extreme("argmin", input, dim, keepdim)
