"""Random numbers: one numpy Generator, seeded like PyTorch's default generator.

`manual_seed(0)` makes every later `randn`/`rand` reproducible. The values differ from PyTorch's (a
different algorithm), which is why the course prints shapes and checks rather than random values.
"""
import contextlib

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

    def get_state(self):
        """The state as a uint8 tensor (PyTorch's ByteTensor); `set_state` of it replays the same numbers."""
        return _new(_state_bytes(self.rng), False)

    def set_state(self, new_state):
        self.rng = _rng_from_bytes(new_state)
        return self

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


def get_rng_state():
    """The default generator's state, as a uint8 tensor (PyTorch's is 5056 bytes, this one 40)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default generator to a state from `get_rng_state()`."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """A block after which the random state is back where it was: random numbers drawn inside it do not
    change the numbers drawn after it. `enabled=False` makes it a no-op. Only the CPU generator exists
    here, so `devices` and `device_type` are accepted and ignored."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


_STATE_BYTES = 40  # PCG64: 128-bit state, 128-bit increment, has_uint32 and the cached uint32


def _state_bytes(rng):
    st = rng.bit_generator.state
    raw = (st["state"]["state"].to_bytes(16, "little") + st["state"]["inc"].to_bytes(16, "little")
           + int(st["has_uint32"]).to_bytes(4, "little") + int(st["uinteger"]).to_bytes(4, "little"))
    return np.frombuffer(raw, dtype=np.uint8).copy()


def _rng_from_bytes(new_state):
    if not hasattr(type(new_state), "grad_fn"):
        raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
    raw = new_state.detach().numpy()
    if raw.dtype != np.uint8:
        raise TypeError("RNG state must be a torch.ByteTensor")
    if raw.size != _STATE_BYTES:
        raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found the input RNG state "
                           f"size to be {raw.size}")
    b = raw.tobytes()
    bit_generator = np.random.PCG64()
    bit_generator.state = {"bit_generator": "PCG64",
                           "state": {"state": int.from_bytes(b[:16], "little"), "inc": int.from_bytes(b[16:32], "little")},
                           "has_uint32": int.from_bytes(b[32:36], "little"),
                           "uinteger": int.from_bytes(b[36:40], "little")}
    return np.random.Generator(bit_generator)


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
