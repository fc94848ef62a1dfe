"""The backward graph: its nodes, the edges between them, and the checks on what they saved.

Every tensor made by a recorded op holds the node of that op in `grad_fn`. A node keeps:

* its edges, `next_functions`: one per input of the op, pointing at the node that made the input,
  at the `AccumulateGrad` node of a leaf that requires grad, or at nothing (`None`);
* what the op's reverse rule will need (`saved_tensors`, options the op stored on it), each saved
  tensor with its version number at the time, so that a later in-place change is caught;
* hooks, and the flag that it has been freed.

Saved-tensor hooks (`autograd.graph.saved_tensors_hooks`) change how a tensor is kept: while a pair of
hooks is on `saved_hooks`, a node keeps `pack_hook(tensor)` in a `PackedTensor` instead of the tensor,
and each read of it gives `unpack_hook(packed)` back, as a new tensor in the saved one's place in the graph.

This file knows nothing of how nodes are made (that is `ops/op.py`) or run (that is `engine.py`); it
needs no Tensor either, only tensors' attributes (`grad_fn`, `requires_grad`, the version counter).
"""
import itertools
import sys
import weakref

from . import dtypes, grad_mode

_sequence = itertools.count()  # creation order of nodes; the engine runs later-created nodes first, as PyTorch

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)


def next_sequence_number():
    """A number larger than any node made before: the engine runs later nodes first."""
    return next(_sequence)


def modified_message(dtype, shape, version, expected, made_by=None):
    """PyTorch's error for a saved value that an in-place op changed after it was saved."""
    where = f", which is output 0 of {made_by}," if made_by is not None else ""
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{dtypes.legacy_type_name(dtype)} {list(shape)}]{where} is at version {version}; expected version "
        f"{expected} instead. Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with autograd_lite.autograd.set_detect_anomaly(True, check_nan=False)."
    )


def made_by(node):
    """How PyTorch's error names the op of a saved value's node: `Exp` for ExpBackward0, `Pow1` for PowBackward1."""
    name, overload = node.op.name, node.op.overload
    return f"{name}{overload}" if overload else name


def multiple_views_message(view, indirect):
    """PyTorch's error for an output of split / chunk / unbind (or a view of one) whose memory is written in place
    (`indirect`: was written, through its base or another view, or under no_grad) while it may need a gradient.
    PyTorch names the node without "Backward0" (`Split`, `Squeeze1`); a view made when nothing required grad has
    none, and PyTorch then says it was made in no_grad mode."""
    what = "its base or another view of its base has been" if indirect else "is being"
    node = view._grad_fn
    if node is None:
        head = f"A view was created in no_grad mode and {what} modified inplace with grad mode enabled."
    else:
        stem, _, overload = type(node).__name__.partition("Backward")
        head = f"Output {view._output_nr or 0} of {stem}{'' if overload == '0' else overload} is a view and {what} " \
               "modified inplace."
    return head + (" This view is the output of a function that returns multiple views. Such functions do not allow "
                   "the output views to be modified inplace. You should replace the inplace operation by an "
                   "out-of-place one.")


def check_version(tensor, expected):
    """Raise PyTorch's error if `tensor` was changed in place since it was saved at version `expected`."""
    if tensor._vc[0] != expected:
        op = made_by(tensor.grad_fn) if tensor.grad_fn is not None else None
        raise RuntimeError(modified_message(tensor._data.dtype, tensor._data.shape, tensor._vc[0], expected, op))


