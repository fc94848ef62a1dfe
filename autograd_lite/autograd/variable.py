"""`Variable`: PyTorch's deprecated alias from before tensors carried autograd state themselves.

Old tutorials write `Variable(t, requires_grad=True)`. As in PyTorch, that gives a plain Tensor: a new leaf
sharing t's values, cut from any graph, requiring grad only if asked; and every tensor is a `Variable`.
"""
import warnings

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _wrap


class _VariableType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableType):
    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with autograd_lite.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            return _wrap(np.empty(0, dtypes.get_default_dtype().np))
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad and data._data.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t = _wrap(data._data, data._vc)  # as detach(): same values and version counter, no graph
        t._requires_grad = bool(requires_grad)
        return t
