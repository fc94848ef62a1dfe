"""Data types: thin named wrappers around numpy dtypes, printed the way PyTorch prints its own.

PyTorch's default floating type is float32, and so is ours: `tensor([1.5])` is float32 even though
numpy would pick float64. Integer data gives int64, booleans give bool.
"""
import builtins

import numpy as np


class dtype:
    """A tensor's element type. `autograd_lite.float32.is_floating_point` is True, as in PyTorch."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"autograd_lite.{self.name}"

    def __reduce__(self):  # pickling (state_dict, multiprocessing) keeps the singletons singletons
        return (from_numpy_dtype, (self.np,))


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
bool = dtype("bool", np.bool_)  # noqa: A001  (PyTorch's name; shadows the builtin only inside this module)

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

_BY_NUMPY = {d.np: d for d in (float16, float32, float64, int8, int16, int32, int64, uint8, bool)}

_default_float = float32


def from_numpy_dtype(np_dtype):
    """The autograd_lite dtype for a numpy dtype; raises TypeError for types we do not support."""
    try:
        return _BY_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. The only supported types "
            "are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


# Python's own types as dtypes, as PyTorch reads them: float is float64 whatever the default dtype is.
# (`builtins.` because this module's `float`, `int` and `bool` are the dtypes of those names.)
_BY_PYTHON_TYPE = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}


def to_numpy_dtype(d):
    """Accept an autograd_lite dtype, a numpy dtype or a Python type; return the numpy dtype."""
    if isinstance(d, dtype):
        return d.np
    if isinstance(d, type) and d in _BY_PYTHON_TYPE:
        return _BY_PYTHON_TYPE[d].np
    return from_numpy_dtype(d).np


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    """Set the dtype that Python floats become (float32 or float64), as `torch.set_default_dtype`."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


# ---------------------------------------------------------------------------------------------------
# How PyTorch's messages name a dtype. PyTorch has three spellings, and each message uses one of them;
# they all live here so that every message of this package spells a dtype the way PyTorch's does.
# ---------------------------------------------------------------------------------------------------
_SCALAR_TYPE = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
                "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}
_CPP_TYPE = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
             "int16": "short int", "int32": "int", "int64": "long int", "uint8": "unsigned char", "bool": "bool"}


def scalar_type_name(d):
    """'Float', 'Double', 'Long', ...: PyTorch's ScalarType names ("result type Float can't be cast ...")."""
    name = to_numpy_dtype(d).name
    return _SCALAR_TYPE.get(name, name)


def cpp_type_name(d):
    """'float', 'double', 'long int', ...: the C++ names some of PyTorch's messages use (mm, grad assignment)."""
    name = to_numpy_dtype(d).name
    return _CPP_TYPE.get(name, name)


def legacy_type_name(d):
    """'autograd_lite.FloatTensor', ...: the legacy tensor-type names (`tensor.type()`, version-counter errors)."""
    return f"autograd_lite.{scalar_type_name(d)}Tensor"
