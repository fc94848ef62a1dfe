r"""The op base class and the nodes of the backward graph — the contract between ops and the engine.

Every differentiable operation is one subclass of `Op` holding three static methods:

* ``forward(ctx, *inputs, **options)`` computes the result from **numpy arrays** (tensors are unwrapped
  before the call; Python numbers pass through). ``options`` are non-differentiable settings such as
  ``dim``; an op may keep anything it needs later on ``ctx`` (``ctx.dim = dim``).
* ``vjp(ctx, grad)`` — the reverse rule. Given :math:`\bar y` (the gradient of the final output with
  respect to this op's output, a Tensor), return one gradient per positional input, or ``None`` for
  inputs that do not need one (``ctx.needs_input_grad[i]`` says which do). Rules are written with
  autograd_lite's own tensor operations, so when ``create_graph=True`` they are recorded too and can be
  differentiated again.
* ``jvp(ctx, *tangents)`` — the forward rule. Given one tangent :math:`\dot x_i` per positional input
  (zeros for inputs that carry none), return the output's tangent :math:`\dot y`. While it runs,
  tangent propagation is switched off, so the rule sees the primals only (a tangent of a tangent would
  otherwise recurse forever).

Rules read what they need from ``ctx``: ``ctx.saved_tensors`` (the positional inputs, as tensors, when
the op sets ``save_inputs = True``) and ``ctx.output`` (the result, when ``save_output = True``).
Broadcasting is undone by the engine, not by the rules: a rule may return a gradient of the output's
shape, and the engine sums it down to the input's shape (see ``engine.sum_to``).

When grad mode is on and an input requires grad, ``Op.apply`` turns ``ctx`` into a node of the graph:
an instance of a class named as PyTorch names it (``MulBackward0``), which becomes the result's
``grad_fn``. Its ``next_functions`` are ``((node, 0), ...)`` — one edge per input, pointing at the
input's own ``grad_fn``, at an ``AccumulateGrad`` node for a leaf that requires grad, or ``None``.
"""
import importlib
import itertools
import traceback

import numpy as np

from . import grad_mode

_sequence = itertools.count()  # creation order of nodes; the engine runs later-created nodes first, as PyTorch

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)


class _ForwardAD:
    """Whether a `forward_ad.dual_level` is open, and so whether ops must propagate tangents."""

    active = False
    level = None


forward_ad_state = _ForwardAD()


class _Anomaly:
    enabled = False
    check_nan = True


anomaly_state = _Anomaly()


class Node:
    """A node of the backward graph: what `tensor.grad_fn` holds.

    It keeps what the op's rules need (saved inputs, the output, options set in `forward`) and the edges
    to the nodes of its inputs (`next_functions`). `__dict__` is in the slots so that ops can store their
    own options on it, while nodes of ops that store nothing pay for no dictionary.
    """

    __slots__ = ("_next", "needs_input_grad", "_seq", "_inputs_meta", "_saved", "_saved_versions",
                 "_out", "_out_version", "_out_tangent", "_freed", "_pre_hooks", "_hooks", "_retain", "_trace",
                 "__dict__", "__weakref__")
    op = None  # the Op class; set on each generated subclass

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
        """`((node, 0), ...)`: one edge per input, `(None, 0)` for an input that needs no gradient.

        The node stores only the nodes (`_next`) and builds the pairs when asked, as PyTorch does: a
        pair holding a node would be one more object per edge for Python's cyclic garbage collector to
        scan, again and again while a long graph grows. (The 0 is the output's index; ops here have one.)
        """
        return tuple([(node, 0) for node in self._next])

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
        return _RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """`fn(grad_outputs)` runs before this node's rule; it may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(lambda g, fn=fn: _first(fn((g,))))
        return _RemovableHandle(self._pre_hooks, self._pre_hooks[-1])

    # -- what rules read ------------------------------------------------------------------------------
    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(FREED_MESSAGE)
            return ()
        for value, version in zip(saved, self._saved_versions):
            if version is not None and value._vc[0] != version:
                raise RuntimeError(_modified_message(value, version))
        return saved

    @property
    def output(self):
        """The op's result as a tensor. Rebuilt on each access rather than stored, so the node does not
        hold its own output (a reference cycle); when recording, it is connected to this node again."""
        out = self._out
        if out is None:
            if self._freed:
                raise RuntimeError(FREED_MESSAGE)
            raise RuntimeError(f"{self.name()} did not save its output (set save_output = True on the op)")
        data, vc = out
        if vc[0] != self._out_version:
            raise RuntimeError(_modified_message_output(self, data, vc[0], self._out_version))
        t = _tensor._wrap(data, vc)
        if grad_mode.enabled and self._seq is not None:
            t._requires_grad = True
            t.grad_fn = self
        if self._out_tangent is not None and forward_ad_state.active:
            from .autograd.forward_ad import _attach_tangent

            _attach_tangent(t, self._out_tangent)
        return t

    def _release(self):
        """Free what was saved for backward (what `retain_graph=False` does after a backward)."""
        if self._saved is not None or self._out is not None:
            self._saved = None
            self._out = None
            self._out_tangent = None
            self._freed = True

    def apply(self, grad):
        """Run this node's reverse rule: gradients for its inputs, given the gradient of its output."""
        return self.op.vjp(self, grad)


