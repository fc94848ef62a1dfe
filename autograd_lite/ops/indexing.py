r"""Joining and indexing: cat, stack, hstack, vstack, `x[index]`, narrow, select, `x[index] = v`, masked_fill, diag.

Basic indexing (ints, slices, None, ...) gives a view (`SelectBackward0`, `SliceBackward0`); advanced
indexing (integer or boolean tensors) copies (`IndexBackward0`), and its rule scatters back with `IndexAdd`.
"""
import builtins
import re

import numpy as np

from .. import grad_mode
from ..dtypes import cpp_type_name
from ..graph import multiple_views_message
from ..tensor import Tensor, _dim, _number_or_tensor
from .batching import BatchedTensor, batch_index, expand_batch, index_by_batched, line_up_rank, shift
from .copies import check_no_partial_overlap, inplace, leaf_requiring_grad
from .elementwise import Where, where
from .op import Op, _broadcast_message, _const
from .shape import reshape, unsqueeze


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

    @classmethod
    def batch(cls, n, *xs, dim):
        """Inside vmap: every input expanded to the whole batch, joined along the example's dim."""
        return cls.apply(*expand_batch(xs, n), dim=shift(dim, n))


def cat(tensors, dim=0):
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
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

    @classmethod
    def batch(cls, n, *xs, dim):
        """Inside vmap: every input expanded to the whole batch, stacked along a new dim of the example."""
        return cls.apply(*expand_batch(xs, n), dim=shift(dim, n))


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


def _tensor_list(name, tensors):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def _at_least(x, ndim):
    """x with dims of size 1 added in front up to `ndim` dims (1 or 2): `atleast_1d`, `atleast_2d`."""
    if x.ndim >= ndim:
        return x
    return reshape(x, (1,) * ndim) if x.ndim == 0 else unsqueeze(x, 0)


def hstack(tensors):
    """Join side by side: along dim 1, or dim 0 for vectors (numbers count as vectors); a `cat`, as in PyTorch."""
    tensors = [_at_least(x, 1) for x in _tensor_list("hstack", tensors)]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join one above the other: along dim 0, vectors (and numbers) taken as rows; a `cat`, as in PyTorch."""
    return cat([_at_least(x, 2) for x in _tensor_list("vstack", tensors)], 0)


class Index(Op):
    r"""$z=x[\text{idx}]$ with integer arrays or masks.   VJP: $\bar x=$ zeros with $\bar z$ added at idx
    (repeated indices accumulate).   JVP: $\dot z=\dot x[\text{idx}]$."""
    name = "Index"

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.input_shape = index, x.shape
        out = x[index]
        if np.may_share_memory(out, x):  # basic indexing: a view (Select, Slice)
            return out
        if out.ndim == 0:  # an int in every dim: numpy's copied scalar (ascontiguousarray would make it 1-d)
            return np.asarray(out)
        return np.ascontiguousarray(out)  # advanced indexing: new memory, contiguous as PyTorch's (numpy's may not be)

    @staticmethod
    def vjp(ctx, grad):
        return (IndexAdd.apply(grad, index=ctx.index, shape=ctx.input_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return ctx.op.apply(x_t, index=ctx.index)  # (a view's tangent is the same view of the input's)

    @classmethod
    def batch(cls, n, x, index):
        """Inside vmap: the batch dims are kept whole (`:`), the example is indexed behind them."""
        return cls.apply(x, index=batch_index(index, n))


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
    if any(type(item) is BatchedTensor for item in (index if isinstance(index, tuple) else (index,))):
        return index_by_batched(x, index, Index)  # inside vmap, indices that differ per example (batching.py)
    index, basic = _normalize_index(index)
    try:
        probe = x._data[index]  # let numpy validate, then raise PyTorch's message
    except IndexError as e:
        raise IndexError(_index_error(x, index, str(e))) from None
    if basic and not isinstance(probe, np.ndarray):  # an int for every dim: numpy gives a copied scalar...
        index = (index if isinstance(index, tuple) else (index,)) + (Ellipsis,)  # ...this gives a 0-d view
    if not basic:
        return Index.apply(x, index=index)
    if isinstance(index, (int, np.integer)):
        return Select.apply(x, index=index)
    if index is None:
        return unsqueeze(x, 0)
    parts = _acting_parts(index)
    if parts and isinstance(parts[-1], (int, np.integer)):
        return Select.apply(x, index=index)
    if parts and parts[-1] is None:
        return SliceUnsqueeze.apply(x, index=index)
    return Slice.apply(x, index=index)


def _acting_parts(index):
    """The parts of a basic index that do something (not `:` nor `...`): PyTorch applies them one by one, and
    names the node after the last one."""
    return [p for p in (index if isinstance(index, tuple) else (index,)) if p is not Ellipsis and p != slice(None)]


def narrow(input, dim, start, length):
    """`x[..., start:start + length]` along `dim` (a view, `SliceBackward0`); a negative start counts from the end."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim)
    start, size = int(start), input.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Slice.apply(input, index=(slice(None),) * d + (slice(start, start + length),))