class Node:
    """A node of the backward graph: what `tensor.grad_fn` holds.

    It keeps what the op's rules need (saved inputs, the output, options set in `forward`) and the edges
    to the nodes of its inputs (`next_functions`). `__dict__` is in the slots so that ops can store their
    own options on it, while nodes of ops that store nothing pay for no dictionary.
    """

    __slots__ = ("_next", "needs_input_grad", "_seq", "_inputs_meta", "_saved", "_save_versions",
                 "_out", "_out_version", "_out_tangent", "_freed", "_pre_hooks", "_hooks", "_retain", "_trace",
                 "__dict__", "__weakref__")
    op = None  # the Op class whose rules this node runs; set on each generated subclass
    # Defaults that almost every node keeps (set on the instance by the few that do not, in its __dict__):
    _n_outputs = 1  # how many outputs the op has (`split` has several, each an edge of its own)
    _next_nr = None  # which output of each next node an edge leaves from; None: output 0 of each
    _tensor_hooks = None  # hooks registered on the node's output tensors (`t.register_hook`)
    _hooked = False  # True once a tensor hook, retain_grad() or a pre-hook is registered (the engine checks it)

    def __init__(self):
        self._saved = None
        self._out = None
        self._out_tangent = None
        self._freed = False
        self._pre_hooks = None
        self._hooks = None
        self._retain = None
        self._trace = None
        self._next = ()
        self.needs_input_grad = ()
        self._seq = None  # set when the node is recorded in the graph (not for a forward-AD-only context)

    # -- what PyTorch's nodes offer -------------------------------------------------------------------
    @property
    def next_functions(self):
        """`((node, output_nr), ...)`: one edge per input, `(None, 0)` for an input that needs no gradient.

        `output_nr` says which output of `node` the input was (0 but for ops with several outputs, such as
        `split`). The node stores only the nodes (`_next`, and `_next_nr` when an output number is not 0)
        and builds the pairs when asked, as PyTorch does: a pair holding a node would be one more object per
        edge for Python's cyclic garbage collector to scan, again and again while a long graph grows.
        """
        if self._next_nr is None:
            return tuple([(node, 0) for node in self._next])
        return tuple(zip(self._next, self._next_nr))

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"

    @property
    def metadata(self):
        meta = self.__dict__.get("_metadata")
        if meta is None:
            meta = self.__dict__["_metadata"] = {}
        return meta

    def register_hook(self, fn):
        """`fn(grad_inputs, grad_outputs)` runs after this node's rule; it may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """`fn(grad_outputs)` runs before this node's rule; it may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._hooked = True
        if self._n_outputs == 1:
            self._pre_hooks.append(lambda g, fn=fn: _first(_checked(fn((g,)))))
        else:  # the gradients of every output, as a tuple (None where an output got none)
            self._pre_hooks.append(lambda g, fn=fn: _as_list(_checked(fn(tuple(g)))))
        return RemovableHandle(self._pre_hooks, self._pre_hooks[-1])

    # -- what rules read ------------------------------------------------------------------------------
    @property
    def saved_tensors(self):
        """The inputs saved for the reverse rule, after checking that none was freed or changed in place;
        those packed by saved-tensor hooks are unpacked (and not checked: PyTorch cannot check them)."""
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(FREED_MESSAGE)
            return ()
        packed = False
        for value, version in zip(saved, self._save_versions):
            if version is not None:
                check_version(value, version)
            elif type(value) is PackedTensor:
                packed = True
        return self._unpack_all(saved) if packed else saved

    def check_saved(self):
        """Raise PyTorch's error if a saved input was changed in place since it was saved (the engine checks
        every node it runs, whether or not its rule reads the value, as PyTorch does)."""
        for value, version in zip(self._saved, self._save_versions):
            if version is not None and value._vc[0] != version:
                check_version(value, version)  # raises

    def _put_packed(self, where, packed):
        """Keep `packed` in place of saved value `where` (an index into the saved inputs, or "result")."""
        if where == "result":
            self._out = packed
            return
        self._saved = self._saved[:where] + (packed,) + self._saved[where + 1:]
        self._save_versions = self._save_versions[:where] + (None,) + self._save_versions[where + 1:]

    @property
    def output(self):
        """The op's result, for the nodes whose rules read it: a built-in op's node rebuilds it (`OpNode`)."""
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        raise RuntimeError(f"{self.name()} did not save its output (set save_output = True on the op)")

    def _release(self):
        """Free what was saved for backward (what `retain_graph=False` does after a backward)."""
        if self._saved is not None or self._out is not None:
            self._saved = None
            self._out = None
            self._out_tangent = None
            self._freed = True


# ---------------------------------------------------------------------------------------------------
# Saved-tensor hooks: the stack that `autograd.graph.saved_tensors_hooks` pushes on, and what a node keeps
# ---------------------------------------------------------------------------------------------------
saved_hooks = []  # (pack_hook, unpack_hook) pairs, innermost last; ops check `if saved_hooks:` (the fast path)
hooks_disabled = []  # the error messages of open `disable_saved_tensors_hooks` blocks, innermost last

PACK_MODIFIED_MESSAGE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack hook cannot be "
    "modified by in-place operations as this can lead to unexpected side-effects. Please open an issue if you "
    "need to perform in-place operations on the input to a pack hook."
)


class PackedTensor:
    """A saved tensor as a node keeps it under saved-tensor hooks: `data`, what `pack_hook` returned; the
    `unpack_hook` that turns it back into a tensor; and the saved tensor's place in the graph (its history,
    or, for the node's own output, `output_nr`), which the unpacked tensor takes; and its tangent, which PyTorch
    too keeps beside a saved tensor (forward-over-reverse differentiates a rule that reads it)."""

    __slots__ = ("data", "unpack_hook", "is_output", "output_nr", "requires_grad", "grad_fn", "accumulator",
                 "tangent")


