r"""Matrix products: mm, mv, dot, bmm, addmm, and `matmul`, which picks among them as PyTorch does.

The node names follow PyTorch's: a 1-D @ 2-D product records `SqueezeBackward4` over `MmBackward0`,
a batch of matrices times a matrix records `UnsafeViewBackward0` over `MmBackward0` (PyTorch folds the batch
into rows), a batch times a batch `UnsafeViewBackward0` over `BmmBackward0`.
"""
import numpy as np

from ..dtypes import cpp_type_name, scalar_type_name
from ..tensor import Tensor
from .arithmetic import mul
from .batching import line_up_rank
from .op import Op
from .shape import SqueezeInplace, UnsafeView, View, reshape, t, unsqueeze


class Mm(Op):
    r"""$Z=XY$ (matrices).   VJP: $\bar X=\bar Z Y^\top,\ \bar Y=X^\top\bar Z$.   JVP: $\dot Z=\dot XY+X\dot Y$."""
    name = "Mm"
    save_inputs = ((1,), (0,))
    saved_names = ("self", "mat2")

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

    @classmethod
    def batch(cls, n, x, y):
        """Inside vmap: a product of batches of matrices (see `batched_matmul`)."""
        return batched_matmul(x, y, n)


_FOLD_LIMIT = 1 << 20  # elements: larger per-example matrices are multiplied one by one (BLAS is efficient there)


def batched_matmul(x, y, n):
    """Products of matrices whose leading dims are batch dims (each of size 1 where that operand is the same for
    every example). Many small products cost a call each: when one operand is a single matrix, they are made
    one large product (the batch folded into its rows or columns). `Bmm` otherwise."""
    lead_x, lead_y = x.shape[:-2], y.shape[:-2]
    if all(s == 1 for s in lead_y) and (x._data.flags.c_contiguous or x.numel() <= _FOLD_LIMIT):
        # x's rows of every example, times one matrix (folding them copies x unless it is contiguous)
        rows = reshape(x, (-1, x.shape[-1]))
        return reshape(mm(rows, reshape(y, y.shape[-2:])), tuple(lead_x) + (x.shape[-2], y.shape[-1]))
    if all(s == 1 for s in lead_x) and y.shape[-1] == 1:  # one matrix times a vector per example: vᵀ Aᵀ as rows
        rows = mm(reshape(y, (-1, y.shape[-2])), t(reshape(x, x.shape[-2:])))
        return reshape(rows, tuple(lead_y) + (x.shape[-2], 1))
    if all(s == 1 for s in lead_x) and y.numel() <= _FOLD_LIMIT:  # one matrix times the columns of every example
        cols = reshape(y.movedim(-2, 0), (y.shape[-2], -1))  # (a copy: small)
        out = reshape(mm(reshape(x, x.shape[-2:]), cols), (x.shape[-2],) + tuple(lead_y) + (y.shape[-1],))
        return out.movedim(0, -2)
    return Bmm.apply(x, y)


def _shape_str(shape):
    return "x".join(str(s) for s in shape)


def _check_same_dtype(x, y, message="expected m1 and m2 to have the same dtype, but got: {} != {}"):
    """PyTorch's message for a product of two dtypes; `{}`s get the dtypes (`{y}` = y's again, for addmv)."""
    if x._data.dtype != y._data.dtype:
        name = cpp_type_name if "m1" in message else scalar_type_name  # mm's message uses the C++ names
        a, b = name(x._data.dtype), name(y._data.dtype)
        raise RuntimeError(message.replace("{y}", b).format(a, b))


def mm(input, mat2):
    a, b = input._data, mat2._data  # checked on the arrays: every backward through a matmul comes here twice
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a.shape)} and {_shape_str(b.shape)})")
    if a.dtype != b.dtype:
        _check_same_dtype(input, mat2)
    return Mm.apply(input, mat2)


class Mv(Op):
    r"""$z=Av$ (matrix times vector).   VJP: $\bar A=\bar z v^\top,\ \bar v=A^\top\bar z$.   JVP: $\dot z=\dot Av+A\dot v$."""
    name = "Mv"
    save_inputs = ((1,), (0,))
    saved_names = ("self", "vec")

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

    @classmethod
    def batch(cls, n, a, v):
        """Inside vmap: the vectors as one-column matrices."""
        return batched_matmul(a, unsqueeze(v, -1), n).squeeze(-1)


class Dot(Op):
    r"""$z=x\cdot y$ (vectors).   VJP: $\bar x=\bar z\,y,\ \bar y=\bar z\,x$.   JVP: $\dot z=\dot x\cdot y+x\cdot\dot y$."""
    name = "Dot"
    save_inputs = ((1,), (0,))
    saved_names = ("self", "tensor")

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

    @classmethod
    def batch(cls, n, x, y):
        """Inside vmap: the products of the elements, summed per example."""
        return (x * y).sum(-1)