def select(input, dim, index):
    """`x[..., index]` along `dim`: that dim removed (a view, `SelectBackward0`)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim)
    index, size = int(index), input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension "
                         f"{d}")
    # the trailing ... keeps a 0-d result a view (numpy gives a copied scalar for an int in every dim), as in getitem
    return Select.apply(input, index=(slice(None),) * d + (index % size, Ellipsis))


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

    @classmethod
    def batch(cls, n, g, index, shape):
        """Inside vmap: into a batch of zeros of the example's shape, at the same places in every example."""
        return cls.apply(g, index=batch_index(index, n), shape=tuple(g.shape[:n]) + tuple(shape))


class SetItem(Op):
    r"""$z=x$ with $z[\text{idx}]=v$ (`x[idx] = v`).   VJP: $\bar x=\bar z$ zeroed at idx, $\bar v=\bar z[\text{idx}]$.
    JVP: $\dot z=\dot x$ with $\dot z[\text{idx}]=\dot v$."""
    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index, ctx.shape = index, x.shape
        out = x.copy()
        out[index] = value
        return out

    @staticmethod
    def derivative(ctx, need=None):
        """dz/dx only (1 where x is kept, 0 where v was written): v's gradient is an indexing, not a factor. Written
        by this op, not numpy, so that compile traces it when the index is a mask computed from the data."""
        return SetItem.apply(_const(np.ones(ctx.shape, bool)), False, index=ctx.index), None

    @staticmethod
    def vjp(ctx, grad):
        need_x, need_v = ctx.needs_input_grad
        dx, _ = SetItem.derivative(ctx)
        return (grad * dx if need_x else None), (Index.apply(grad, index=ctx.index) if need_v else None)

    @staticmethod
    def jvp(ctx, x_t, v_t):
        return SetItem.apply(x_t, v_t, index=ctx.index)

    @classmethod
    def batch(cls, n, x, value, index):
        """Inside vmap: the same places in every example get that example's values."""
        index = batch_index(index, n)
        if isinstance(value, Tensor):
            x = expand_batch([x, value], n)[0]
            value = line_up_rank(value, n, x._data[index].ndim - n)
        return cls.apply(x, value, index=index)


