r"""Stochastic gradient descent, with PyTorch's update rule (`torch.optim.SGD`).

For each parameter $p$ with gradient $g$ (step $t$, momentum $\mu$, dampening $\tau$, weight decay $\lambda$):

$$
\begin{aligned}
g &\leftarrow -g \quad\text{if maximize} \\
g &\leftarrow g + \lambda p \quad\text{(weight decay, if } \lambda \ne 0) \\
b_t &= g \ \text{at the first step}, \qquad b_t = \mu b_{t-1} + (1-\tau) g \ \text{after} \quad\text{(if } \mu \ne 0) \\
g &\leftarrow g + \mu b_t \ \text{(nesterov)} \quad\text{or}\quad g \leftarrow b_t \\
p &\leftarrow p - \text{lr}\cdot g
\end{aligned}
$$

Note the first step: the momentum buffer starts as the gradient itself, not as $(1-\tau)g$.
"""
from .. import grad_mode
from ..tensor import _wrap
from .optimizer import Optimizer, _scalar, _write


class SGD(Optimizer):
    """`SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)`."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if differentiable:
            raise ValueError("differentiable=True is not supported: autograd_lite's optimizers update parameters "
                             "outside autograd")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": differentiable,
                    "fused": fused}  # foreach/fused are accepted for compatibility; there is one implementation
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns `closure()`'s loss if a closure is given."""
        loss = self._evaluate(closure)
        with grad_mode.no_grad():
            for group in self.param_groups:
                lr = _scalar(group["lr"])
                momentum, dampening = group["momentum"], group["dampening"]
                weight_decay, nesterov = _scalar(group["weight_decay"]), group["nesterov"]
                for p in self._params_with_grad(group):
                    grad = p.grad._data if not group["maximize"] else -p.grad._data
                    if weight_decay != 0:
                        grad = grad + weight_decay * p._data
                    if momentum != 0:
                        state = self.state[p]
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = state["momentum_buffer"] = _wrap(grad.copy())
                        else:
                            buf._data *= momentum
                            buf._data += (1 - dampening) * grad
                            buf._vc[0] += 1
                        grad = grad + momentum * buf._data if nesterov else buf._data
                    _write(p, p._data + (-lr) * grad)
        return loss
