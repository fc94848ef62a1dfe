"""`Parameter`: a tensor that a `Module` registers as one of its trainable weights.

A Parameter is an ordinary leaf tensor (a `Tensor` subclass) that requires grad by default. The only
thing that makes it special is how modules treat it: assigning one to a module attribute
(`self.weight = Parameter(...)`) registers it, so `module.parameters()` finds it and an optimizer can
update it. Operations on a Parameter give plain tensors, as in PyTorch: `Parameter(w) * 2` is a
`Tensor` with a `grad_fn`, not a Parameter.
"""
import numpy as np

from .. import dtypes
from ..tensor import Tensor, _init, _wrap


class Parameter(Tensor):
    """`Parameter(data, requires_grad=True)`: shares `data`'s values (no copy) and is always a leaf."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            _init(self, np.empty(0, dtypes.get_default_dtype().np), None)
        elif isinstance(data, Tensor):
            _init(self, data._data, data._vc)  # same values and version counter, outside any graph
        else:
            raise TypeError(f"Parameter expects a Tensor as data, but got {type(data).__name__}")
        if requires_grad:
            if self._data.dtype.kind != "f":
                raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            self._requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """`copy.deepcopy(model)` gives new Parameters holding copies of the values (not of `.grad`)."""
        if id(self) not in memo:
            memo[id(self)] = type(self)(_wrap(self._data.copy()), self._requires_grad)
        return memo[id(self)]

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(_wrap(data), requires_grad)