class AccumulateGrad(Node):
    """The node of a leaf tensor that requires grad: backward ends here by adding into `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        super().__init__()
        self.variable = variable
        self._seq = -1

    def apply(self, grad):  # pragma: no cover - the engine accumulates leaves itself, after the pass
        raise RuntimeError("AccumulateGrad is applied by the engine")


class _RemovableHandle:
    """What `register_hook` returns: `handle.remove()` unregisters the hook."""

    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def _first(result):
    if result is None:
        return None
    return result[0] if isinstance(result, (tuple, list)) else result


def _legacy_type(value):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
             "int32": "IntTensor", "bool": "BoolTensor"}
    return f"autograd_lite.{names.get(value.dtype.name, value.dtype.name)}"


def _modified_message(tensor, version):
    shape = list(tensor.shape)
    where = f", which is output 0 of {tensor.grad_fn.op.name}," if tensor.grad_fn is not None else ""
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{_legacy_type(tensor)} {shape}]{where} is at version {tensor._vc[0]}; expected version {version} "
        "instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
        "with autograd_lite.autograd.set_detect_anomaly(True, check_nan=False)."
    )


def _modified_message_output(node, data, now, expected):
    class _Shown:  # just enough of a tensor for the message
        dtype = data.dtype
        shape = data.shape

    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{_legacy_type(_Shown)} {list(data.shape)}], which is output 0 of {node.op.name}, is at version {now}; "
        f"expected version {expected} instead. Hint: enable anomaly detection to find the operation that failed "
        "to compute its gradient, with autograd_lite.autograd.set_detect_anomaly(True, check_nan=False)."
    )


def _broadcast_message(raw):
    """PyTorch's message for shapes that do not broadcast, naming the first dimension that clashes."""
    shapes = [np.shape(a) for a in raw if isinstance(a, np.ndarray)][:2]
    if len(shapes) == 2:
        a, b = shapes
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        for i in range(n - 1, -1, -1):
            if a[i] != b[i] and 1 not in (a[i], b[i]):
                return (f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at non-singleton "
                        f"dimension {i}")
    return "shapes cannot be broadcast together: " + " and ".join(str(list(s)) for s in shapes)


class _Scratch:
    """Stand-in for a node when nothing is recorded: `forward` may still store options on it."""

    __slots__ = ("__dict__",)


_F64 = np.dtype(np.float64)
_NEEDS, _METAS, _VERSIONS = {}, {}, {}  # one table per kind: (True, False) == (1, 0), but must not become it


def _shared(value, table):
    """One shared copy of a small immutable tuple that many nodes hold alike (`needs_input_grad`, input
    shapes and dtypes, saved version numbers): a long graph then stores references, not copies.
    Callers try `table.get(value)` first: the usual case, a tuple seen before, then costs no call."""
    if len(table) > 10_000:  # bounded: a program that sees ever new shapes does not grow it forever
        table.clear()
    return table.setdefault(value, value)


