r"""Copies and in-place writes: `to`, `clone`, aliases, `fill_`, `copy_`, and `inplace`.

`inplace` is how every in-place method (`add_`, `mul_`, `copy_`, `x[i] = v`, ...) runs: it applies the
out-of-place op, writes the result into the tensor, and bumps the tensor's version counter.
"""
import numpy as np

from .. import grad_mode
from ..dtypes import scalar_type_name
from ..graph import multiple_views_message
from ..tensor import Tensor, _number_or_tensor, _wrap
from .batching import BatchedTensor, inplace_batched
from .elementwise import where
from .op import Op, _broadcast_message, _const, _zeros_like
from .views import (
    inplace_on_view,
    rebase_after_write,
    rebase_views,
    rule_tangent,
    write_tangent,
)


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
    r"""$z=x$ (a copy).   VJP: $\bar x=\bar z$.   JVP: $\dot z=\dot x$ (a copy too, as PyTorch's)."""
    name = "Clone"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def vjp(ctx, grad):
        return (grad,)

    @staticmethod
    def jvp(ctx, x_t):
        return Clone.apply(x_t)


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
        return Alias.apply(x_t)


# The node of a function transform's input that an enclosing transform differentiates too (func.py): the input is
# an alias of the outer tensor (same memory and version counter; its gradient goes on into the outer graph), but,
# as torch.func makes it, a leaf of the transform's own graph: not a view of anything, and `inplace` refuses in-place
# ops on it and on its views as on a leaf that requires grad.
TransformInputBackward = type("AliasBackward0", (Alias.node_class,), {"__slots__": (), "__module__": __name__})


def leaf_requiring_grad(t):
    """Whether `t` is a leaf that requires grad, in-place ops on which (and on its views) PyTorch refuses: a leaf, or
    the input of a function transform (a leaf of the transform's own graph)."""
    return t._requires_grad and (t._grad_fn is None or type(t._grad_fn) is TransformInputBackward)


class Fill(Op):
    r"""$z=c$ everywhere (`fill_`).   VJP: $\bar x=0$ (zeros as PyTorch's FillBackward2, not None).
    JVP: $\dot z=0$."""
    name = "Fill"
    overload = 2

    @staticmethod
    def forward(ctx, x, value):
        return np.full_like(x, value)

    @staticmethod
    def vjp(ctx, grad):
        return (_zeros_like(grad),)

    @staticmethod
    def jvp(ctx, x_t):  # zeros, even where x_t is NaN (PyTorch fills the tangent with 0), connected to x_t
        return where(_const(np.zeros(x_t.shape, bool)), x_t, 0.0)


class Zero(Fill):
    r"""$z=0$ everywhere (`zero_`): PyTorch's `ZeroBackward0`."""
    name = "Zero"
    overload = 0


def fill(x, value):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions."
            )
        return FillTensor.apply(x, value)
    return (Zero if value == 0 else Fill).apply(x, value=value)


class Copy(Op):
    r"""$z=s$ broadcast to $x$'s shape and dtype (`x.copy_(s)`).   VJP: $\bar x=0,\ \bar s=\bar z$.
    JVP: $\dot z=\dot s$."""
    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, x, src):
        return np.broadcast_to(np.asarray(src, dtype=x.dtype), x.shape).copy()

    @staticmethod
    def vjp(ctx, grad):
        return (_zeros_like(grad) if ctx.needs_input_grad[0] else None), grad

    @staticmethod
    def jvp(ctx, x_t, s_t):  # s_t, even where x_t is NaN (PyTorch copies it into the tangent), connected to x_t
        return where(_const(np.zeros(x_t.shape, bool)), x_t, s_t)


class FillTensor(Copy):
    r"""`x.fill_(v)` with a 0-d tensor `v`: a `copy_` of one value, PyTorch's `FillBackward3`
    (VJP: $\bar x=0,\ \bar v=\sum\bar z$)."""
    node_name = "FillBackward3"


def copy_from(x, src):
    src = _number_or_tensor(src, x)
    try:
        np.broadcast_shapes(x.shape, src.shape if isinstance(src, Tensor) else ())
    except ValueError:
        raise RuntimeError(_broadcast_message([x._data, src._data])) from None
    return Copy.apply(x, src)


_NO_GRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use "
    "case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the "
    "inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if "
    "you want the inplace to be tracked)."
)


