"""Activation checkpointing: trade compute for memory, with PyTorch's `torch.utils.checkpoint` API.

Reverse mode keeps, until backward reads them, the values each op saved (a product its factors, `tanh` its
output): memory grows with the depth of the network. `checkpoint(function, *args)` keeps only the inputs
`args` of `function` and runs `function` a second time in backward to get back the values it would have
saved. The gradients are the same as without checkpointing; the price is one more forward of `function`.

Two implementations, chosen by `use_reentrant`, as in PyTorch:

* `use_reentrant=False` (recommended): `function` runs with the graph recorded, inside saved-tensor hooks
  (`autograd.graph.saved_tensors_hooks`) whose pack hook keeps a small placeholder instead of each saved
  tensor. The first time backward unpacks one of them, `function` is run again on the kept inputs, with
  hooks that collect what it saves; each value is dropped as soon as backward has read it. Works with
  `autograd.grad`, `backward(inputs=...)`, keyword arguments, and parameters used inside `function` even when
  no input requires grad.
* `use_reentrant=True` (PyTorch's default when `use_reentrant` is not given, with a warning): an
  `autograd.Function` (`CheckpointFunction`) whose `forward` runs `function` under `no_grad` and saves only
  its inputs, and whose `backward` runs `function` again with grad enabled and calls `autograd.backward`
  from inside the backward pass (hence "reentrant"). Gradients reach parameters inside `function` only
  if an input requires grad, and `autograd.grad` raises.

Both save the random state first and replay it when they recompute (`preserve_rng_state=True`), so that
dropout-like randomness draws the same numbers twice. Under `no_grad`, `function` simply runs.

Differences from PyTorch: `debug=True` adds no operator trace to the errors; nested checkpoints are not
specially handled; there are no devices other than the CPU, no autocast and no torch.compile.
"""
import contextlib
import warnings

from .. import grad_mode
from ..autograd.function import Function
from ..autograd.graph import saved_tensors_hooks
from ..engine import backward as _autograd_backward
from ..engine import whole_graph
from ..random import fork_rng, get_rng_state, set_rng_state
from ..sizes import Size
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "check_backward_validity", "detach_variable", "noop_context_fn", "set_checkpoint_early_stop"]

_USE_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but if "
    "you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more "
    "details on the differences between the two variants.")
_SEQUENTIAL_WARNING = (
    "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. In "
    "version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is recommended, but "
    "if you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more "
    "details on the differences between the two variants.")
_REENTRANT_GRAD_ERROR = (
    "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an `inputs` "
    "parameter to .backward(). To resolve this error, you can either set use_reentrant=False, or call .backward() "
    "without passing the `inputs` argument.")


class CheckpointError(RuntimeError):
    """The recomputation did not save what the original forward saved (a different count, shape or dtype)."""


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


_early_stop_override = [None]


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Within this block, non-reentrant checkpoints stop recomputing as soon as every saved value is back
    (`enable=True`, the default) or always rerun the whole function (`enable=False`)."""
    previous, _early_stop_override[0] = _early_stop_override[0], enable
    try:
        yield
    finally:
        _early_stop_override[0] = previous


def detach_variable(inputs):
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for inp in inputs:
        if isinstance(inp, Tensor):
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            inp = x
        out.append(inp)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


# ---------------------------------------------------------------------------------------------------
# use_reentrant=True: a custom Function that saves the inputs and reruns `run_function` in backward
# ---------------------------------------------------------------------------------------------------
class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function, ctx.preserve_rng_state = run_function, preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_cpu_state = get_rng_state()
        ctx.inputs, ctx.tensor_indices, tensor_inputs = [], [], []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensor_inputs.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensor_inputs)
        with grad_mode.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *args):
        if not whole_graph or not whole_graph[-1]:
            raise RuntimeError(_REENTRANT_GRAD_ERROR)
        inputs = list(ctx.inputs)
        for i, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = tensor
        with fork_rng(enabled=ctx.preserve_rng_state):
            if ctx.preserve_rng_state:
                set_rng_state(ctx.fwd_cpu_state)
            detached_inputs = detach_variable(tuple(inputs))
            with grad_mode.enable_grad():
                outputs = ctx.run_function(*detached_inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outputs_with_grad, args_with_grad = [], []
        for out, grad in zip(outputs, args):
            if isinstance(out, Tensor) and out.requires_grad:
                outputs_with_grad.append(out)
                args_with_grad.append(grad)
        if not outputs_with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _autograd_backward(outputs_with_grad, args_with_grad)
        grads = tuple(inp.grad if isinstance(inp, Tensor) else None for inp in detached_inputs)
        return (None, None) + grads


# ---------------------------------------------------------------------------------------------------
# use_reentrant=False: saved-tensor hooks keep placeholders; the first unpack in backward recomputes
# ---------------------------------------------------------------------------------------------------
class _Holder:
    """What a node keeps in place of a tensor saved inside a checkpoint: the frame and the value's number."""

    __slots__ = ("frame", "index")

    def __init__(self, frame, index):
        self.frame, self.index = frame, index


