"""The values under a Tensor, before autograd: the array `tensor(data)` holds, what the legacy constructors'
arguments mean, and deep copies that keep views sharing memory. Plain numpy; `tensor.py` builds on it.
"""
import numbers

import numpy as np

from . import dtypes


def legacy_values(args, np_dtype, exact, tensor_type):
    """(array, version counter) for `Tensor(*args)` / `FloatTensor(*args)`, PyTorch's legacy constructors.

    Ints (or one `Size`) are a size: `Tensor(2, 3)` is 2x3 (zeros here; PyTorch leaves it uninitialized).
    One sequence or array is data: `Tensor([2, 3])` holds 2. and 3. One tensor is shared (its values and its
    version counter); `FloatTensor` (`exact`) insists on its own dtype there, `Tensor` takes any.
    """
    if len(args) == 1 and isinstance(args[0], tensor_type):
        t = args[0]
        if exact and t._data.dtype != np_dtype:
            raise TypeError(f"expected {_options(np_dtype)} (got {_options(t._data.dtype)})")
        return t._data, t._vc
    sizes = [isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args]
    if all(sizes) or (len(args) == 1 and type(args[0]).__name__ == "Size"):
        size = tuple(args[0]) if len(args) == 1 and not sizes[0] else tuple(int(a) for a in args) or (0,)
        for s in size:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        return np.zeros(size, np_dtype), [0]
    if len(args) > 1:
        bad = next(i for i, is_size in enumerate(sizes) if not is_size)
        raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {bad + 1} with error \"type "
                        f"must be tuple of ints,but got {type(args[bad]).__name__}\"")
    data = args[0]
    if isinstance(data, (numbers.Number, np.generic)):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return np.array(data).astype(np_dtype), [0]


def _options(np_dtype):
    return (f"TensorOptions(dtype={dtypes.cpp_type_name(np_dtype)}, device=cpu, layout=Strided, requires_grad=false "
            "(default), pinned_memory=false (default), memory_format=(nullopt))")


def deepcopy_array(arr, memo):
    """A copy of `arr`; arrays that are views of one array, copied under the same `memo`, stay views of one copy
    (as PyTorch's deepcopy keeps views of one storage sharing it)."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return arr.copy()
    key = ("storage", id(root))
    if key not in memo:
        memo[key] = np.copy(root, order="K")
        memo.setdefault(id(memo), []).append(root)  # keep root alive while memo is used, as copy.deepcopy does
    if root is arr:
        return memo[key]
    offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    new = np.ndarray(arr.shape, arr.dtype, buffer=memo[key], offset=offset, strides=arr.strides)
    new.flags.writeable = arr.flags.writeable
    return new


def data_array(data, dtype, tensor_type):
    """`data` (numbers, nested sequences, arrays, tensors of `tensor_type`) as a new numpy array with PyTorch's
    default dtypes (Python floats become float32, ints int64): what `tensor(data)` holds."""
    if isinstance(data, tensor_type):
        data = data._data
    if dtype is not None:
        return np.array(data, dtype=dtypes.to_numpy_dtype(dtype))
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data)
        dtypes.from_numpy_dtype(arr.dtype)  # raises for unsupported types
        return arr
    if isinstance(data, (list, tuple)) and any(isinstance(x, tensor_type) for x in _flat(data)):
        data = _nested_numpy(data, tensor_type)
    arr = np.array(data)
    if arr.dtype.kind == "f":
        return arr.astype(dtypes._default_float.np)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype == object or arr.dtype.kind in "UO":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return arr


def _flat(data):
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            yield item


def _nested_numpy(data, tensor_type):
    if isinstance(data, tensor_type):
        if data._data.size != 1 and data._data.ndim != 0:
            return data._data.tolist()
        return data._data.item()
    if isinstance(data, (list, tuple)):
        return [_nested_numpy(x, tensor_type) for x in data]
    return data