def dot(input, tensor):
    x, y = input, tensor  # PyTorch's parameter names (for keywords); short ones below
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src [{y.shape[0]}] to have the same number "
            f"of elements, but got {x.shape[0]} and {y.shape[0]} elements respectively"
        )
    _check_same_dtype(x, y, "dot : expected both vectors to have same dtype, but found {} and {}")
    return Dot.apply(x, y)


class Bmm(Op):
    r"""$Z_b=X_bY_b$ (batched, broadcasting over batch dims).   VJP: $\bar X=\bar Z Y^\top,\ \bar Y=X^\top\bar Z$
    (summed over broadcast batch dims by the engine).   JVP: $\dot Z=\dot XY+X\dot Y$."""
    name = "Bmm"
    save_inputs = ((1,), (0,))
    saved_names = ("self", "mat2")

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

    @classmethod
    def batch(cls, n, x, y):
        """Inside vmap: the example's batch dims lined up behind the vmap's (see `batched_matmul`)."""
        rank = max(x.ndim, y.ndim) - n
        return batched_matmul(line_up_rank(x, n, rank), line_up_rank(y, n, rank), n)


_ADDMV_DTYPES = "addmv input tensors must have the same dtype, but got {y}, {}, and {}"


_BMM_DTYPES = "expected scalar type {} but found {}"


def _batch(a, b):
    return int(np.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))) if a.ndim > 2 or b.ndim > 2 else 1


def matmul(input, other):
    """`x @ y` with PyTorch's rules for 1-D and batched operands, and PyTorch's graph node names."""
    x, y = input, other  # PyTorch's parameter names (for keywords); short ones below
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
    if nx == 3 and ny == 3 and x.shape[0] != y.shape[0]:  # a batch of one that requires grad is squeezed first
        if x.shape[0] == 1 and x.requires_grad:
            return matmul(x.squeeze(0), y)
        if y.shape[0] == 1 and y.requires_grad:
            return matmul(x, y.squeeze(0))
    if _should_fold(x, y):
        return _folded(x, y) if nx >= ny else _folded(y.mT, x.t() if nx == 2 else x, transposed=nx == 2)
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
    # the vector's dim goes, by PyTorch's _unsafe_view (new memory, not a view), which is there in any case
    shape = out.shape[:-2] + (() if x.ndim == 1 else out.shape[-2:-1]) + (() if y.ndim == 1 else out.shape[-1:])
    return UnsafeView.apply(out, shape=shape)


def _should_fold(x, y):
    """PyTorch's choice for a batch times a matrix or a vector (either way round): one mm / mv over the batch
    folded into rows, rather than a bmm, when the smaller operand requires grad or when folding costs no copy."""
    big, small = (x, y) if x.ndim >= y.ndim else (y, x)
    if big.ndim < 3 or small.ndim > 2:
        return False
    if small.requires_grad:
        return True
    if x.ndim == 2:
        return False
    shape, strides = list(big.shape), list(big._data.strides)
    if big is y:  # folded as y.mT
        shape[-2:], strides[-2:] = shape[:-3:-1], strides[:-3:-1]
    return big._data.size == 0 or all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _folded(big, small, transposed=False):
    """`big @ small` as one mm (or mv) of `big` with its batch folded into rows; `transposed`: the result is
    wanted transposed (x @ y computed as (y.mT @ x.t()).mT, then made contiguous: CloneBackward0)."""
    rows = int(np.prod(big.shape[:-1]))
    folded = reshape(big, (rows, big.shape[-1]))  # not -1: ambiguous when empty
    if small.ndim == 1:
        if big.shape[-1] != small.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{big.shape[-1]}), "
                               f"vec ({small.shape[0]})")
        _check_same_dtype(folded, small, _ADDMV_DTYPES)
        return UnsafeView.apply(Mv.apply(folded, small), shape=tuple(big.shape[:-1]))
    out = UnsafeView.apply(mm(folded, small), shape=tuple(big.shape[:-1]) + (small.shape[1],))
    return out.mT.contiguous() if transposed else out


class Addmm(Op):
    r"""$Z=b+XW$ (`F.linear` with bias).   VJP: $\bar b=\bar Z,\ \bar X=\bar ZW^\top,\ \bar W=X^\top\bar Z$.
    JVP: $\dot Z=\dot b+\dot XW+X\dot W$."""
    name = "Addmm"
    save_inputs = ((), (2,), (1,))
    saved_names = ("self", "mat1", "mat2")

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

    @classmethod
    def batch(cls, n, b, x, w):
        """Inside vmap: the product of batches of matrices, plus the bias lined up as a batch of matrices."""
        return line_up_rank(b, n, 2) + batched_matmul(x, w, n)


def outer(input, vec2):
    """The matrix x yᵀ of two vectors, recorded as PyTorch does: `x` viewed as a column, times `vec2`."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return mul(View.apply(input, shape=(input.shape[0], 1)), vec2)
