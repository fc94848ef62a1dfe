"""Factories: new tensors of a given size (zeros, ones, full, empty, eye, arange, linspace) and `*_like`.

Every factory takes PyTorch's keywords: `dtype`, `device` (the CPU only: see `device.py`) and
`requires_grad`; the ones that take a size accept it as separate ints, as one tuple, or as `size=`.
`empty` gives zeros, so that results never depend on leftover memory. `tensor(data)` itself, which copies
data rather than making a size, lives in `tensor.py`.
"""
import numbers

import numpy as np

from . import devices as _device
from . import dtypes
from .storage import legacy_values
from .tensor import Tensor, _float, _new, _shape, _wrap


def size_arg(name, shape, size_kw):
    """The shape asked for by `name(2, 3)`, `name((2, 3))` or `name(size=(2, 3))`, with PyTorch's errors."""
    if size_kw is None:
        if not shape:
            raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
        return _shape(shape)
    if shape:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    if not isinstance(size_kw, (tuple, list)):
        raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type(size_kw).__name__}")
    return _shape((size_kw,))


def _like_dtype(input, dtype):  # noqa: A002
    return dtypes.to_numpy_dtype(dtype) if dtype else input._data.dtype


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False):
    _device.check(device)
    return _new(np.zeros(size_arg("zeros", shape, size), _float(dtype)), requires_grad)


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False):
    _device.check(device)
    return _new(np.ones(size_arg("ones", shape, size), _float(dtype)), requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False):
    """Zeros (PyTorch leaves the memory uninitialized; zeros keep results reproducible)."""
    _device.check(device)
    return _new(np.zeros(size_arg("empty", shape, size), _float(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    _device.check(device)
    if dtype is None:
        dtype = dtypes.bool if isinstance(fill_value, bool) else (
            dtypes.int64 if isinstance(fill_value, numbers.Integral) else None)
    return _new(np.full(_shape((size,)), fill_value, _float(dtype)), requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    _device.check(device)
    return _new(np.zeros(input._data.shape, _like_dtype(input, dtype)), requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    _device.check(device)
    return _new(np.ones(input._data.shape, _like_dtype(input, dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):  # noqa: A002
    _device.check(device)
    return _new(np.full(input._data.shape, fill_value, _like_dtype(input, dtype)), requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    _device.check(device)
    return _new(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Integers give int64 and any float gives the default float dtype, as in PyTorch."""
    _device.check(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _new(np.arange(start, end, step, dtype=np.float64).astype(dtypes.to_numpy_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    _device.check(device)
    return _new(np.linspace(start, end, steps).astype(_float(dtype)), requires_grad)


# ---------------------------------------------------------------------------------------------------
# The legacy typed constructors: FloatTensor(2, 3) is a 2x3 float32 tensor, FloatTensor([2, 3]) holds 2 and 3
# ---------------------------------------------------------------------------------------------------
class _LegacyType(type):
    """`isinstance(t, FloatTensor)` is True for a float32 tensor, as in PyTorch; calling the class builds a Tensor."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np

    def __call__(cls, *args, device=None):
        _device.check(device)
        arr, vc = legacy_values(args, cls.dtype.np, True, Tensor)
        return _wrap(arr, vc)


class FloatTensor(metaclass=_LegacyType):
    dtype = dtypes.float32


class DoubleTensor(metaclass=_LegacyType):
    dtype = dtypes.float64


class LongTensor(metaclass=_LegacyType):
    dtype = dtypes.int64
