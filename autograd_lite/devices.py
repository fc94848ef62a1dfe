"""Devices: `device('cpu')`, and the errors a CPU-only PyTorch gives when asked for another one.

autograd_lite computes on the CPU with numpy, like a PyTorch built without CUDA. A `device` can name any
of PyTorch's device types (so that `device('cuda')` in a tutorial constructs fine), but putting a tensor
anywhere other than the CPU raises what CPU-only PyTorch raises. `check(device)` is that one check: every
factory's `device=` and `Tensor.to(device)` call it.
"""
import re

# The device types PyTorch's device-string parser knows, in the order its message lists them.
TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
         "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([0-9]+))?")
_NO_ACCELERATOR = "Cannot access accelerator device when none is available."
_MISSING = object()


class device:  # noqa: N801 (PyTorch's name)
    """`device('cpu')`, `device('cuda', 1)`, `device('cuda:1')`, `device(type='cpu')`: a type and an index
    (None when not given). Equal when both match; a string never equals a device, as in PyTorch."""

    __slots__ = ("type", "index")

    def __init__(self, type=_MISSING, index=None):  # noqa: A002 (PyTorch's keyword)
        if isinstance(type, device) and index is None:
            type, index = type.type, type.index
        elif isinstance(type, str) and index is None:
            type, index = _parse(type)
        elif isinstance(type, int) and not isinstance(type, bool) and index is None:
            raise RuntimeError(_NO_ACCELERATOR)  # an index alone means "accelerator number i"
        elif not isinstance(type, str):
            got = "" if type is _MISSING else _typename(type)
            mismatch = f"\n      didn't match because some of the arguments have invalid types: (!{got}!)"
            mismatch = mismatch if got else ""
            raise TypeError(f"device() received an invalid combination of arguments - got ({got}), but expected one "
                            f"of:\n * (torch.device device){mismatch}\n * (str type, int index = -1)\n")
        else:
            type, given = _parse(type)
            if given is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: "
                                   f"{type}:{given}")
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError(f"device(): argument 'index' (position 2) must be int, not {_typename(index)}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.device' objects is not writable")

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


def _typename(value):
    return "NoneType" if value is None else type(value).__name__


def _parse(text):
    """'cuda:1' -> ('cuda', 1); PyTorch's messages for a malformed string or an unknown type."""
    match = _DEVICE_STRING.fullmatch(text)
    if match is None:
        raise RuntimeError(f"Invalid device string: '{text}'")
    if match[1] not in TYPES:
        raise RuntimeError(f"Expected one of {', '.join(TYPES)} device type at start of device string: {text}")
    return match[1], (int(match[2]) if match[2] is not None else None)


CPU = device("cpu")


def check(where):
    """Raise unless `where` (a device, a string, an int, or None for the default) is the CPU, with the error
    a CPU-only PyTorch gives for that device."""
    if where is None:
        return
    kind = device(where).type  # an int (an accelerator's index) raises here already
    if kind == "cpu":
        return
    if kind in ("cuda", "xpu"):
        raise AssertionError(f"Torch not compiled with {kind.upper()} enabled")
    if kind == "meta":  # PyTorch has meta tensors (shapes without values); autograd_lite has not
        raise RuntimeError("autograd_lite computes on the CPU only; it has no 'meta' device")
    raise RuntimeError(f"PyTorch is not linked with support for {kind} devices")
