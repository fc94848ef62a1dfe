r"""Adam (Kingma & Ba, 2015), with PyTorch's update rule (`torch.optim.Adam`), and AdamW.

For each parameter $p$ with gradient $g$, at step $t = 1, 2, \dots$:

$$
\begin{aligned}
g &\leftarrow -g \quad\text{if maximize} \\
g &\leftarrow g + \lambda p \quad\text{(Adam's L2 weight decay)} \qquad\text{or}\qquad
p \leftarrow p\,(1 - \text{lr}\,\lambda) \quad\text{(AdamW: decoupled)} \\
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g \qquad\text{(the mean of recent gradients)} \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g^2 \qquad\text{(the mean of their squares)} \\
\hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{with amsgrad, else } v_t \\
p &\leftarrow p - \frac{\text{lr}}{1-\beta_1^t}\;\frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}
\end{aligned}
$$

$m$ and $v$ start at zero, so early averages are too small; dividing by $1-\beta^t$ corrects that bias.
Note where $\epsilon$ goes: after the bias correction of $\sqrt{v}$, as PyTorch computes it. The arithmetic
below follows PyTorch's order of operations (e.g. $m$ is updated as `m.lerp_(g, 1 - beta1)`), so results
agree with it to rounding.
"""
import numpy as np

from .. import grad_mode
from ..factories import zeros_like
from ..tensor import tensor
from .optimizer import Optimizer, _scalar, _write


class Adam(Optimizer):
    """`Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False,
    decoupled_weight_decay=False)`."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if differentiable:
            raise ValueError("differentiable=True is not supported: autograd_lite's optimizers update parameters "
                             "outside autograd")
        betas = tuple(_scalar(b) for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _state(self, p, amsgrad):
        state = self.state[p]
        if len(state) == 0:  # created lazily, at a parameter's first step
            state["step"] = tensor(0.0)
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = zeros_like(p)
        return state

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns `closure()`'s loss if a closure is given."""
        loss = self._evaluate(closure)
        with grad_mode.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = _scalar(group["lr"]), group["betas"], group["eps"]
                weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
                for p in self._params_with_grad(group):
                    state = self._state(p, amsgrad)
                    grad = p.grad._data if not group["maximize"] else -p.grad._data
                    state["step"]._data += 1
                    if weight_decay != 0:
                        if group["decoupled_weight_decay"]:
                            _write(p, p._data * (1 - lr * weight_decay))
                        else:
                            grad = grad + weight_decay * p._data

                    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                    weight = 1 - beta1  # m.lerp_(grad, weight), computed the way PyTorch's lerp is
                    m[...] = m + weight * (grad - m) if abs(weight) < 0.5 else grad - (grad - m) * (1 - weight)
                    v[...] = v * beta2 + (1 - beta2) * grad * grad

                    step = state["step"].item()
                    bias_correction1 = 1 - beta1**step
                    bias_correction2 = 1 - beta2**step
                    step_size = lr / bias_correction1
                    bias_correction2_sqrt = bias_correction2**0.5
                    if amsgrad:
                        v_max = state["max_exp_avg_sq"]._data
                        np.maximum(v_max, v, out=v_max)
                        denom = np.sqrt(v_max) / bias_correction2_sqrt + eps
                    else:
                        denom = np.sqrt(v) / bias_correction2_sqrt + eps
                    _write(p, p._data + (-step_size) * m / denom)
                    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                        if key in state:
                            state[key]._vc[0] += 1
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): `p *= 1 - lr * weight_decay` at each step,
    instead of adding `weight_decay * p` to the gradient. Default weight_decay=1e-2, as in PyTorch."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
