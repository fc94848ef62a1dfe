"""Random numbers: one numpy Generator, seeded like PyTorch's default generator.

`manual_seed(0)` makes every later `randn`/`rand` reproducible. The values differ from PyTorch's (a
different algorithm), which is why the course prints shapes and checks rather than random values.
"""
import numpy as np

from . import devices as _device
from . import dtypes
from .factories import size_arg
from .ops.batching import RANDOM_IN_VMAP, batched, vmap_state
from .tensor import _float, _new, _shape

_DEFAULT_SEED = 67280421310721  # PyTorch's initial seed: runs are reproducible even without manual_seed


class Generator:
    """Holds the random state (a `numpy.random.Generator`)."""

    def __init__(self, device="cpu"):
        self._seed = _DEFAULT_SEED
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def __repr__(self):
        return f"<autograd_lite.Generator object at {id(self):#x}>"


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator; returns it, as `torch.manual_seed` does."""
    return default_generator.manual_seed(seed)


def seed():
    s = int(np.random.SeedSequence().entropy % (2**63))
    default_generator.manual_seed(s)
    return s


def initial_seed():
    return default_generator.initial_seed()


def _rng(generator):
    return (generator or default_generator).rng


def _sample(draw, shape, dtype, requires_grad):
    """A tensor of `draw(shape)` as `dtype`. Inside vmap, as each vmap's `randomness` says: an error ('error'),
    one sample for every example ('same'), or one per example ('different': a batched tensor)."""
    modes = vmap_state.randomness
    if "error" in modes:
        raise RuntimeError(RANDOM_IN_VMAP)
    levels = tuple(level for level, mode in enumerate(modes, 1) if mode == "different")
    sizes = tuple(vmap_state.sizes[level - 1] for level in levels)
    return batched(_new(draw(sizes + tuple(shape)).astype(dtype), requires_grad), levels)


def randn(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    _device.check(device)
    return _sample(_rng(generator).standard_normal, size_arg("randn", shape, size), _float(dtype), requires_grad)


def rand(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    _device.check(device)
    return _sample(_rng(generator).random, size_arg("rand", shape, size), _float(dtype), requires_grad)


def randint(low=None, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high): `randint(high, size)` or `randint(low, high, size)`, as PyTorch's."""
    _device.check(device)
    if high is None:
        low, high = 0, low
    elif low is None:
        low = 0
    draw = lambda shape: _rng(generator).integers(low, high, size=shape)
    np_dtype = dtypes.to_numpy_dtype(dtype) if dtype is not None else np.int64
    return _sample(draw, _shape((size,)), np_dtype, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    arr = _rng(generator).permutation(n)
    return _new(arr.astype(dtypes.to_numpy_dtype(dtype) if dtype is not None else np.int64), requires_grad)


def randn_like(input, dtype=None, requires_grad=False):  # noqa: A002
    return randn(size=input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def rand_like(input, dtype=None, requires_grad=False):  # noqa: A002
    return rand(size=input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def normal(mean, std, size, *, generator=None, dtype=None, requires_grad=False):
    draw = lambda shape: mean + std * _rng(generator).standard_normal(shape)
    return _sample(draw, _shape((size,)), _float(dtype), requires_grad)