class Op:
    """Base of every op: see the module docstring for the contract.

    Subclasses set `name` (and `overload` where PyTorch numbers variants: `PowBackward1`), and whether
    the rules need the inputs (`save_inputs`) or the output (`save_output`).
    """

    name = None
    overload = 0
    save_inputs = False
    save_output = False
    differentiable = True
    is_view = False  # the result shares memory with input 0 (reshape, transpose, basic indexing, ...)
    node_class = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ or "overload" in cls.__dict__ or "node_name" in cls.__dict__:
            node_name = cls.__dict__.get("node_name") or f"{cls.name}Backward{cls.overload}"
            cls.node_class = type(node_name, (Node,),
                                  {"__slots__": (), "op": cls, "__module__": cls.__module__})

    @staticmethod
    def forward(ctx, *inputs, **options):
        raise NotImplementedError

    @staticmethod
    def vjp(ctx, grad):
        raise NotImplementedError

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on tensors (or numbers): compute, then record a node and/or a tangent if needed."""
        # Every op of every model passes through here (and every rule during backward), so this path is
        # kept lean: one pass over the inputs, no imports or generator expressions, nothing built that
        # is not needed (no node unless recording), module globals read once.
        Tensor = _tensor.Tensor
        raw = []
        record = dual = False
        for a in inputs:
            if isinstance(a, Tensor):
                raw.append(a._data)
                if a._requires_grad:
                    record = True
                if a._tangent is not None:
                    dual = True
            else:
                raw.append(a)
        if record or dual:  # some input is tracked; do grad mode, forward AD and the op agree to track?
            record = record and grad_mode.enabled and cls.differentiable
            dual = dual and forward_ad_state.active and cls.differentiable
        ctx = cls.node_class() if (record or dual) else _Scratch()
        try:
            out = cls.forward(ctx, *raw, **options)
        except ValueError as e:
            if "broadcast" in str(e):
                raise RuntimeError(_broadcast_message(raw)) from None
            raise
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if out.dtype is _F64:  # numpy's float64 may not be PyTorch's dtype...
            first = raw[0] if raw else None
            usual = type(first) is np.ndarray and first.dtype is _F64 and first.ndim  # ...but usually is
            if not usual and options.get("dtype") is None:
                out = _tensor._fix_dtype(out, inputs)
        if cls.is_view:
            src = inputs[0]
            result = _tensor._wrap(out, src._vc if np.may_share_memory(out, src._data) else None)
            result._base = src._base if src._base is not None else src
        else:
            result = _tensor._wrap(out)
        if record or dual:
            cls._record(ctx, inputs, out, result, record)
            if dual:
                from .autograd.forward_ad import _compute_tangent

                _compute_tangent(cls, ctx, inputs, result)
        return result

    @classmethod
    def _record(cls, ctx, inputs, out, result, record):
        """Make `ctx` a node of the graph: edges to the inputs, saved values, version numbers."""
        if cls.save_output:
            ctx._out = (out, result._vc)
            ctx._out_version = result._vc[0]
        if not record:
            if cls.save_inputs:  # forward AD only: the forward rule reads the inputs, no graph is built
                ctx._saved = inputs
                ctx._saved_versions = tuple([a._vc[0] if isinstance(a, _tensor.Tensor) else None for a in inputs])
            return
        # One pass over the inputs collects what backward needs from each: the node its gradient goes to
        # (`_next`), whether it needs one, its shape and dtype (to undo broadcasting), and, when the op
        # saves its inputs, its version number (to detect a later in-place change).
        Tensor, edge = _tensor.Tensor, _tensor._edge
        save = cls.save_inputs
        nodes, needs, metas, versions = [], [], [], []
        for a in inputs:
            if isinstance(a, Tensor):
                data = a._data
                metas.append((data.shape, data.dtype))
                node = a.grad_fn
                if node is None and a._requires_grad:
                    node = edge(a)  # a leaf that requires grad: its AccumulateGrad node
                if save:
                    versions.append(a._vc[0])
            else:
                metas.append(None)
                node = None
                if save:
                    versions.append(None)
            nodes.append(node)
            needs.append(node is not None)
        ctx._seq = next(_sequence)
        ctx._next = tuple(nodes)
        needs, metas = tuple(needs), tuple(metas)
        ctx.needs_input_grad = _NEEDS.get(needs) or _shared(needs, _NEEDS)
        ctx._inputs_meta = _METAS.get(metas) or _shared(metas, _METAS)  # sharing the tuple shares its items
        if save:
            ctx._saved = inputs
            versions = tuple(versions)
            # share only the all-zero tuples: versions of tensors updated in place (parameters) grow without
            # end, and a table of every tuple seen would grow by one entry per training step
            ctx._saved_versions = versions if any(versions) else _VERSIONS.get(versions) or _shared(versions, _VERSIONS)
        if anomaly_state.enabled:
            ctx._trace = traceback.format_stack()[:-3]
        result._requires_grad = True
        result.grad_fn = ctx


# tensor.py imports this module before it defines `Tensor`, so `Tensor` cannot be imported at the top, and
# an import statement inside `Op.apply` would cost about a microsecond on every op. The module is bound
# here instead, and its names (`_tensor.Tensor`, `_tensor._wrap`) are looked up when ops run. (By module
# name: the package's attribute `tensor` is the factory function `autograd_lite.tensor`.)
_tensor = importlib.import_module(".tensor", __package__)