def setitem(x, index, value):
    index, basic = _normalize_index(index)
    if grad_mode.enabled and leaf_requiring_grad(x):  # `x[i] = v` writes through a view of x
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    value = _number_or_tensor(value, x)
    if grad_mode.enabled and basic and x._split_version is not None and _acting_parts(index) and (
            x.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        # an output of split: PyTorch refuses `x[i].copy_(v)`, and names the view x[i] (made first, it may raise)
        raise RuntimeError(multiple_views_message(getitem(x, index), indirect=False))
    if isinstance(value, Tensor):  # `x[i] = v` is x[i].copy_(v) in PyTorch (index_put_ on x for advanced indices)
        check_no_partial_overlap(x._data[index] if basic else x._data, value._data)
    inplace(x, lambda old, v: SetItem.apply(old, v, index=index), value, reads=False)


class MaskedFill(Op):
    r"""$z=v$ where the mask $m$ is true, $x$ elsewhere.   VJP: $\bar x=[\lnot m]\,\bar z$, $\bar v=\sum_m\bar z$.
    JVP: $\dot z=m\,?\,\dot v:\dot x$."""
    name = "MaskedFill"

    @staticmethod
    def forward(ctx, x, value, mask):
        ctx.mask = mask
        return np.where(mask, np.asarray(value).astype(x.dtype), x)

    @staticmethod
    def vjp(ctx, grad):
        mask = _const(ctx.mask)
        need_x, need_v = ctx.needs_input_grad
        return (where(mask, 0.0, grad) if need_x else None), (where(mask, grad, 0.0).sum() if need_v else None)

    @staticmethod
    def jvp(ctx, x_t, v_t):
        return where(_const(ctx.mask), v_t, x_t)


class MaskedFillTensor(MaskedFill):
    r"""`masked_fill` with a 0-d tensor as the value: PyTorch's `MaskedFillBackward1`."""
    overload = 1

    @classmethod
    def batch(cls, n, x, value, mask):
        """Inside vmap: each example's value where the mask is true (a `where`: v's gradient is summed per example)."""
        value = line_up_rank(value.to(x.dtype), n, x.ndim - n)
        return Where.apply(value, x, condition=np.broadcast_to(mask, x.shape[n:]) if x.ndim > n else mask)


def _masked_fill_checks(x, mask, value, first_shape):
    """The mask's array, after PyTorch's checks (a bool mask that broadcasts, a number or a 0-d tensor value)."""
    m = mask._data if isinstance(mask, Tensor) else None
    if m is None:
        raise TypeError(f"masked_fill() received an invalid combination of arguments - got ({type(mask).__name__}, "
                        f"{type(value).__name__}), but expected (Tensor mask, Tensor value) or (Tensor mask, Number "
                        "value)")
    if m.dtype != np.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{cpp_type_name(m.dtype)}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    try:
        np.broadcast_shapes(x.shape, m.shape)
    except ValueError:  # PyTorch names the mask first out of place, the tensor first in place
        arrays = [np.broadcast_to(0.0, x.shape), np.broadcast_to(0.0, m.shape)]
        raise RuntimeError(_broadcast_message(arrays if first_shape == "x" else arrays[::-1])) from None
    return m


def masked_fill(input, mask, value):
    """x with `value` written where `mask` is true (x and mask broadcast together)."""
    m = _masked_fill_checks(input, mask, value, "mask")
    if isinstance(value, Tensor):
        return MaskedFillTensor.apply(input, value, mask=m)
    return MaskedFill.apply(input, value, mask=m)


def masked_fill_(x, mask, value):
    _masked_fill_checks(x, mask, value, "x")
    return inplace(x, lambda old, v: masked_fill(old, mask, v), value, reads=False)


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

    @classmethod
    def batch(cls, n, v, offset, shape=None):
        """Inside vmap: every example's vector put on the same diagonal of a batch of zero matrices."""
        size = v.shape[-1] + builtins.abs(offset)
        shape = tuple(shape or (size, size))
        return IndexAdd.apply(v, index=batch_index(_diagonal_index(shape, offset), n), shape=tuple(v.shape[:n]) + shape)


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

    @classmethod
    def batch(cls, n, x, offset):
        """Inside vmap: the same diagonal of every example's matrix (an index of the batch)."""
        return Index.apply(x, index=batch_index(_diagonal_index(x.shape[n:], offset), n))


def diag(input, diagonal=0):
    """A vector becomes a matrix with it on diagonal `diagonal`; a matrix gives that diagonal, as a vector."""
    if input.ndim == 1:
        return DiagEmbed.apply(input, offset=diagonal)
    if input.ndim == 2:
        return Diagonal.apply(input, offset=diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