def inplace(x, op, other, *, reads=True):
    """Run `op(x, other)` and write the result into `x` (the in-place ops `add_`, `mul_`, `copy_`, ...).

    When recording, the op is applied to a copy of `x`'s old values (which is what backward needs) and
    `x` takes the new node as its `grad_fn`; `x`'s version counter is bumped either way, so nodes that
    saved the old values can tell that they are gone. `reads`: the tensor the op reads element by element as
    it writes `x` (True: `other`; `y` for `add_(y, alpha=2)`, whose `other` is `y * 2`; False: none), which PyTorch
    refuses when the two share only part of their memory. Where PyTorch cannot tell (a broadcast or strided `y`),
    its result depends on its loop order; this op always reads the old values, as if `y` were cloned first.
    """
    if x.__class__ is BatchedTensor or other.__class__ is BatchedTensor:  # inside vmap (batching.py)
        return inplace_batched(x, op, other, inplace)
    base = x._base
    if grad_mode.enabled and x._split_version is not None and (
            x.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
        raise RuntimeError(multiple_views_message(x, indirect=False))  # an output of split, or a view of one
    if grad_mode.enabled and base is not None and base._requires_grad and not x._requires_grad:
        raise RuntimeError(_NO_GRAD_VIEW)  # a view of a tensor that requires grad, made where grad was off
    record = grad_mode.enabled and (x._requires_grad or (isinstance(other, Tensor) and other._requires_grad))
    if record and leaf_requiring_grad(x):
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if record and base is not None and leaf_requiring_grad(base):
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    read = other if reads is True else reads
    if isinstance(read, Tensor) and op is not fill:
        check_no_partial_overlap(x._data, read._data)
    node = None
    if record and x._base is not None:  # the base's history becomes CopySlices (see views.py)
        result, node = inplace_on_view(x, op, other)
    elif record or (grad_mode.enabled and x._tangent is not None and x._tangent._requires_grad):  # (see rule_tangent)
        old = _wrap(x._data.copy())
        old._grad_fn, old._requires_grad, old._tangent = x._grad_fn, x._requires_grad, rule_tangent(x)
        old._output_nr = x._output_nr  # which output of its node x is (var_mean's mean, say)
        result = op(old, other)
    else:
        result = op(x, other)
    new = result._data
    if new.shape != x._data.shape:
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape {list(new.shape)}")
    if new.dtype != x._data.dtype and not np.can_cast(new.dtype, x._data.dtype, "same_kind"):
        raise RuntimeError(f"result type {scalar_type_name(new.dtype)} can't be cast to the desired output type {scalar_type_name(x._data.dtype)}")
    if not x._data.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation."
        )
    np.copyto(x._data, new, casting="unsafe")
    x._vc[0] += 1
    if record:
        saved_result(result.grad_fn, result, x)
        if x._base is None:
            x._grad_fn, x._output_nr = result._grad_fn, result._output_nr
            x._requires_grad = result._requires_grad
        rebase_after_write(x, node)  # the views of x's memory now show the new history
    else:  # not recorded, but the views' history is still "these positions of the base" (views.py)
        rebase_views(x if base is None else base, also=x if base is not None and x._requires_grad else None)
    if result._tangent is not None:  # forward mode: x's tangent is written in place too
        write_tangent(x, result._tangent)
    return x


def saved_result(node, result, x):
    """A node that saved its result (`exp_`'s ExpBackward0) holds `x` itself once the result is written into it,
    as PyTorch's does: a later in-place change of `x` is then caught when the node runs."""
    if node is not None and type(node._out) is tuple and node._out[0] is result._data:
        node._out, node._out_version = (x._data, x._vc), x._vc[0]


def dense_memory(a):
    """Whether the elements of `a` fill one block of memory with no gaps or repeats (in some order of dims)."""
    step = a.itemsize
    for stride, size in sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n != 1):
        if stride != step:
            return False
        step *= size
    return True


def _bounds(a):
    """The first and one-past-the-last byte addresses of `a`'s elements."""
    lo = hi = a.__array_interface__["data"][0]
    for stride, n in zip(a.strides, a.shape):
        if stride < 0:
            lo += stride * (n - 1)
        else:
            hi += stride * (n - 1)
    return lo, hi + a.itemsize


def check_no_partial_overlap(written, read):
    """PyTorch's refusal of an in-place op whose input shares part of the written tensor's memory (but is not
    exactly the same elements, laid out alike: `y.add_(y)` is fine, `y.add_(y[0])` is not)."""
    if written.size == 0 or read.size == 0 or not (dense_memory(written) and dense_memory(read)):
        return  # PyTorch cannot tell ("too hard") and lets it be
    w, r = _bounds(written), _bounds(read)
    if w == r and written.shape == read.shape and all(
            a == b for a, b, n in zip(written.strides, read.strides, written.shape) if n > 1):
        return  # the same elements, laid out alike (a dim of size 1 has any stride: `expand` to the same shape)
    if w[0] < r[1] and r[0] < w[1]:
        raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor refer "
                           "to a single memory location. Please clone() the tensor before performing the operation.")
