"""`save` and `load`: tensors, state_dicts and containers of them to a file and back (PyTorch's torch.save/load).

The file is a pickle (not PyTorch's zip archive: the two cannot read each other's files). A tensor is saved
as its values and `requires_grad`, as PyTorch saves it: no history (a non-leaf comes back as a leaf), no
`.grad`. `load(f)` unpickles only what a checkpoint holds, as PyTorch's default `weights_only=True` does:
tensors, Parameters, dtypes, sizes, numbers, strings and the built-in containers. Any other class is
refused; `weights_only=False` loads anything, so use it only for files you trust.

Difference from PyTorch: tensors that shared memory when saved (a view and its base) come back as copies.
"""
import os
import pickle

from .tensor import Tensor, _wrap

__all__ = ["save", "load"]

_ALLOWED = {  # the globals a checkpoint may name (module, name); a whole module where the name is None
    ("autograd_lite.serialization", "_rebuild_tensor"), ("autograd_lite.nn.parameter", "_rebuild_parameter"),
    ("autograd_lite.dtypes", "from_numpy_dtype"), ("autograd_lite.sizes", "Size"),
    ("numpy", "dtype"), ("numpy", "ndarray"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"), ("_codecs", "encode"), ("collections", "OrderedDict"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "slice"),
}
_WEIGHTS_ONLY_MESSAGE = (
    "Weights only load failed. This file can still be loaded, to do so you have two options, do those steps only "
    "if you trust the source of the checkpoint. \n\t(1) Re-running `load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a trusted "
    "source.\n\t(2) Alternatively, to load with `weights_only=True` please check the recommended steps in the "
    "following error message.\n\tWeightsUnpickler error: Unsupported global: GLOBAL {} was not an allowed global by "
    "default."
)


def _rebuild_tensor(data, requires_grad):
    t = _wrap(data)
    t._requires_grad = requires_grad
    return t


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        """A plain Tensor is saved as its values and requires_grad (a Parameter by its own `__reduce_ex__`)."""
        if type(obj) is Tensor:
            return _rebuild_tensor, (obj._data, obj._requires_grad)
        return NotImplemented


class _WeightsOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(_WEIGHTS_ONLY_MESSAGE.format(f"{module}.{name}"))


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write `obj` (a tensor, a state_dict, containers of them) to `f`: a file name or a binary file object."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            _Pickler(file, protocol=pickle_protocol).dump(obj)
    else:
        _Pickler(f, protocol=pickle_protocol).dump(obj)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read back what `save` wrote. `weights_only` (the default, as PyTorch's since 2.6) refuses any class
    that a checkpoint does not need; `map_location` may only name the CPU."""
    if map_location is not None and str(map_location) not in ("cpu", "cpu:0") and not callable(map_location):
        raise RuntimeError(f"autograd_lite runs on the CPU only; got map_location '{map_location}'")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            return load(file, weights_only=weights_only, **pickle_load_args)
    if weights_only is False:
        return pickle.Unpickler(f, **pickle_load_args).load()
    return _WeightsOnlyUnpickler(f, **pickle_load_args).load()
