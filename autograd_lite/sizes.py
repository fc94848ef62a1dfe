"""Sizes and dims: `Size` (a tensor's shape) and the checks PyTorch makes on the dims and sizes it is given.

Nothing here knows about tensors: a dim is a number, a size a tuple of numbers. Negative dims count from
the end (`-1` is the last), as in PyTorch, and out-of-range ones raise PyTorch's IndexError.
"""
import numpy as np


class Size(tuple):
    """A tensor's shape: a tuple that prints as `autograd_lite.Size([2, 3])`, like `torch.Size`."""

    def __repr__(self):
        return f"autograd_lite.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


def _dim(dim, ndim):
    """Wrap a negative dim; PyTorch's IndexError when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


_NO_SIZES = {  # PyTorch's TypeError when a method that needs sizes gets none
    "view": "view() received an invalid combination of arguments - got (), but expected one of:\n"
            " * (torch.dtype dtype)\n * (tuple of ints size)\n",
    "reshape": 'reshape() missing 1 required positional arguments: "shape"',
    "expand": 'expand() missing 1 required positional arguments: "size"',
}


def _varargs(args, needed_by=None):
    """`f(2, 3)` and `f((2, 3))` alike: the sizes or dims given, as one tuple. `needed_by`: the method's name,
    when it refuses to be given none (`x.view()`), as PyTorch does."""
    if not args and needed_by is not None:
        raise TypeError(_NO_SIZES[needed_by])
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def _shape(size):
    """The size a factory (`zeros(2, 3)`, `zeros((2, 3))`) is given, checked as PyTorch checks it."""
    size = _varargs(size)
    for s in size:
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"expected a sequence of integers as size, but got an element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return size
