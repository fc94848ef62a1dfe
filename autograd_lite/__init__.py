"""autograd_lite: reverse- and forward-mode automatic differentiation on numpy, with PyTorch's names.

    import autograd_lite as torch

    x = torch.ones(5)
    w = torch.randn(5, 3, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.matmul(x, w), torch.zeros(3))
    loss.backward()
    w.grad

Where to read what, from the ground floor up (each file uses only what lies below it; the one cycle is
Tensor's methods calling the ops, which build Tensors):
    dtypes.py          float32, int64, ..., and the names PyTorch's messages give them (Float, FloatTensor)
    sizes.py           Size, and the checks PyTorch makes on the dims and sizes it is given
    grad_mode.py       no_grad, enable_grad, set_grad_enabled, inference_mode; the forward-AD and anomaly flags
    devices.py         device('cpu'); the errors CPU-only PyTorch gives for any other device (cuda.py, backends/
                       answer is_available() with False)
    printing.py        reprs as PyTorch's
    storage.py         the values under a tensor: the legacy constructors' arguments, deep copies of arrays
    graph.py           the backward graph's nodes (grad_fn, next_functions, AccumulateGrad), saved-value checks
    engine.py          backward() and grad(): the order nodes run in, gradients summed, routed and stored
    tensor.py          the Tensor, and tensor(data) / as_tensor / from_numpy
    ops/               every op: op.py (the contract, and Op.apply, which records a node), then one file per
                       family (arithmetic, elementwise, copies, shape, reduction, linalg, indexing, nn), each
                       op class with its forward, reverse (VJP) and forward (JVP) rules, and its batching rule
                       for vmap (batching.py: BatchedTensor, and how an op runs on a batch)
    factories.py       new tensors of a size: zeros, ones, full, empty, eye, arange, linspace, *_like, and the
                       legacy FloatTensor / DoubleTensor / LongTensor
    vectorized_map.py  vmap: a function called once on a whole batch (in_dims, out_dims, chunk_size)
    random.py          manual_seed, randn, ... (inside vmap, as its `randomness` says)
    autograd/          PyTorch's torch.autograd: backward, grad, forward_ad (dual tensors), functional
                       (jacobian, hessian, hvp, ...), Function (custom ops), gradcheck, anomaly detection, Variable
    func.py            torch.func-style transforms: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian,
                       linearize, vmap; functional_call (a module run with other parameters)
    compiler/          compile: trace a function (and its gradient) once, emit readable numpy code, run that
    linalg.py          vector norms: linalg.norm, linalg.vector_norm (Tensor.norm calls the same op)
    nn/                Module, Parameter, layers, losses, init, nn.functional
    optim/             SGD, Adam, AdamW, RMSprop
    serialization.py   save and load: tensors, state_dicts and containers of them, to a file and back
    utils/             checkpoint: activation checkpointing (keep a segment's input, recompute it in backward)
    course/            the course's teaching aids, not PyTorch's API: viz (pictures of the graph and of
                       backward), jacobian_order (in which order to multiply a chain of Jacobians)
"""
import warnings as _warnings

# Like PyTorch, compute inf and nan silently (1/0, log 0, sqrt'(0)): numpy's floating-point warnings, raised
# from inside this package's ops, would name our files instead of the user's code.
_warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow|underflow) encountered",
                         RuntimeWarning, r"autograd_lite(\.|$)")

from . import dtypes  # noqa: E402
from .dtypes import (bool, double, dtype, float, float16, float32, float64, get_default_dtype, half,  # noqa: A004
                     int, int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .printing import set_printoptions
from . import devices as _devices
from .devices import device
from .tensor import Size, Tensor, as_tensor, from_numpy, tensor
from .factories import (DoubleTensor, FloatTensor, LongTensor, arange, empty, empty_like, eye, full, full_like,
                        linspace, ones, ones_like, zeros, zeros_like)
from .random import (Generator, default_generator, initial_seed, manual_seed, normal, rand, rand_like, randint, randn,
                     randn_like, randperm, seed)
from .ops import (abs, add, all, any, argmax, argmin, cat, ceil, clamp, cos, diag, div, dot, erf,  # noqa: A004
                  exp, expm1, flatten, floor, floor_divide, frac, hstack, log, log1p, logsumexp, masked_fill, matmul,
                  max, maximum, mean, min, minimum, mm, movedim, mul, narrow, neg, norm, outer, permute, pow, prod,
                  relu, remainder, reshape, round, select, sgn, sigmoid, sign, sin, sqrt, squeeze, stack, std, sub,
                  sum, t, tanh, transpose, trunc, unsqueeze, var, vstack, where)
from .ops import chunk, split, std_mean, unbind, var_mean  # ops with several outputs
from . import autograd, backends, cuda, linalg, nn  # noqa: E402
from . import func  # noqa: E402
from .func import vmap  # noqa: E402  (torch.vmap)
from .compiler import compile  # noqa: E402, A004  (torch.compile: trace once, run generated numpy code)
from . import optim  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import utils  # noqa: E402
from .random import fork_rng, get_rng_state, set_rng_state  # noqa: E402

clip = clamp
concat = concatenate = cat
moveaxis = movedim


def set_default_device(device):
    """Only the CPU: `set_default_device("cpu")` (or None) is accepted, as the default already is."""
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        if str(device).startswith("cuda"):
            raise AssertionError("Torch not compiled with CUDA enabled")  # PyTorch's error on a CPU-only build
        raise RuntimeError(f"autograd_lite runs on the CPU only; got device '{device}'")


def get_default_device():
    return _devices.CPU  # device(type='cpu'), what Tensor.device gives


def is_tensor(obj, /):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def softmax(input, dim, dtype=None):  # noqa: A002
    return nn.functional.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):  # noqa: A002
    return nn.functional.log_softmax(input, dim, dtype=dtype)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    return input.allclose(other, rtol, atol, equal_nan)


def equal(input, other):  # noqa: A002
    return input.equal(other)


def square(input):  # noqa: A002
    return input.square()


def reciprocal(input):  # noqa: A002
    return input.reciprocal()


def exp_(input):  # noqa: A002
    return input.exp_()


def tanh_(input):  # noqa: A002
    return input.tanh_()


def sigmoid_(input):  # noqa: A002
    return input.sigmoid_()


def relu_(input):  # noqa: A002
    return input.relu_()


def clamp_(input, min=None, max=None):  # noqa: A002
    return input.clamp_(min, max)


def clone(input):  # noqa: A002
    return input.clone()


def detach(input):  # noqa: A002
    return input.detach()


def isfinite(input):  # noqa: A002
    return input.isfinite()


def isnan(input):  # noqa: A002
    return input.isnan()


__version__ = "0.1.0"
