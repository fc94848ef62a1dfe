"""`autograd_lite.autograd`: backward, grad, forward-mode AD, Jacobians, gradcheck and anomaly detection.

`backward(tensors)` accumulates gradients into the leaves' `.grad`; `grad(outputs, inputs)` returns
them instead and touches no `.grad`. Both check their arguments before anything runs, and the engine
changes no state unless the whole pass succeeds.

    forward_ad.py    dual tensors: forward mode, one Jacobian-vector product J·v per pass
    functional.py    jacobian, hessian, vjp, jvp, vhp, hvp of a function at given inputs
    gradcheck.py     gradcheck / gradgradcheck: rules against finite differences
    function.py      Function: write your own op (forward, backward, jvp), as torch.autograd.Function
    anomaly_mode.py  detect_anomaly: which op's backward produced NaN, and where it was called
"""
import numpy as np

from .. import grad_mode
from ..engine import _count_consumers, accumulate_grad, run_backward
from ..function import Node
from ..tensor import Tensor, _edge, _wrap
from . import forward_ad
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _size(shape):
    return f"autograd_lite.Size({list(shape)})"


def _roots(outputs, grad_outputs):
    """Check outputs and their gradients; return (nodes, gradients) to start the engine from."""
    grad_outputs = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    nodes, grads = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs must be Tensors, but element {i} is {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind != "f":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            g = _wrap(np.ones(out._data.shape, out._data.dtype))
        else:
            if not isinstance(g, Tensor):
                g = _wrap(np.asarray(g, dtype=out._data.dtype))
            if g.shape != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {_size(g.shape)} and output[{i}] has a shape "
                    f"of {_size(out.shape)}."
                )
            if g._data.dtype != out._data.dtype:
                g = g.to(out.dtype)
        nodes.append(_edge(out))
        grads.append(g)
    return nodes, grads


def _unused_message(i):
    return (f"The differentiated Tensor at index {i} appears to not have been used in the graph. Set "
            "allow_unused=True if this is the desired behavior.")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of `tensors` and accumulate it into the `.grad` of the leaves (or of `inputs`).

    grad_tensors: the vector v of the vector-Jacobian product vᵀJ, one per tensor, **with the shape of the
    tensor** (an output), needed whenever an output is not a scalar.
    retain_graph: keep the saved values so backward can run through this graph again (default: create_graph).
    create_graph: record the backward pass itself, so the gradients can be differentiated again.
    """
    tensors = _as_tuple(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    nodes, grads = _roots(tensors, grad_tensors)
    if inputs is None:
        run_backward(nodes, grads, retain_graph, create_graph)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    targets = {}
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        targets[_edge(t)] = t
    captured = run_backward(nodes, grads, retain_graph, create_graph, targets=targets)
    with grad_mode.set_grad_enabled(create_graph):
        for node, g in captured.items():
            accumulate_grad(targets[node], g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned as a tuple; no `.grad` is changed."""
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError("grad(): inputs must be Tensors")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    nodes, grads = _roots(outputs, grad_outputs)
    edges = [_edge(t) for t in inputs]
    if not allow_unused:  # checked before the pass, so that this error, too, leaves the graph as it was
        reachable = _count_consumers(nodes)
        for i, edge in enumerate(edges):
            if edge not in reachable:
                raise RuntimeError(_unused_message(i))
    captured = run_backward(nodes, grads, retain_graph, create_graph, targets=set(edges), accumulate=False)
    result = []
    for i, (t, edge) in enumerate(zip(inputs, edges)):
        g = captured.get(edge)
        if g is None:
            if not allow_unused:
                raise RuntimeError(_unused_message(i))
            if materialize_grads:
                g = _wrap(np.zeros(t._data.shape, t._data.dtype))
        elif not create_graph:
            tangent = g._tangent
            g = g.detach()
            if tangent is not None:  # as PyTorch: the gradient keeps its forward-mode tangent (forward-over-reverse)
                forward_ad._attach_tangent(g, tangent)
        result.append(g)
    return tuple(result)


from . import functional  # noqa: E402  (uses grad, defined above)

__all__ = ["backward", "grad", "gradcheck", "gradgradcheck", "forward_ad", "functional", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "Node", "GradcheckError", "Function", "once_differentiable"]
