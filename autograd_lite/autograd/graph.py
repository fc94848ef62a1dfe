"""`autograd.graph`: hooks on the tensors that the graph saves for backward (PyTorch's torch.autograd.graph).

An op that needs a tensor in its reverse rule saves it (`Mul` saves both factors, `Exp` its output).
Inside ``with saved_tensors_hooks(pack_hook, unpack_hook):`` every tensor saved is handed to
``pack_hook(tensor)`` at once, and the node keeps whatever that returns (a smaller copy, a file name, an
index...); each time the tensor is read back (by the rule during backward, or by ``grad_fn._saved_self``),
``unpack_hook(packed)`` must return a tensor with the same values. Blocks nest: the innermost pair is used.

As in PyTorch: `pack_hook` runs without recording and must not change its input in place; what the hooks
return is not checked against later in-place changes of the saved tensor (version counters cannot be
followed through a user's hook); after a backward without `retain_graph`, the packed values are dropped.

    save_on_cpu                  hooks that keep a copy on the CPU (this package has only the CPU)
    disable_saved_tensors_hooks  a block in which opening saved_tensors_hooks is an error
    Node                         the base class of every `grad_fn` (for isinstance checks)
    SavedTensor                  what `grad_fn._raw_saved_self` returns: hooks for one saved value
"""
import contextlib

from ..graph import Node, SavedTensor, hooks_disabled, saved_hooks

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "Node", "SavedTensor"]


class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it are packed by `pack_hook` and read back through
    `unpack_hook` (see the module docstring)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if hooks_disabled:
            raise RuntimeError(hooks_disabled[-1])
        saved_hooks.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *exc):
        saved_hooks.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors on the CPU, and bring them back to their device when read. With only a CPU, the
    tensor itself is kept (so, as in PyTorch on a CPU, an in-place change after saving is not caught);
    `pin_memory=True` keeps a copy instead, as PyTorch's pinned buffer is."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            return tensor.device, (tensor.clone() if pin_memory else tensor.cpu())

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """A block in which saved-tensor hooks are not allowed: opening `saved_tensors_hooks` (or entering this
    block while hooks are open) raises RuntimeError(error_message)."""
    if saved_hooks:
        raise RuntimeError(error_message)
    hooks_disabled.append(error_message)
    try:
        yield
    finally:
        hooks_disabled.pop()