def pack(tensor, pack_hook, unpack_hook, place=None, output_nr=0):
    """Run `pack_hook(tensor)` as PyTorch does (nothing recorded, no in-place change of `tensor` allowed).

    place: the tensor whose place in the graph the unpacked tensor takes; None for the node's own output
    number `output_nr` (the node is not kept here: that would be a reference cycle)."""
    version = tensor._vc[0]
    previous, grad_mode.enabled = grad_mode.enabled, False
    try:
        data = pack_hook(tensor)
    finally:
        grad_mode.enabled = previous
    if tensor._vc[0] != version:
        raise RuntimeError(PACK_MODIFIED_MESSAGE)
    p = PackedTensor()
    p.data, p.unpack_hook, p.is_output, p.output_nr = data, unpack_hook, place is None, output_nr
    p.tangent = tensor._tangent if place is None else place._tangent
    if place is not None:
        p.requires_grad, p.grad_fn, p.accumulator = place._requires_grad, place.grad_fn, place._accumulator
        p.output_nr = place._output_nr
    return p


class SavedTensor:
    """One value saved by a node, as PyTorch's `torch._C._autograd.SavedTensor`: what `grad_fn._raw_saved_self`
    (`_raw_saved_other`, `_raw_saved_result`, ...) returns. `register_hooks(pack, unpack)` packs this one
    value, as `saved_tensors_hooks` does for every value saved inside it."""

    __slots__ = ("_node", "_where")

    def __init__(self, node, where):
        self._node, self._where = node, where  # where: an index into node._saved, or "result"

    def _entry(self):
        node = self._node
        if node._freed:
            return None
        return node._out if self._where == "result" else node._saved[self._where]

    @property
    def data(self):
        """What is kept: the tensor, or, once packed, what the pack hook returned."""
        entry = self._entry()
        return entry.data if type(entry) is PackedTensor else self.unpack()

    @property
    def unpack_hook(self):
        entry = self._entry()
        return entry.unpack_hook if type(entry) is PackedTensor else None

    def unpack(self):
        """The saved tensor, as the node's rule reads it (unpacked by the hook, if there is one)."""
        return self._node._read_saved(self._where)

    def register_hooks(self, pack_hook, unpack_hook):
        if not (callable(pack_hook) and callable(unpack_hook)):
            raise TypeError("register_hooks(): incompatible function arguments. The following argument types are "
                            "supported:\n    1. (self: SavedTensor, arg0: Callable, arg1: Callable) -> None")
        entry = self._entry()
        if type(entry) is PackedTensor:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have already been set. Hint: "
                               "only one pair of hooks is allowed at a time.")
        if self._node._freed:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
                "to backward through the graph a second time or if you need to access saved variables after calling "
                "backward.")
        if entry is None:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is forbidden")
        place = self.unpack()  # the tensor a rule would read, in its place in the graph
        output = self._where == "result" or place.grad_fn is self._node
        packed = pack(place.detach(), pack_hook, unpack_hook, None if output else place, place._output_nr)
        packed.tangent = place._tangent
        self._node._put_packed(self._where, packed)


class AccumulateGrad(Node):
    """The node of a leaf tensor that requires grad: backward ends here by adding into `variable.grad`.

    Its priority in the engine is the highest there is (PyTorch gives it the largest sequence number), so
    a leaf's gradient is stored as soon as every gradient for it has arrived.
    """

    __slots__ = ("variable",)

    def __init__(self, variable):
        super().__init__()
        self.variable = variable
        self._seq = sys.maxsize

    def name(self):
        return "torch::autograd::AccumulateGrad"  # PyTorch's name (type(node).__name__ is "AccumulateGrad")

    def __lt__(self, other):
        return False  # leaves tie in the engine's heap; see engine.kahn_order


def gradient_edge(t):
    """Where a gradient for tensor `t` should go: its grad_fn, its AccumulateGrad node, or nowhere (None)."""
    node = t.grad_fn
    if node is not None:
        return node
    if not t._requires_grad:
        return None
    acc = t._accumulator() if t._accumulator is not None else None
    if acc is None:  # one AccumulateGrad per leaf while any graph uses it (held weakly by the tensor)
        acc = AccumulateGrad(t)
        t._accumulator = weakref.ref(acc)
    return acc


class RemovableHandle:
    """What `register_hook` returns: `handle.remove()` unregisters the hook."""

    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def output_hook(hook, nr):
    """A tensor hook for output `nr` of a node with several outputs, which receives all their gradients."""
    def on_output(grads):
        new = hook(grads[nr])  # None for an output that received no gradient, as PyTorch calls it
        if new is not None and grads[nr] is not None:
            grads = list(grads)
            grads[nr] = new
        return grads
    return on_output


def _checked(result):
    """A node pre-hook's result, which must be a tuple (or None), as PyTorch requires."""
    if result is not None and not isinstance(result, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    return result


def _as_list(result):
    return None if result is None else list(result)


def _first(result):
    if result is None:
        return None
    return result[0] if isinstance(result, (tuple, list)) else result
