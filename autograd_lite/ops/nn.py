r"""Neural-network functions: softmax, log_softmax and the losses that `nn.functional` calls.

Each loss is one op with a rule written for the whole loss (as PyTorch's), rather than a graph of its
pieces: fewer nodes, and numerically stable forms (log-sum-exp, softplus of -|z|).
"""
import builtins

import numpy as np

from ..tensor import Tensor
from .batching import elementwise_then_reduced, shift
from .elementwise import abs, clamp, exp, log, relu, sigmoid  # noqa: A004
from .op import Op, _const
from .reduction import mean, sum  # noqa: A004
from .shape import reshape, unsqueeze


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
    saved_names = ("self", "target", "weight", "pos_weight")
    batch = classmethod(elementwise_then_reduced)  # inside vmap: the loss of each example, reduced (batching.py)

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
        loss = loss.astype(y.dtype, copy=False)  # PyTorch computes in place on (1 - target): the target's dtype
        if reduction == "none":
            return loss
        return np.mean(loss) if reduction == "mean" else np.sum(loss)

    @staticmethod
    def derivative(ctx, need=None):
        """d(loss_i)/dz_i and d(loss_i)/dy_i, elementwise (the second only if needed: targets rarely need one)."""
        need_dy = need is None or need[1]
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
        return dz, dy

    @staticmethod
    def _spread(ctx, grad, z):
        if ctx.reduction == "mean":
            return grad / z.numel()
        return grad  # "sum" broadcasts the scalar, "none" is already elementwise

    @staticmethod
    def vjp(ctx, grad):
        need_z, need_y = ctx.needs_input_grad
        dz, dy = BinaryCrossEntropyWithLogits.derivative(ctx, ctx.needs_input_grad)
        g = BinaryCrossEntropyWithLogits._spread(ctx, grad, ctx.saved_tensors[0])
        return (g * dz if need_z else None), (g * dy if need_y else None)

    @staticmethod
    def jvp(ctx, z_t, y_t):
        dz, dy = BinaryCrossEntropyWithLogits.derivative(ctx)
        return _reduce(dz * z_t + dy * y_t, ctx.reduction)


class BinaryCrossEntropy(Op):
    r"""$\ell=-w\,[y\log x+(1-y)\log(1-x)]$ (logs clamped at $-100$), reduced.
    VJP: $\bar x=\bar\ell\,w\,(x-y)/\max(x(1-x),10^{-12})$, $\bar y=\bar\ell\,w\,[\log(1-x)-\log x]$.
    JVP: the same factors times $\dot x$, $\dot y$."""
    name = "BinaryCrossEntropy"
    save_inputs = True
    saved_names = ("self", "target", "weight")
    batch = classmethod(elementwise_then_reduced)  # inside vmap: the loss of each example, reduced (batching.py)

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
    def derivative(ctx, need=None):
        x, y = ctx.saved_tensors
        w = ctx.weight
        dx = (x - y) / clamp(x * (1 - x), 1e-12, None)
        dy = clamp(log(1 - x), -100, None) - clamp(log(x), -100, None)
        if w is not None:
            dx, dy = dx * w, dy * w
        return dx, dy

    @staticmethod
    def vjp(ctx, grad):
        x, _ = ctx.saved_tensors
        dx, dy = BinaryCrossEntropy.derivative(ctx)
        g = grad / x.numel() if ctx.reduction == "mean" else grad
        need_x, need_y = ctx.needs_input_grad
        return (g * dx if need_x else None), (g * dy if need_y else None)

    @staticmethod
    def jvp(ctx, x_t, y_t):
        x, _ = ctx.saved_tensors
        dx, dy = BinaryCrossEntropy.derivative(ctx)
        return _reduce(dx * x_t + dy * y_t, ctx.reduction)


class MseLoss(Op):
    r"""$\ell=(x-y)^2$, reduced.   VJP: $\bar x=2\bar\ell(x-y),\ \bar y=-2\bar\ell(x-y)$ (divided by $n$ for the mean).
    JVP: $\dot\ell=2(x-y)(\dot x-\dot y)$, reduced."""
    name = "MseLoss"
    save_inputs = True
    saved_names = ("self", "target")
    batch = classmethod(elementwise_then_reduced)  # inside vmap: the loss of each example, reduced (batching.py)

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

    @classmethod
    def batch(cls, n, x, dim):
        """Inside vmap: the same op along the example's dim, past the `n` batch dims."""
        return cls.apply(x, dim=shift(dim, n))


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

    @classmethod
    def batch(cls, n, x, dim):
        """Inside vmap: the same op along the example's dim, past the `n` batch dims."""
        return cls.apply(x, dim=shift(dim, n))


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

    @classmethod
    def batch(cls, n, x, target, weight, ignore_index, reduction):
        """Inside vmap: every example's rows as one batch of rows (reduction 'none'), then each example's losses
        reduced as nll_loss reduces them (for 'mean': divided by that example's total target weight)."""
        t = target._data if isinstance(target, Tensor) else np.asarray(target).reshape((1,) * n + np.shape(target))
        sizes = tuple(builtins.max(a, b) for a, b in zip(x.shape[:n], t.shape[:n]))
        x = x.expand(sizes + tuple(x.shape[n:])) if tuple(x.shape[:n]) != sizes else x
        t = np.broadcast_to(t, sizes + t.shape[n:])
        rows = reshape(x, (-1, x.shape[-1]))
        losses = cls.apply(rows, t.reshape(-1), weight, ignore_index=ignore_index, reduction="none")
        losses = reshape(losses, sizes + t.shape[n:])
        dims = tuple(range(n, losses.ndim))
        if reduction == "none":
            return losses
        total = sum(losses, dims) if dims else losses
        if reduction == "sum":
            return total
        valid = t != ignore_index
        w = (weight[np.where(valid, t, 0)] if weight is not None else np.ones(t.shape, x._data.dtype)) * valid
        return total / _const(w.sum(dims) if dims else w)
