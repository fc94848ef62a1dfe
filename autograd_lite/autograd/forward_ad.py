"""Forward-mode AD with dual tensors, as `torch.autograd.forward_ad`.

Inside `with dual_level():`, `make_dual(x, v)` gives a tensor that carries a tangent `v` beside its
values. Every op applied to it computes, beside its result, the result's tangent with the op's JVP
rule — the directional derivative J·v travels forward with the values, one op at a time. At the end,
`unpack_dual(y)` returns `(primal, tangent)`. One pass gives one column of the Jacobian per input
direction: the cost of forward mode scales with the number of inputs, reverse mode's with outputs.

Tangents are dropped when the level exits. Only one level can be open at a time, as in PyTorch.
The level's state, which every op reads, lives in `grad_mode.forward_ad_state`; each op's forward rule
is applied by `ops.op.push_tangent`.
"""
from collections import namedtuple

from ..grad_mode import attach_tangent, drop_tangents, forward_ad_state
from ..ops import Alias
from ..ops.batching import BatchedTensor
from ..ops.op import laid_out_like, same_layout
from ..tensor import Tensor

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


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
    drop_tangents()
    forward_ad_state.level = None
    forward_ad_state.active = False
    forward_ad_state.through_func = False


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
    if tensor._tangent is not None:  # (one level is open at a time: a tangent is one of this level)
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {forward_ad_state.level} is not supported.")
    previous = forward_ad_state.active  # False inside a rule or a custom Function's forward: keep it so
    forward_ad_state.active = False  # the alias itself must not propagate an older tangent
    try:
        dual = Alias.apply(tensor)
    finally:
        forward_ad_state.active = previous
    if tangent.__class__ is not BatchedTensor and not same_layout(tangent._data, dual._data):
        tangent = laid_out_like(dual, tangent)  # a tangent is laid out as its primal (a copy otherwise, as PyTorch's)
    attach_tangent(dual, tangent)
    dual._tangent_base = True  # a view of `tensor`, but with a tangent of its own, which its views share
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
    primal._tangent_base = True  # a view of `tensor`, but a tangent written into it later is its own
    return UnpackedDualTensor(primal, tensor._tangent)
