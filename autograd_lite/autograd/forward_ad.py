"""Forward-mode AD with dual tensors, as `torch.autograd.forward_ad`.

Inside `with dual_level():`, `make_dual(x, v)` gives a tensor that carries a tangent `v` beside its
values. Every op applied to it computes, beside its result, the result's tangent with the op's JVP
rule — the directional derivative J·v travels forward with the values, one op at a time. At the end,
`unpack_dual(y)` returns `(primal, tangent)`. One pass gives one column of the Jacobian per input
direction: the cost of forward mode scales with the number of inputs, reverse mode's with outputs.

Tangents are dropped when the level exits. Only one level can be open at a time, as in PyTorch.
"""
import weakref
from collections import namedtuple

import numpy as np

from ..function import forward_ad_state
from ..ops import Alias
from ..tensor import Tensor, _wrap

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_duals = weakref.WeakSet()  # tensors holding a tangent of the open level, cleared when it exits


class dual_level:
    """Context manager for a forward-AD level; tangents exist only inside it."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def enter_dual_level():
    if forward_ad_state.level is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    forward_ad_state.level = 0
    forward_ad_state.active = True
    return 0


def exit_dual_level(*, level=None):
    for t in list(_duals):
        t._tangent = None
    _duals.clear()
    forward_ad_state.level = None
    forward_ad_state.active = False


def make_dual(tensor, tangent, *, level=None):
    """A tensor with the values of `tensor` (shared) and the tangent `tangent`."""
    if forward_ad_state.level is None:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first."
        )
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects Tensors for both the primal and the tangent")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}."
        )
    if not tensor.is_floating_point():
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not tangent.is_floating_point():
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    previous = forward_ad_state.active  # False inside a rule or a custom Function's forward: keep it so
    forward_ad_state.active = False  # the alias itself must not propagate an older tangent
    try:
        dual = Alias.apply(tensor)
    finally:
        forward_ad_state.active = previous
    _attach_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """`(primal, tangent)`: the values as a tensor without tangent, and the tangent (or None)."""
    if forward_ad_state.level is None or tensor._tangent is None:
        return UnpackedDualTensor(tensor, None)
    previous = forward_ad_state.active  # False inside a rule or a custom Function's forward: keep it so
    forward_ad_state.active = False
    try:
        primal = Alias.apply(tensor)
    finally:
        forward_ad_state.active = previous
    return UnpackedDualTensor(primal, tensor._tangent)


def _attach_tangent(t, tangent):
    t._tangent = tangent
    _duals.add(t)


def _zero_tangent(a):
    return _wrap(np.zeros(a._data.shape, a._data.dtype))


def _compute_tangent(op, ctx, inputs, result):
    """Apply `op`'s forward rule to the inputs' tangents (zeros where an input has none)."""
    tangents = []
    for a in inputs:
        if isinstance(a, Tensor):
            tangents.append(a._tangent if a._tangent is not None else _zero_tangent(a))
        elif a is None or isinstance(a, np.ndarray):
            tangents.append(None)
        else:
            tangents.append(0.0)
    forward_ad_state.active = False  # the rule sees primals only: no tangents of tangents
    try:
        tangent = op.jvp(ctx, *tangents)
    finally:
        forward_ad_state.active = True
    if tangent is None:
        return
    if not isinstance(tangent, Tensor):
        tangent = _wrap(np.asarray(tangent, dtype=result._data.dtype))
    if tangent.shape != result.shape:
        tangent = tangent.expand(result.shape)
    if tangent._data.dtype != result._data.dtype and result._data.dtype.kind == "f":
        tangent = tangent.to(result.dtype)
    if op.save_output and ctx._out is not None:
        ctx._out_tangent = tangent
    _attach_tangent(result, tangent)
