r"""Ops with several outputs: `split` / `chunk`, `unbind`, `var_mean`, `std_mean`.

As in PyTorch, one node serves all the outputs: `a, b = x.split(2)` gives `a.grad_fn is b.grad_fn`, with
`a.output_nr == 0` and `b.output_nr == 1`. The reverse rule receives one gradient per output, None for an
output that no gradient reached (the part of the input it covers then gets zeros); the forward rule returns
one tangent per output. (`MultiOutputOp` in op.py runs them.)

The outputs of `split`, `chunk` and `unbind` are views of the input that share that one node, so, as PyTorch,
they may not be written in place while they may need a gradient, nor used once their memory was written some
other way: see views.py.
"""
import builtins
import math

import numpy as np

from ..tensor import _dim
from .batching import shift
from .elementwise import where
from .indexing import cat, stack
from .op import MultiOutputOp, _const
from .reduction import Var, _grad_to_input, _keep_dims, _var_or_std, sum  # noqa: A004


def _zeros_where_none(grads, shapes):
    """The gradients of the outputs, zeros of each output's shape where an output received none."""
    dtype = next(g for g in grads if g is not None)._data.dtype
    return [g if g is not None else _const(np.zeros(shape, dtype)) for g, shape in zip(grads, shapes)]


class Split(MultiOutputOp):
    r"""$x=[z_1;\dots;z_k]$ along `dim` (views of $x$).   VJP: $\bar x=[\bar z_1;\dots;\bar z_k]$ (zeros for an
    output without a gradient).   JVP: $\dot z_i$ = the same pieces of $\dot x$."""
    name = "Split"
    is_view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim, ctx.sizes = dim, sizes
        ctx.shapes = [x.shape[:dim] + (n,) + x.shape[dim + 1:] for n in sizes]
        return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=dim))

    @staticmethod
    def vjp(ctx, *grads):
        return (cat(_zeros_where_none(grads, ctx.shapes), ctx.dim),)

    @staticmethod
    def jvp(ctx, x_t):
        return ctx.op.apply(x_t, sizes=ctx.sizes, dim=ctx.dim)

    @classmethod
    def batch(cls, n, x, sizes, dim):
        """Inside vmap: the same pieces along the example's dim, past the `n` batch dims."""
        return cls.apply(x, sizes=sizes, dim=shift(dim, n))


class SplitWithSizes(Split):
    """`split([sizes])`: PyTorch's `SplitWithSizesBackward0`."""
    name = "SplitWithSizes"


def split(tensor, split_size_or_sections, dim=0):
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = _dim(dim, tensor.ndim)
    n = tensor.shape[dim]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
        return Split.apply(tensor, sizes=tuple(sizes or [0]), dim=dim)
    sizes = [int(s) for s in split_size_or_sections]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={sizes}")
    if builtins.sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                           f"dimension {dim}), but got split_sizes={sizes}")
    return SplitWithSizes.apply(tensor, sizes=tuple(sizes), dim=dim)


def chunk(input, chunks, dim=0):
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = _dim(dim, input.ndim)
    n = input.shape[dim]
    if n == 0:  # every chunk is empty
        return Split.apply(input, sizes=(0,) * chunks, dim=dim)
    return split(input, math.ceil(n / chunks), dim)


class Unbind(MultiOutputOp):
    r"""$z_i=x[i]$ along `dim` (views).   VJP: $\bar x=\mathrm{stack}(\bar z_i)$.   JVP: $\dot z_i=\dot x[i]$."""
    name = "Unbind"
    is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        ctx.shapes = [x.shape[:dim] + x.shape[dim + 1:]] * x.shape[dim]
        moved = np.moveaxis(x, dim, 0)
        return tuple(moved[i, ...] for i in range(len(moved)))  # `...`: 0-d views, where moved[i] copies a scalar

    @staticmethod
    def vjp(ctx, *grads):
        return (stack(_zeros_where_none(grads, ctx.shapes), ctx.dim),)

    @staticmethod
    def jvp(ctx, x_t):
        return Unbind.apply(x_t, dim=ctx.dim)

    @classmethod
    def batch(cls, n, x, dim):
        """Inside vmap: the same op along the example's dim, past the `n` batch dims."""
        return cls.apply(x, dim=shift(dim, n))


def unbind(input, dim=0):
    dim = _dim(dim, input.ndim)
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, dim=dim)


class VarMean(MultiOutputOp):
    r"""$(v, m)$: the variance and the mean over dims.   VJP: $\bar x=\bar v\,\frac{2(x-m)}{n-c}+\bar m/n$.
    JVP: $\dot v=\sum_i\frac{2(x_i-m)}{n-c}\dot x_i$, $\dot m=\frac1n\sum_i\dot x_i$."""
    name = "VarMean"
    function_name = "var_mean"
    save_inputs = True

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        ctx.correction = correction
        var = Var.forward(ctx, x, dim, correction, keepdim)  # sets ctx.dim, n, scale, input_shape
        return var, np.sum(x, axis=dim, keepdims=keepdim) / max(ctx.n, 1)

    @staticmethod
    def d_first(ctx):
        """d(first output)/dx as a tensor: the variance's derivative (the std's in StdMean)."""
        return Var.derivative(ctx)[0]

    @staticmethod
    def vjp(ctx, grad_first, grad_mean):
        grad = None
        if grad_first is not None:
            grad = _keep_dims(grad_first, ctx) * ctx.op.d_first(ctx)
        if grad_mean is not None:
            from_mean = _grad_to_input(grad_mean, ctx) / max(ctx.n, 1)
            grad = from_mean if grad is None else grad + from_mean
        return (grad,)

    @staticmethod
    def jvp(ctx, x_t):
        return sum(x_t * ctx.op.d_first(ctx), ctx.dim, ctx.keepdim), sum(x_t, ctx.dim, ctx.keepdim) / max(ctx.n, 1)

    @classmethod
    def batch(cls, n, x, dim, correction, keepdim):
        """Inside vmap: over the example's dims (all of them for None), past the `n` batch dims."""
        dim = tuple(range(n, x.ndim)) if dim is None else shift(dim, n)
        return cls.apply(x, dim=dim, correction=correction, keepdim=keepdim)


class StdMean(VarMean):
    r"""$(s, m)$: the standard deviation and the mean over dims.   VJP: $\bar x=\bar s\,\frac{x-m}{(n-c)\,s}+\bar m/n$
    (0 where $s=0$, as PyTorch).   JVP: as `VarMean`'s with the std's derivative."""
    name = "StdMean"
    function_name = "std_mean"
    save_output = True

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        var, mean = VarMean.forward(ctx, x, dim, correction, keepdim)
        return np.sqrt(var), mean

    @staticmethod
    def d_first(ctx):
        s = _keep_dims(ctx.output, ctx)  # the saved std, output 0 of this node (PyTorch's _saved_result0)
        return where(s == 0, 0.0, Var.derivative(ctx)[0] / (2 * where(s == 0, 1.0, s)))  # s = 0: 0, as `Std`'s


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_or_std(VarMean, input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_or_std(StdMean, input, dim, unbiased, keepdim, correction)

