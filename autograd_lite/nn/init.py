r"""`autograd_lite.nn.init`: fill a tensor in place with starting values, as `torch.nn.init` does.

Every function overwrites the tensor it is given and returns it. Like PyTorch's, they work outside
autograd (as under `no_grad`): setting starting values is not part of any computation to
differentiate, so filling a Parameter that requires grad is allowed and records nothing.

How the writing is done: the new values are stored straight into the tensor's numpy array
(`tensor._data[...] = values`) and the tensor's version counter is bumped (`tensor._vc[0] += 1`), which
is all an in-place op does once autograd is out of the picture. The bump matters: a graph that saved
the old values will refuse to backward through them rather than silently use the new ones.

Random values come from the default generator (`autograd_lite.manual_seed` makes them reproducible) or
from the `generator` argument. They are not PyTorch's numbers (a different algorithm), only the same
distributions.

Which scale to pick: a layer $y = Wx$ with `fan_in` inputs keeps the variance of its input when
$\operatorname{Var}(W_{ij}) = \text{gain}^2/\text{fan\_in}$ (Kaiming/He); Xavier/Glorot averages fan in
and fan out. A uniform $U(-b, b)$ has variance $b^2/3$, hence the $\sqrt 3$ in the bounds below.
`Linear` uses `kaiming_uniform_(weight, a=sqrt(5))`, which works out to $U(-1/\sqrt{\text{fan\_in}},
1/\sqrt{\text{fan\_in}})$.
"""
import math
import warnings

import numpy as np

from ..random import _rng

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def _write_(tensor, values):
    """Store `values` into `tensor` in place, outside autograd, and bump its version counter."""
    if not tensor._data.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation."
        )
    tensor._data[...] = values
    tensor._vc[0] += 1
    return tensor


def _float_dtype(tensor):
    return tensor._data.dtype if tensor._data.dtype.kind == "f" else np.float64


def calculate_gain(nonlinearity, param=None):
    r"""The factor that keeps activations' variance steady through `nonlinearity`:
    1 for linear/sigmoid, 5/3 for tanh, $\sqrt 2$ for relu, $\sqrt{2/(1+a^2)}$ for leaky_relu with slope a."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of the uniform distribution U(a, b)."""
    values = _rng(generator).uniform(a, b, size=tensor._data.shape)
    return _write_(tensor, values.astype(_float_dtype(tensor)))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of the normal distribution N(mean, std²)."""
    values = _rng(generator).normal(mean, std, size=tensor._data.shape)
    return _write_(tensor, values.astype(_float_dtype(tensor)))


def constant_(tensor, val):
    """Fill with the value `val`."""
    return _write_(tensor, val)


def ones_(tensor):
    return _write_(tensor, 1)


def zeros_(tensor):
    return _write_(tensor, 0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, as many as fit)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write_(tensor, np.eye(*tensor._data.shape))


def _calculate_fan_in_and_fan_out(tensor):
    """For a weight of shape (out, in, *kernel): fan_in = in·prod(kernel), fan_out = out·prod(kernel)."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return tensor.size(1) * receptive_field_size, tensor.size(0) * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _xavier_std(tensor, gain):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    r"""U(-b, b) with $b = \text{gain}\sqrt{6/(\text{fan\_in}+\text{fan\_out})}$ (Glorot & Bengio, 2010)."""
    a = math.sqrt(3.0) * _xavier_std(tensor, gain)
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    r"""N(0, std²) with $\text{std} = \text{gain}\sqrt{2/(\text{fan\_in}+\text{fan\_out})}$."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""U(-b, b) with $b = \text{gain}\sqrt{3/\text{fan}}$ (He et al., 2015); `a` is leaky_relu's slope."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    r"""N(0, std²) with $\text{std} = \text{gain}/\sqrt{\text{fan}}$."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return normal_(tensor, 0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
