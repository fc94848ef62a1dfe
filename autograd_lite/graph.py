"""The backward graph: its nodes, the edges between them, and the checks on what they saved.

Every tensor made by a recorded op holds the node of that op in `grad_fn`. A node keeps:

* its edges, `next_functions`: one per input of the op, pointing at the node that made the input,
  at the `AccumulateGrad` node of a leaf that requires grad, or at nothing (`None`);
* what the op's reverse rule will need (`saved_tensors`, options the op stored on it), each saved
  tensor with its version number at the time, so that a later in-place change is caught;
* hooks, and the flag that it has been freed.

This file knows nothing of how nodes are made (that is `ops/op.py`) or run (that is `engine.py`); it
needs no Tensor either, only tensors' attributes (`grad_fn`, `requires_grad`, the version counter).
"""
import itertools
import sys
import weakref

from . import dtypes

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


def check_version(tensor, expected):
    """Raise PyTorch's error if `tensor` was changed in place since it was saved at version `expected`."""
    if tensor._vc[0] != expected:
        made_by = tensor.grad_fn.op.name if tensor.grad_fn is not None else None
        raise RuntimeError(modified_message(tensor._data.dtype, tensor._data.shape, tensor._vc[0], expected, made_by))


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
        if self._n_outputs == 1:
            self._pre_hooks.append(lambda g, fn=fn: _first(fn((g,))))
        else:  # the gradients of every output, as a tuple (None where an output got none)
            self._pre_hooks.append(lambda g, fn=fn: _as_list(fn(tuple(g))))
        return RemovableHandle(self._pre_hooks, self._pre_hooks[-1])

    # -- what rules read ------------------------------------------------------------------------------
    @property
    def saved_tensors(self):
        """The inputs saved for the reverse rule, after checking that none was freed or changed in place."""
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(FREED_MESSAGE)
            return ()
        for value, version in zip(saved, self._save_versions):
            if version is not None:
                check_version(value, version)
        return saved

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
    if t.grad_fn is not None:
        return t.grad_fn
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
        if grads[nr] is not None:
            new = hook(grads[nr])
            if new is not None:
                grads = list(grads)
                grads[nr] = new
        return grads
    return on_output


def _as_list(result):
    return None if result is None else list(result)


def _first(result):
    if result is None:
        return None
    return result[0] if isinstance(result, (tuple, list)) else result
