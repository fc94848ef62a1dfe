r"""Shape ops: views (transpose, permute, movedim, view/reshape, unsqueeze/squeeze, expand), repeat, `sum_to`.

Results are views of the input where numpy can make them (`is_view`): they share memory and the version
counter. `sum_to` undoes broadcasting; the engine calls it (as `Tensor.sum_to_size`) on every gradient
whose shape is not its input's, so that no rule has to.
"""
import math

import numpy as np

from ..dtypes import legacy_type_name
from ..tensor import Tensor, _dim
from .batching import line_up_rank, shift
from .copies import Alias
from .op import Op


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

    @classmethod
    def batch(cls, n, x):
        """Inside vmap: swap the example's two dims (a vector or a number stays as it is)."""
        return Transpose.apply(x, dim0=n, dim1=n + 1) if x.ndim - n == 2 else Alias.apply(x)


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return T.apply(input)


class Transpose(Op):
    r"""Swap two dims.   VJP: swap them back.   JVP: swap the tangent's."""
    name = "Transpose"
    is_view = True

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(x, dim0, dim1) if x.ndim else x.view()  # a 0-d tensor accepts dims 0 and -1

    @staticmethod
    def vjp(ctx, grad):
        return (transpose(grad, *ctx.dims),)

    @staticmethod
    def jvp(ctx, x_t):
        return transpose(x_t, *ctx.dims)

    @classmethod
    def batch(cls, n, x, dim0, dim1):
        """Inside vmap: swap the example's dims, past the `n` batch dims."""
        if x.ndim == n:  # a number: nothing to swap
            return Alias.apply(x)
        return cls.apply(x, dim0=shift(dim0, n), dim1=shift(dim1, n))


def transpose(input, dim0, dim1):
    n = input.ndim
    return Transpose.apply(input, dim0=_dim(dim0, n), dim1=_dim(dim1, n))


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

    @classmethod
    def batch(cls, n, x, dims):
        """Inside vmap: the batch dims stay in front; the example's dims are permuted behind them."""
        return cls.apply(x, dims=tuple(range(n)) + shift(tuple(dims), n))


def permute(input, dims):
    n = input.ndim
    dims = tuple(_dim(d, n) for d in dims)
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired "
            f"ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}"
        )
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims=dims)