class _StopRecomputation(Exception):
    pass


class _Frame:
    """One checkpointed call: its inputs (kept), the saved values' metadata, and the values recomputed."""

    def __init__(self, recompute, check, early_stop):
        self.recompute, self.check, self.early_stop = recompute, check, early_stop
        self.metadata = []  # (shape, dtype) of each value saved by the original forward
        self.recomputed = {}  # index -> tensor, filled by a recomputation, emptied as backward reads them

    def pack(self, tensor):
        self.metadata.append((tuple(tensor.shape), tensor.dtype))
        return _Holder(self, len(self.metadata) - 1)

    def unpack(self, holder):
        if holder.index not in self.recomputed:
            self.run_recomputation()
        return self.recomputed.pop(holder.index)

    def run_recomputation(self):
        got = []

        def collect(tensor):
            got.append(tensor.detach())
            if self.early_stop and len(got) == len(self.metadata):
                raise _StopRecomputation
            return None

        try:
            with saved_tensors_hooks(collect, lambda _: None), grad_mode.enable_grad():
                self.recompute()
        except _StopRecomputation:
            pass
        if self.check:
            self.check_metadata(got)
        self.recomputed = dict(enumerate(got))

    def check_metadata(self, got):
        if len(got) != len(self.metadata):
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the original forward and "
                f"recomputation.\nNumber of tensors saved during forward: {len(self.metadata)}\nNumber of tensors "
                f"saved during recomputation: {len(got)}.\n")
        lines = []
        for i, ((shape, dtype), t) in enumerate(zip(self.metadata, got)):
            if (tuple(t.shape), t.dtype) != (shape, dtype):
                lines.append(f"tensor at position {i}:\nsaved metadata: {_meta(shape, dtype)}\n"
                             f"recomputed metadata: {_meta(t.shape, t.dtype)}\n")
        if lines:
            raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have different "
                                  "metadata than during the forward pass.\n" + "".join(lines) + ".\n")


def _meta(shape, dtype):
    return f"{{'shape': {Size(shape)!r}, 'dtype': {dtype}, 'device': device(type='cpu')}}"


def _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, early_stop, args, kwargs):
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    forward_context, recompute_context = context_fn()
    if not grad_mode.is_grad_enabled():  # nothing would be saved: simply run the function
        with forward_context:
            return function(*args, **kwargs)
    fwd_cpu_state = get_rng_state() if preserve else None

    def recompute():
        with fork_rng(enabled=preserve):
            if preserve:
                set_rng_state(fwd_cpu_state)
            with recompute_context:
                function(*args, **kwargs)

    if _early_stop_override[0] is not None:
        early_stop = _early_stop_override[0]
    frame = _Frame(recompute, determinism_check == "default", early_stop)
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        return function(*args, **kwargs)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """Run `function(*args, **kwargs)` keeping only its inputs for backward; backward runs it again.

    Keyword args (as PyTorch's): preserve_rng_state (default True) replays the random state in the
    recomputation; use_reentrant: which implementation (see the module docstring; pass it explicitly, False
    is recommended); context_fn: returns two context managers, for the forward and for the recomputation
    (use_reentrant=False only); determinism_check: "default" compares the shapes and dtypes of the values
    saved by the forward and by the recomputation, "none" does not; early_stop: stop recomputing once every
    saved value is back. Other keyword arguments go to `function` (use_reentrant=False only).
    """
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, early_stop, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Run `functions` (a list of callables, or an nn.Sequential) one after the other on `input`, in `segments`
    chunks of len(functions) // segments; every chunk but the last is checkpointed (only its input kept)."""
    from ..nn import Sequential
    if use_reentrant is None:
        warnings.warn(_SEQUENTIAL_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):  # noqa: A002
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
