"""`autograd_lite.autograd`: backward, grad, forward-mode AD, Jacobians, gradcheck and anomaly detection.

`backward(tensors)` accumulates gradients into the leaves' `.grad`; `grad(outputs, inputs)` returns
them instead and touches no `.grad`. Both live in `engine.py` (so that `Tensor.backward` can call the
engine directly) and are PyTorch's `torch.autograd.backward` / `torch.autograd.grad`. Both check their
arguments before anything runs, and the engine changes no state unless the whole pass succeeds.

    forward_ad.py    dual tensors: forward mode, one Jacobian-vector product J·v per pass
    functional.py    jacobian, hessian, vjp, jvp, vhp, hvp of a function at given inputs
    gradcheck.py     gradcheck / gradgradcheck: rules against finite differences
    function.py      Function: write your own op (forward, backward, jvp), as torch.autograd.Function
    anomaly_mode.py  detect_anomaly: which op's backward produced NaN, and where it was called
    variable.py      Variable: PyTorch's deprecated alias, kept for old tutorials (it gives a Tensor)
    graph.py         saved_tensors_hooks, save_on_cpu: what the graph keeps of the tensors it saves
"""
from ..engine import backward, grad
from ..graph import Node
from . import forward_ad
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import functional, graph
from .variable import Variable

__all__ = ["backward", "grad", "gradcheck", "gradgradcheck", "forward_ad", "functional", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "Node", "graph", "GradcheckError", "Function",
           "once_differentiable", "Variable"]