def movedim(input, source, destination):
    """Move the dims `source` to the positions `destination`, the others keeping their order: a permute."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain the "
                           f"same number of dims as destination ({list(dst)} dims)")
    n = input.ndim
    for name, dims in (("source", src), ("destination", dst)):
        if len({_dim(d, n) for d in dims}) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    if n == 0:  # nothing to move: PyTorch returns an alias
        return Alias.apply(input)
    order = [None] * n
    for s, d in zip(src, dst):
        order[_dim(d, n)] = _dim(s, n)
    rest = iter([i for i in range(n) if i not in order])
    return permute(input, tuple(i if i is not None else next(rest) for i in order))


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

    @classmethod
    def batch(cls, n, x, shape):
        """Inside vmap: each example takes the new shape; the batch dims stay."""
        return cls.apply(x, shape=tuple(x.shape[:n]) + tuple(shape))


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


def _viewable(a, shape):
    """Whether the elements of array `a` can be seen in `shape` without a copy (PyTorch's and numpy's test alike)."""
    if a.flags.c_contiguous or a.ndim <= 1 or a.size <= 1:
        return True
    try:
        a.view().shape = shape  # numpy raises when no view of this shape exists
    except AttributeError:
        return False
    return True


def view(x, shape):
    shape = _infer_shape(shape, x.numel())
    if not _viewable(x._data, shape):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            "two contiguous subspaces). Use .reshape(...) instead."
        )
    return View.apply(x, shape=shape)


class UnsafeView(View):
    r"""`reshape` of a non-contiguous tensor: a copy with a new shape (PyTorch's `UnsafeViewBackward0`)."""
    name = "UnsafeView"
    is_view = False

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape, ctx.shape = x.shape, shape
        return np.reshape(x, shape).copy()


class ReshapeAlias(View):
    r"""`reshape` of a non-contiguous tensor whose elements can be seen in the new shape without a copy: a view
    (PyTorch's `ReshapeAliasBackward0`), so an in-place op on it changes its base, as in PyTorch."""
    name = "ReshapeAlias"


def reshape(input, shape):
    shape = _infer_shape(shape, input.numel())
    if input._data.flags.c_contiguous or input.numel() <= 1:
        return View.apply(input, shape=shape)
    if _viewable(input._data, shape):
        return ReshapeAlias.apply(input, shape=shape)
    return UnsafeView.apply(input, shape=shape)


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

    @classmethod
    def batch(cls, n, x, dim):
        """Inside vmap: the new dim goes among the example's dims, past the `n` batch dims."""
        return cls.apply(x, dim=dim + n)


def unsqueeze(input, dim):
    return Unsqueeze.apply(input, dim=_dim(dim, input.ndim + 1))


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

    @classmethod
    def batch(cls, n, x, dims):
        """Inside vmap: squeeze the example's dims only (a batch of size 1 stays)."""
        if dims is None:
            return cls.apply(x, dims=tuple(i for i in range(n, x.ndim) if x.shape[i] == 1))
        return cls.apply(x, dims=shift(tuple(dims), n))


class SqueezeDim(Squeeze):
    r"""`squeeze(dim)`: remove one dim of size 1 (PyTorch's `SqueezeBackward1`)."""
    overload = 1


def squeeze(input, dim=None):
    if dim is None:
        return Squeeze.apply(input, dims=None)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(_dim(d, input.ndim) for d in dims) if input.ndim else ()
    dims = tuple(d for d in dims if input.shape[d] == 1)
    return SqueezeDim.apply(input, dims=dims)


class SqueezeInplace(Squeeze):
    r"""The squeeze that `matmul(vector, matrix)` applies to its result (PyTorch's `SqueezeBackward4`): `squeeze_`
    on the new matrix product, so the result is new memory, not a view."""
    overload = 4
    is_view = False


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
        out = np.broadcast_to(x, shape)  # read-only: numpy protects memory that several elements share
        if any(step == 0 and n > 1 for step, n in zip(out.strides, out.shape)):
            return out  # an in-place write into it is refused, as PyTorch refuses it (internal overlap)
        # nothing broadcast (only size-1 dims added, or sizes kept): every element has its own memory, and PyTorch
        # lets an in-place op write through it
        return np.lib.stride_tricks.as_strided(x, out.shape, out.strides, writeable=x.flags.writeable)

    @staticmethod
    def vjp(ctx, grad):
        return (sum_to(grad, ctx.input_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return expand(x_t, ctx.shape)

    @classmethod
    def batch(cls, n, x, shape):
        """Inside vmap: each example is expanded (size-1 dims put in front of its own first); the batch dims stay."""
        x = line_up_rank(x, n, len(shape))
        return cls.apply(x, shape=tuple(x.shape[:n]) + tuple(shape))


class Repeat(Op):
    r"""Tile $x$ `repeats[i]` times along dim $i$ (`x.repeat(...)`, a copy).   VJP: $\bar x$ = the sum of the tiles
    of $\bar z$.   JVP: tile the tangent."""
    name = "Repeat"

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.input_shape, ctx.repeats = x.shape, repeats
        return np.tile(x.reshape((1,) * (len(repeats) - x.ndim) + x.shape), repeats)

    @staticmethod
    def vjp(ctx, grad):
        padded = (1,) * (len(ctx.repeats) - len(ctx.input_shape)) + ctx.input_shape
        tiles = tuple(n for pair in zip(ctx.repeats, padded) for n in pair)  # (r0, s0, r1, s1, ...)
        summed = reshape(grad, tiles).sum(tuple(range(0, len(tiles), 2)))  # over the tile index of every dim
        return (reshape(summed, ctx.input_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return Repeat.apply(x_t, repeats=ctx.repeats)

    @classmethod
    def batch(cls, n, x, repeats):
        """Inside vmap: each example is tiled; the batch dims are not repeated."""
        x = line_up_rank(x, n, len(repeats))
        return cls.apply(x, repeats=(1,) * n + tuple(repeats))


def repeat(x, repeats):
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    repeats = tuple(int(r) if isinstance(r, Tensor) else r for r in repeats)
    if len(repeats) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    padded = (1,) * (len(repeats) - x.ndim) + x.shape
    shape = [r * s for r, s in zip(repeats, padded)]
    negative = [n for n in shape if n < 0]
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: {shape}")
    return Repeat.apply(x, repeats=tuple(max(r, 0) for r in repeats))  # a negative count of an empty dim: empty


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = _dim(start_dim, input.ndim), _dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input.shape[:s] + (int(np.prod(input.shape[s : e + 1])),) + input.shape[e + 1 :]
    return reshape(input, shape)


def expand(x, shape):
    shape = tuple(shape)
    if len(shape) < x.ndim:
        raise RuntimeError(
            f"expand({legacy_type_name(x._data.dtype)}{{{list(x.shape)}}}, size={list(shape)}): the number of sizes provided "
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


def sum_to(grad, shape):
    """Undo broadcasting: sum `grad` over the dimensions that broadcasting added or stretched."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(i + lead for i, s in enumerate(shape) if s == 1 and grad.shape[i + lead] != 1)
    if not stretched:  # only dims added in front (a bias broadcast over a batch): one sum gives the shape
        return grad.sum(tuple(range(lead)))
    return grad.sum(tuple(range(lead)) + stretched, keepdim=True).reshape(shape)
