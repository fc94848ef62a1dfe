"""`autograd_lite.nn.functional`: activations and losses with PyTorch's signatures.

Each loss is one op in `ops.py` (so its `grad_fn` carries PyTorch's name, such as
`BinaryCrossEntropyWithLogitsBackward0`) and is computed stably: log-sum-exp for softmax, and
`max(-z, 0) + log(1 + exp(-|z|))` for the logistic loss, so large |z| never overflows.
"""
import math
import warnings

from .. import dtypes, ops
from ..ops.batching import BatchedTensor
from ..tensor import Tensor, _dim, _number_or_tensor


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def _size(t):
    return f"autograd_lite.Size({list(t.shape)})"


def _word(t):
    """A dtype as PyTorch's messages name it: Float, Double, Long."""
    return dtypes.scalar_type_name(t._data.dtype)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                     reduction="mean", pos_weight=None):
    """Logistic loss of logits `input` against targets in [0, 1]: sigmoid and BCE fused, stable."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({_size(target)}) must be the same as input size ({_size(input)})")
    if not target.is_floating_point():  # PyTorch computes in the target's dtype, which cannot hold the loss
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_word(target)}")
    return ops.BinaryCrossEntropyWithLogits.apply(input, target, weight=weight, pos_weight=pos_weight,
                                                  reduction=reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """Cross-entropy of probabilities `input` (in [0, 1]) against targets; logs are clamped at -100."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({_size(target)}) that is different to the input size ({_size(input)}) is "
            "deprecated. Please ensure they have the same size."
        )
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {_word(target)} but expected {_word(input)}")
    return ops.BinaryCrossEntropy.apply(input, target, weight=weight, reduction=reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """Mean squared error."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({_size(target)}) that is different to the input size ({_size(input)}). This will "
            "likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=2,
        )
    return ops.MseLoss.apply(input, _number_or_tensor(target, input), reduction=reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):  # noqa: A002
    """Negative log-likelihood of class indices `target` under log-probabilities `input` of shape (N, C) or (C,)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.ndim not in (1, 2):
        raise ValueError(f"Expected 1 or 2 dimensions for nll_loss input (got {input.ndim})")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_word(target)}")
    w = weight._data if isinstance(weight, Tensor) else weight
    t = target if isinstance(target, BatchedTensor) else target._data  # inside vmap: lined up by NllLoss's rule
    return ops.NllLoss.apply(input, t, w, ignore_index=ignore_index, reduction=reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy: `nll_loss(log_softmax(input, 1), target)` for class indices, or
    `-(target * log_softmax(input, 1)).sum(1)` reduced, for class probabilities."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    class_dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    if target.is_floating_point():
        if target.shape != input.shape:  # class probabilities have the input's shape; anything else is a mistake
            raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_word(target)}")
        if label_smoothing:
            n_classes = input.shape[class_dim]
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        terms = -(target * logp) if weight is None else -(target * logp * weight)
        return ops._reduce(terms.sum(class_dim), reduction)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return loss
    # PyTorch's smoothing term: -sum_c w_c log p_c per sample (w = 1 without weights), 0 where the target is
    # ignored, and for 'mean' divided as nll_loss divides: by the targets' total weight (or count).
    weight = None if weight is None else _number_or_tensor(weight, logp)
    kept = target._data != ignore_index
    smooth = ops.where(kept, -(logp if weight is None else logp * weight).sum(class_dim), 0.0)
    if reduction == "mean":
        smooth = smooth.sum() / (kept.sum() if weight is None else weight._data[target._data[kept]].sum())
    else:
        smooth = ops._reduce(smooth, reduction)
    return (1 - label_smoothing) * loss + smooth * (label_smoothing / input.shape[class_dim])


def _softmax_dim(name, input, dim, stacklevel):  # noqa: A002
    """`dim` made non-negative; without one, PyTorch's legacy choice and its deprecation warning, which
    points `stacklevel` frames up (3: the caller of `softmax`)."""
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                      "as an argument.", stacklevel=stacklevel)
    return _dim(dim, input.ndim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    dim = _softmax_dim("softmax", input, dim, _stacklevel)
    return ops.Softmax.apply(input if dtype is None else input.to(dtype), dim=dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    dim = _softmax_dim("log_softmax", input, dim, _stacklevel)
    return ops.LogSoftmax.apply(input if dtype is None else input.to(dtype), dim=dim)


def relu(input, inplace=False):  # noqa: A002
    return input.relu_() if inplace else ops.Relu.apply(input)


def relu_(input):  # noqa: A002
    return input.relu_()


def sigmoid(input):  # noqa: A002
    return ops.Sigmoid.apply(input)


def tanh(input):  # noqa: A002
    return ops.Tanh.apply(input)


def linear(input, weight, bias=None):  # noqa: A002
    """y = x Wᵀ + b, recorded as PyTorch records it (`AddmmBackward0` for a batch of vectors with bias)."""
    if input.shape[-1] != weight.shape[-1]:
        rows = math.prod(input.shape[:-1])  # 1 for a vector
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and "
            f"{weight.shape[1]}x{weight.shape[0]})"
        )
    if bias is not None:
        out_shape = (math.prod(input.shape[:-1]), weight.shape[0]) if input.ndim > 1 else (weight.shape[0],)
        if bias.ndim > 1 or (bias.ndim == 1 and bias.shape[0] not in (1, weight.shape[0])):
            raise RuntimeError(
                f"The expanded size of the tensor ({weight.shape[0]}) must match the existing size ({bias.shape[-1]}) at "
                f"non-singleton dimension {len(out_shape) - 1}.  Target sizes: {list(out_shape)}.  Tensor sizes: "
                f"{list(bias.shape)}"
            )
    if input.ndim == 2 and bias is not None:
        return ops.Addmm.apply(bias, input, ops.t(weight))
    if bias is not None and bias.ndim == 1 and input._data.flags.c_contiguous and bias._data.flags.c_contiguous:
        # PyTorch's fused path for other inputs: rows folded into one addmm, then viewed back (ViewBackward0)
        rows = ops.reshape(input, (math.prod(input.shape[:-1]), input.shape[-1]))
        return ops.Addmm.apply(bias, rows, ops.t(weight)).view(tuple(input.shape[:-1]) + (weight.shape[0],))
    out = ops.matmul(input, ops.t(weight))
    return out + bias if bias is not None else out


def gelu(input, approximate="none"):  # noqa: A002
    """x·Φ(x), Φ the standard normal CDF; approximate='tanh' uses PyTorch's tanh formula for Φ."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return ops.Gelu.apply(input, approximate=approximate)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold (a smooth relu)."""
    return ops.Softplus.apply(input, beta=beta, threshold=threshold)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x for x > 0, negative_slope·x otherwise (its gradient at 0 is negative_slope, as PyTorch's)."""
    if inplace:
        return ops.inplace(input, lambda x, _: ops.LeakyReluInplace.apply(x, negative_slope=negative_slope), None)
    return ops.LeakyRelu.apply(input, negative_slope=negative_slope)
