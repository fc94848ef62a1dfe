r"""RMSprop (Hinton's lecture notes, 2012), with PyTorch's update rule (`torch.optim.RMSprop`).

For each parameter $p$ with gradient $g$, at every step:

$$
\begin{aligned}
g &\leftarrow -g \quad\text{if maximize}, \qquad g \leftarrow g + \lambda p \quad\text{(weight decay)} \\
v &= \alpha v + (1-\alpha)\, g^2 \qquad\text{(the mean of recent squared gradients)} \\
\tilde v &= v - \bar g^2 \ \text{with}\ \bar g = \alpha \bar g + (1-\alpha) g \quad\text{if centered, else } v \\
d &= \sqrt{\tilde v} + \epsilon \\
b &= \mu b + g / d, \quad p \leftarrow p - \text{lr}\, b \quad\text{with momentum } \mu > 0,
\quad\text{else}\quad p \leftarrow p - \text{lr}\, g / d
\end{aligned}
$$

Each coordinate's step is divided by the root of its recent mean square gradient, so steep and flat
directions move at similar speeds. Unlike Adam there is no bias correction: $v$ starts at zero, so the first
steps are large ($|g|/\sqrt{1-\alpha}$, ten times lr for the default $\alpha = 0.99$). The arithmetic follows
PyTorch's order of operations, so results agree with it to rounding.
"""
import numpy as np

from .. import grad_mode
from ..factories import zeros_like
from ..tensor import tensor
from .optimizer import Optimizer, _scalar, _write


class RMSprop(Optimizer):
    """`RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)`."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        for name, value in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                            ("weight_decay value", weight_decay), ("alpha value", alpha)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        if differentiable:
            raise ValueError("differentiable=True is not supported: autograd_lite's optimizers update parameters "
                             "outside autograd")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _state(self, p, group):
        state = self.state[p]
        if len(state) == 0:  # created lazily, at a parameter's first step
            state["step"] = tensor(0.0)
            state["square_avg"] = zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = zeros_like(p)
        return state

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns `closure()`'s loss if a closure is given."""
        loss = self._evaluate(closure)
        with grad_mode.no_grad():
            for group in self.param_groups:
                lr, alpha, eps = _scalar(group["lr"]), group["alpha"], group["eps"]
                weight_decay, momentum = group["weight_decay"], group["momentum"]
                for p in self._params_with_grad(group):
                    state = self._state(p, group)
                    grad = p.grad._data if not group["maximize"] else -p.grad._data
                    state["step"]._data += 1
                    if weight_decay != 0:
                        grad = grad + weight_decay * p._data
                    v = state["square_avg"]._data
                    v[...] = v * alpha + (1 - alpha) * grad * grad
                    if group["centered"]:
                        g_avg = state["grad_avg"]._data
                        weight = 1 - alpha  # g_avg.lerp_(grad, weight), computed the way PyTorch's lerp is
                        g_avg[...] = g_avg + weight * (grad - g_avg) if weight < 0.5 else grad - (grad - g_avg) * alpha
                        denom = np.sqrt(v - g_avg * g_avg) + eps
                    else:
                        denom = np.sqrt(v) + eps
                    if momentum > 0:
                        buf = state["momentum_buffer"]._data
                        buf[...] = buf * momentum + grad / denom
                        _write(p, p._data + (-lr) * buf)
                    else:
                        _write(p, p._data + (-lr) * (grad / denom))
                    for key in ("square_avg", "momentum_buffer", "grad_avg"):
                        if key in state:
                            state[key]._vc[0] += 1
        return loss
