r"""The op contract, and `Op.apply`: how an op runs, records its node and pushes its tangent.

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

Where both rules multiply by the op's local derivative, the op computes it once, in one more static method
with one name and one calling convention: ``derivative(ctx, need=None)`` returns a tuple with one entry
per positional input, :math:`\partial y/\partial x_i` as a tensor that broadcasts against the output
(``None`` for an input that ``need``, a tuple of flags like ``needs_input_grad``, does not ask for;
``need=None`` asks for all). ``vjp`` returns ``grad * d`` and ``jvp`` returns ``x_t * d``.

Inside ``vmap``, an op that gets a batched input runs by its **batching rule**, a fourth method beside the
other three: ``batch(n, *inputs, **options)`` computes the result for every example at once from
ordinary tensors that carry ``n`` leading batch dimensions. The default suits an op that acts element by
element (the batch dimensions are just more leading dimensions); reductions, views, products and indexing
override it, and ``batch = None`` runs the op once per example. See batching.py.

Rules read what they need from ``ctx``: ``ctx.saved_tensors`` (the positional inputs, as tensors, when
the op sets ``save_inputs = True``) and ``ctx.output`` (the result, when ``save_output = True``). An op
whose inputs' gradients read different inputs says which, one tuple per input (``Mul``:
``save_inputs = ((1,), (0,))``, x's gradient reads y and y's reads x); it then keeps, as PyTorch does,
only the inputs that the wanted gradients read, and ``None`` in place of the others. ``saved_names``
gives the saved inputs PyTorch's names (``grad_fn._saved_self``, ``_saved_other``, ``_saved_mat2``).
Broadcasting is undone by the engine, not by the rules: a rule may return a gradient of the output's
shape, and the engine sums it down to the input's shape (``sum_to``, in ``shape.py``).

When grad mode is on and an input requires grad, ``Op.apply`` turns ``ctx`` into a node of the graph:
an instance of a class named as PyTorch names it (``MulBackward0``), which becomes the result's
``grad_fn``. Its ``next_functions`` are ``((node, 0), ...)`` — one edge per input, pointing at the
input's own ``grad_fn``, at an ``AccumulateGrad`` node for a leaf that requires grad, or ``None``.
Custom ops written with ``autograd.Function`` are recorded by the same two functions, ``record_node``
and ``push_tangent``.
"""
import sys
import traceback
import weakref
import warnings

import numpy as np

from .. import dtypes, grad_mode
from ..grad_mode import anomaly_state, attach_tangent, forward_ad_state
from ..graph import (FREED_MESSAGE, Node, PackedTensor, SavedTensor, check_version, gradient_edge, made_by,
                     modified_message, next_sequence_number, pack, saved_hooks)
from ..tensor import Tensor, _wrap


class OpNode(Node):
    """The base of every built-in op's node class (`MulBackward0`, ...): a Node that can rebuild its output."""

    __slots__ = ()

    @property
    def output(self):
        """The op's result as a tensor. Rebuilt on each access rather than stored, so the node does not
        hold its own output (a reference cycle); when recording, it is connected to this node again."""
        out = self._out
        if out is None:
            if self._freed:
                raise RuntimeError(FREED_MESSAGE)
            raise RuntimeError(f"{self.name()} did not save its output (set save_output = True on the op)")
        if type(out) is PackedTensor:
            t = unpack_saved(out, self)
        else:
            data, vc = out
            if vc[0] != self._out_version:
                raise RuntimeError(modified_message(data.dtype, data.shape, vc[0], self._out_version, made_by(self)))
            t = _wrap(data, vc)
            if grad_mode.enabled and self._seq is not None:
                t._requires_grad = True
                t._grad_fn = self
                if self._n_outputs != 1:
                    t._output_nr = 0  # the saved output of an op with several is its output 0
        if self._out_tangent is not None and t._tangent is None and forward_ad_state.active:  # (unpacked: has it)
            attach_tangent(t, self._out_tangent)
        return t

    def _unpack_all(self, saved):
        """The saved inputs with those packed by saved-tensor hooks unpacked, in the order they were packed."""
        saved = list(saved)
        for i in _pack_order(self):
            if type(saved[i]) is PackedTensor:
                saved[i] = unpack_saved(saved[i], self)
        return tuple(saved)

    def _read_saved(self, where):
        """One saved value, as `grad_fn._saved_<name>` gives it: "result", or the index of a saved input."""
        if where == "result":
            return self.output
        if self._saved is None:
            if self._freed and where not in (self.op._keep.get(self.needs_input_grad) or ()):
                raise RuntimeError(FREED_MESSAGE)
            return None  # nothing saved, or a value that was never saved (PyTorch gives None for it)
        value, version = self._saved[where], self._save_versions[where]
        if type(value) is PackedTensor:
            return unpack_saved(value, self)
        if version is not None:
            check_version(value, version)  # raises if changed in place since it was saved
        if self.op.saved_names[where] == "other" and value is not None and not isinstance(value, Tensor):
            value = _wrap(np.asarray(value))  # PyTorch's `other` is a Tensor: a number is wrapped in one
        return value

    def __getattr__(self, attr):
        """PyTorch's names for what a node saved: `_saved_self`, `_saved_other`, `_saved_mat2`, ... for the
        saved inputs (None for one that no wanted gradient needed, so it was not saved), `_saved_result`
        for the saved output, `_saved_<option>` for an option the op kept (`_saved_dim`); and, for the
        saved tensors, `_raw_saved_<name>`: a `SavedTensor`, on which saved-tensor hooks can be registered."""
        raw = attr.startswith("_raw_saved_")
        if not raw and not attr.startswith("_saved_"):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")
        key, op = attr[len("_raw_saved_" if raw else "_saved_"):], self.op
        where = None
        if key == op.result_name and op.save_output:
            where = "result"
        elif key in op.saved_names and op.save_inputs and op.saved_names.index(key) < len(self._inputs_meta):
            where = op.saved_names.index(key)
        if where is not None:
            return SavedTensor(self, where) if raw else self._read_saved(where)
        if key in self.__dict__ and not raw:  # an option given by keyword (`exponent`, `dim`)
            return self.__dict__[key]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    def __dir__(self):
        """The usual attributes, and the saved values' PyTorch names (`_saved_self`, `_saved_result`, ...)."""
        op, names = self.op, list(super().__dir__())
        if op.save_inputs and self._seq is not None:
            names += [f"_saved_{name}" for name in op.saved_names[:len(self._inputs_meta)]]
        if op.save_output:
            names.append(f"_saved_{op.result_name}")
        return names


def unpack_saved(packed, node):
    """What a rule reads for a tensor saved through hooks: `unpack_hook`'s result, as a new tensor that takes
    the saved tensor's place in the graph (its history; or, for the node's own output, this node)."""
    value = packed.unpack_hook(packed.data)
    if not isinstance(value, Tensor):
        raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                        f"{type(value).__name__}")
    t = _wrap(value._data, value._vc)
    if packed.is_output:
        if node._seq is not None:
            t._requires_grad, t._grad_fn, t._output_nr = True, node, packed.output_nr
    else:
        t._requires_grad, t._grad_fn, t._accumulator = packed.requires_grad, packed.grad_fn, packed.accumulator
        t._output_nr = packed.output_nr
    if packed.tangent is not None and forward_ad_state.active:  # (a rule differentiated by forward mode)
        attach_tangent(t, packed.tangent)
    return t


def _pack_order(node):
    """The order PyTorch saves a node's inputs in: as the gradients' formulas first read them (`Mul`: other,
    then self), or simply in order when every rule reads every input."""
    reads = node.op.save_inputs
    if reads is True:
        return range(len(node._saved))
    return dict.fromkeys(j for r in reads for j in r)


def pack_saved(node, result):
    """Pack what `node` saved (its inputs, then its output `result`) with the innermost saved-tensor hooks."""
    pack_hook, unpack_hook = saved_hooks[-1]
    if node.op.save_inputs and node._saved is not None:
        saved, versions = list(node._saved), list(node._save_versions)
        for i in _pack_order(node):
            if isinstance(saved[i], Tensor):
                saved[i], versions[i] = pack(saved[i], pack_hook, unpack_hook, place=saved[i]), None
        node._saved, node._save_versions = tuple(saved), tuple(versions)
    if node.op.save_output and node._out is not None:
        node._out = pack(result, pack_hook, unpack_hook)


class _Scratch:
    """Stand-in for a node when nothing is recorded: `forward` may still store options on it."""

    __slots__ = ("__dict__",)


_F64 = np.dtype(np.float64)


def _fix_dtype(out, inputs):
    """Where numpy's float64 result is not PyTorch's dtype, cast it.

    Two differences: integer data (int / int, int tensor * Python float) gives the default dtype in
    PyTorch, float64 in numpy; and a 0-d tensor does not promote a tensor with dimensions of the same
    category (`tensor(3., dtype=float64) + ones(2)` is float32), while numpy promotes it.
    """
    if out.dtype != _F64:
        return out
    widest = zero_d_f64 = None  # widest float dtype among the inputs with dimensions; a 0-d float64 input
    for a in inputs:
        arr = a._data if isinstance(a, Tensor) else a if isinstance(a, np.ndarray) else None
        if arr is None or arr.dtype.kind != "f":
            continue
        if arr.ndim == 0:
            zero_d_f64 = zero_d_f64 or arr.dtype == _F64
        elif arr.dtype == _F64:
            return out
        elif widest is None or arr.dtype.itemsize > widest.itemsize:
            widest = arr.dtype
    if widest is not None:
        return out.astype(widest)
    if zero_d_f64 or dtypes._default_float is dtypes.float64:
        return out
    return out.astype(dtypes._default_float.np)


class Op:
    """Base of every op: see the module docstring for the contract.

    Subclasses set `name` (and `overload` where PyTorch numbers variants: `PowBackward1`), and whether
    the rules need the inputs (`save_inputs`) or the output (`save_output`).
    """

    name = None
    overload = 0
    save_inputs = False  # True: the rules read the inputs; or, per input, the inputs its gradient reads
    saved_names = ("self",)  # PyTorch's names of the saved inputs: grad_fn._saved_self, _saved_other, ...
    result_name = "result"  # PyTorch's name of the saved output: grad_fn._saved_result
    save_output = False
    differentiable = True
    is_view = False  # the result shares memory with input 0 (reshape, transpose, basic indexing, ...)
    node_class = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._keep = {}  # needs_input_grad -> the saved inputs to forget (see keep_only_needed)
        if "name" in cls.__dict__ or "overload" in cls.__dict__ or "node_name" in cls.__dict__:
            node_name = cls.__dict__.get("node_name") or f"{cls.name}Backward{cls.overload}"
            cls.node_class = type(node_name, (OpNode,), {"__slots__": (), "op": cls, "__module__": cls.__module__})

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
    def batch(cls, n, *inputs, **options):
        """The batching rule, used inside vmap (see batching.py): the result for every example at once, from
        tensors with `n` leading batch dims. By default an elementwise op's: the batch dims are just more
        leading dims. Ops that are not elementwise override it, or set `batch = None` (one call per example)."""
        return elementwise(cls, n, *inputs, **options)

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on tensors (or numbers): compute, then record a node and/or a tangent if needed."""
        # Every op (and every rule in backward) passes here: kept lean, one pass over the inputs, no node unless needed.
        # 1. Unwrap: numpy arrays for forward; note whether any input is tracked (requires grad, or has a tangent).
        raw = []
        record = dual = False
        for a in inputs:
            if isinstance(a, Tensor):
                if a.__class__ is BatchedTensor:  # inside vmap: the op's batching rule runs (batching.py)
                    return apply_batched(cls, inputs, options)
                raw.append(a._data)
                if a._requires_grad or (a._base is not None and a._grad_fn is None and a._base._requires_grad):
                    record = True  # (the second: a view made under no_grad, which PyTorch's node has no edge to)
                if a._tangent is not None:
                    dual = True
            else:
                raw.append(a)

        # 2. Decide: record a node if grad mode is on, push a tangent if a forward-AD level is active.
        if record or dual:
            record = record and grad_mode.enabled and cls.differentiable
            dual = dual and forward_ad_state.active and cls.differentiable
        ctx = cls.node_class() if (record or dual) else _Scratch()

        # 3. Run forward on the arrays; wrap the result (a view shares its input's version counter).
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
                out = _fix_dtype(out, inputs)
        if cls.is_view:  # the result shares its input's memory, version counter and base
            src = inputs[0]
            result = wrap_view(out, src, src._vc if np.may_share_memory(out, src._data) else None)
        else:
            result = _wrap(out)

        # 4. Record: the node gets its edges and saved values, and becomes result.grad_fn.
        if record or dual:
            if cls.save_output:
                ctx._out = (result._data, result._vc)
                ctx._out_version = result._vc[0]
            if record:
                record_node(ctx, inputs, result, cls.save_inputs)
            elif cls.save_inputs:  # forward AD only: the forward rule reads the inputs, no graph is built
                ctx._saved = inputs
                ctx._save_versions = tuple([a._vc[0] if isinstance(a, Tensor) else None for a in inputs])

            # 5. Push tangents: the output's tangent from the inputs' tangents, by the forward rule.
            if dual:
                push_tangent(cls, ctx, inputs, result)

            # 6. Keep only the saved inputs that the wanted gradients read (the forward rule read them all).
            if record and cls.save_inputs.__class__ is tuple:
                drop = cls._keep.get(ctx.needs_input_grad, False)
                if drop is not None:
                    keep_only_needed(ctx, cls, drop)
            if record and saved_hooks:  # 7. Saved-tensor hooks: keep what pack_hook returns instead
                pack_saved(ctx, result)
        return result

    @staticmethod
    def fit_tangent(ctx, tangent, result):
        """The forward rule's result as the output's tangent: a tensor of the output's shape and dtype, laid out in
        memory as the output is (PyTorch's rule for tangents, see `same_layout`: a tangent broadcast to the
        output's shape, or one passed on as it is, is copied where it is laid out otherwise)."""
        r = result._data
        if not isinstance(tangent, Tensor):
            tangent = _wrap(np.asarray(tangent, dtype=r.dtype))
        if tangent._data.shape != r.shape:
            tangent = tangent.expand(result.shape)
        if tangent._data.dtype != r.dtype and r.dtype.kind == "f":
            tangent = tangent.to(result.dtype)
        if ctx.op.is_view or tangent.__class__ is BatchedTensor:
            return tangent  # (a view's tangent is the same view of its input's: laid out alike)
        return tangent if same_layout(tangent._data, r) else laid_out_like(result, tangent)


_NEEDS, _METAS, _VERSIONS = {}, {}, {}  # one table per kind: (True, False) == (1, 0), but must not become it


def _shared(value, table):
    """One shared copy of a small immutable tuple that many nodes hold alike (`needs_input_grad`, input
    shapes and dtypes, saved version numbers): a long graph then stores references, not copies.
    Callers try `table.get(value)` first: the usual case, a tuple seen before, then costs no call."""
    if len(table) > 10_000:  # bounded: a program that sees ever new shapes does not grow it forever
        table.clear()
    return table.setdefault(value, value)


def record_node(node, inputs, result, save_inputs=False, tensors_only=False):
    """Make `node` a node of the graph and `result.grad_fn`: edges to the inputs, saved values, versions.

    tensors_only: edges for the tensor inputs only, skipping numbers and options (a custom Function's
    node, as PyTorch's); a built-in op has one edge per positional input, `None` for a number.
    """
    # One pass over the inputs collects what backward needs from each: the node its gradient goes to
    # (`_next`), whether it needs one, its shape and dtype (to undo broadcasting), and, when the op
    # saves its inputs, its version number (to detect a later in-place change).
    nodes, needs, metas, versions = [], [], [], []
    later_output = False
    for a in inputs:
        if isinstance(a, Tensor):
            data = a._data
            metas.append((data.shape, data.dtype))
            edge = a._grad_fn if a._split_version is None else a.grad_fn  # (the property checks a split output)
            if edge is None:
                if a._requires_grad:
                    edge = gradient_edge(a)  # a leaf that requires grad: its AccumulateGrad node
            elif a._output_nr is not None:  # one of several outputs of its node
                later_output = True
            if save_inputs:
                versions.append(a._vc[0])
        elif tensors_only:
            continue
        else:
            metas.append(None)
            edge = None
            if save_inputs:
                versions.append(None)
        nodes.append(edge)
        needs.append(edge is not None)
    node._seq = next_sequence_number()
    node._next = tuple(nodes)
    if later_output:  # an input is one of several outputs of its node (`a, b = x.split(2)`): edges say which
        node._next_nr = tuple([a._output_nr or 0 if isinstance(a, Tensor) else 0 for a in inputs
                               if isinstance(a, Tensor) or not tensors_only])
    metas = tuple(metas)
    node._inputs_meta = _METAS.get(metas) or _shared(metas, _METAS)  # sharing the tuple shares its items
    if not tensors_only:
        needs = tuple(needs)
        node.needs_input_grad = _NEEDS.get(needs) or _shared(needs, _NEEDS)
    if save_inputs:
        node._saved = inputs
        versions = tuple(versions)
        # share only the all-zero tuples: versions of tensors updated in place (parameters) grow without
        # end, and a table of every tuple seen would grow by one entry per training step
        node._save_versions = versions if any(versions) else _VERSIONS.get(versions) or _shared(versions, _VERSIONS)
    if anomaly_state.enabled:
        node._trace = traceback.format_stack()[:-3]
    result._requires_grad = True
    result._grad_fn = node


def keep_only_needed(node, op, drop=False):
    """Forget the saved inputs that no wanted gradient reads, as PyTorch saves them: for `x @ w` with only
    `w` requiring grad, `w`'s gradient reads `x`, so `x` is kept and `w` is not (a later in-place change
    of `w` is then no error). `op.save_inputs[i]` lists the inputs that input i's gradient reads; numbers
    stay. `drop`, the inputs to forget (None: none), is worked out once per pattern of `needs_input_grad`."""
    if drop is False:
        reads, needs = op.save_inputs, node.needs_input_grad
        wanted = {j for i, need in enumerate(needs) if need for j in reads[i]}
        drop = op._keep[needs] = tuple([j for j in range(len(reads)) if j not in wanted]) or None
    if drop is None:
        return
    saved, versions = list(node._saved), list(node._save_versions)
    for j in drop:
        if isinstance(saved[j], Tensor):
            saved[j] = versions[j] = None
    node._saved, node._save_versions = tuple(saved), tuple(versions)


def input_tangents(inputs):
    """The tangent of each input for a forward rule: its own, zeros for a tensor without one, 0.0 for a
    number, None for anything else."""
    tangents = []
    for a in inputs:
        if isinstance(a, Tensor):
            tangents.append(a._tangent if a._tangent is not None else _wrap(np.zeros(a._data.shape, a._data.dtype)))
        elif a is None or isinstance(a, np.ndarray):
            tangents.append(None)
        else:
            tangents.append(0.0)
    return tangents


def run_forward_rule(op, ctx, inputs):
    """`op.jvp` on the inputs' tangents, with tangent propagation off (the rule sees primals only: no
    tangents of tangents)."""
    tangents = input_tangents(inputs)
    forward_ad_state.active = False
    try:
        return op.jvp(ctx, *tangents)
    finally:
        forward_ad_state.active = True


def push_tangent(op, ctx, inputs, result):
    """Apply `op`'s forward rule to the inputs' tangents and attach the result, fitted by `op.fit_tangent`,
    to `result`."""
    tangent = run_forward_rule(op, ctx, inputs)
    if tangent is None:
        return
    tangent = op.fit_tangent(ctx, tangent, result)
    if ctx._out is not None:  # the saved output carries its tangent when a rule reads it back
        ctx._out_tangent = tangent
    attach_tangent(result, tangent)


class MultiOutputOp(Op):
    """An op with several outputs (`split`, `unbind`, `var_mean`): `forward` returns a tuple of arrays, and
    one node serves them all, as in PyTorch: every output has it as `grad_fn`, told apart by `output_nr`.
    `vjp(ctx, *grads)` gets one gradient per output (None for an output that received none) and `jvp`
    returns one tangent per output. `save_output` saves output 0 (`ctx.output`, PyTorch's `_saved_result0`)."""

    result_name = "result0"

    @classmethod
    def apply(cls, *inputs, **options):
        record = dual = False
        for a in inputs:
            if isinstance(a, Tensor):
                if a.__class__ is BatchedTensor:  # inside vmap: the op's batching rule runs (batching.py)
                    return apply_batched(cls, inputs, options)
                record = record or a.requires_grad  # (the property: also a view made under no_grad, as above)
                dual = dual or a._tangent is not None
        record = record and grad_mode.enabled
        dual = dual and forward_ad_state.active
        ctx = cls.node_class() if (record or dual) else _Scratch()
        outs = cls.forward(ctx, *[a._data if isinstance(a, Tensor) else a for a in inputs], **options)
        src = inputs[0]
        results = []
        for out in outs:
            out = np.asarray(out)  # a full reduction gives a numpy scalar
            if out.dtype is _F64:
                out = _fix_dtype(out, inputs)
            if cls.is_view:  # each output shares the input's memory, version counter and base
                result = wrap_view(out, src, src._vc, of_split=True)
            else:
                result = _wrap(out)
            results.append(result)
        if record:
            record_node(ctx, inputs, results[0], cls.save_inputs)
            ctx._n_outputs = len(results)
            for k, result in enumerate(results):
                result._requires_grad, result._grad_fn, result._output_nr = True, ctx, k
            if cls.save_output:
                ctx._out, ctx._out_version = (results[0]._data, results[0]._vc), results[0]._vc[0]
            if saved_hooks:
                pack_saved(ctx, results[0])
        elif dual:  # forward AD only: the forward rule reads the inputs (and output 0), no graph is built
            if cls.save_inputs:
                ctx._saved, ctx._save_versions = inputs, (None,) * len(inputs)
            if cls.save_output:
                ctx._out, ctx._out_version = (results[0]._data, results[0]._vc), results[0]._vc[0]
        if dual:
            tangents = run_forward_rule(cls, ctx, inputs)
            for k, (result, tangent) in enumerate(zip(results, tangents)):
                tangent = cls.fit_tangent(ctx, tangent, result)
                if k == 0 and ctx._out is not None:  # the saved output 0 carries its tangent when a rule reads it
                    ctx._out_tangent = tangent  # back (std_mean's: forward-over-reverse differentiates the rule)
                attach_tangent(result, tangent)
        return tuple(results)


# ---------------------------------------------------------------------------------------------------
# Small helpers that ops of several families use
# ---------------------------------------------------------------------------------------------------
_PRUNE_AT = 16  # a base's list of views is cleared of dead ones when it grows past this many


def wrap_view(out, src, vc, of_split=False):
    """The array `out` as a view of the tensor `src`: `vc` its version counter (src's, if they share memory), src's
    base its base. Made with grad on, it is registered, so that an in-place op on the base rebases it (views.py);
    and an output of split / chunk / unbind (`of_split`), or a view of one, keeps its version then: once its memory
    is written, PyTorch refuses it a gradient (`Tensor.grad_fn`) instead of rebasing it."""
    result = _wrap(out, vc)
    result._base = src._base if src._base is not None else src
    if src._tangent_base is not None:  # a view of a dual shares the dual's tangent (views.tangent_base)
        result._tangent_base = src if src._tangent_base is True else src._tangent_base
    if grad_mode.enabled:
        register_view(result._base, result)
        if of_split or src._split_version is not None:
            result._split_version = src._vc[0]
    return result


def register_view(base, view):
    """Remember (weakly) that `view` shares `base`'s memory, so an in-place op can rebase it."""
    views = base._views
    if views is None:
        base._views = [weakref.ref(view)]
        return
    if len(views) >= _PRUNE_AT:
        views[:] = [ref for ref in views if ref() is not None]
    views.append(weakref.ref(view))


def _const(array):
    """A constant tensor (no graph) around a numpy array: masks, signs, index patterns."""
    return _wrap(np.asarray(array))


def differentiated(t):
    """Whether what a rule computes from tensor `t` will itself be differentiated: recorded in a graph (grad mode
    on and `t` requires grad: a rule run with create_graph) or carrying tangents (a forward-AD level pushing
    tangents and `t` has one: a rule run by a backward inside `jacfwd`, i.e. forward-over-reverse). A rule may take
    a shortcut that is exact at the point only, not around it (prod's derivative at a zero), only when it is not:
    a shortcut's derivative is that of its formula, not the op's."""
    return (grad_mode.enabled and t.requires_grad) or (forward_ad_state.active and t._tangent is not None)


def _zeros_like(grad):
    """PyTorch's `zeros_like(grad)`: the gradient of an input that the output does not depend on (overwritten by
    `fill_`, or behind a piecewise-constant `sign`). A constant: the node behind still runs (and checks what it
    saved) but receives nothing that carries a graph."""
    return _const(np.zeros_like(grad._data))


def _is_scalar(x):
    return not isinstance(x, Tensor)


def _in_memory(a):
    """Where array `a` lives: (its offset, in bytes, in the memory it is a view of; that memory, an array)."""
    memory = a
    while isinstance(memory.base, np.ndarray):
        memory = memory.base
    return a.__array_interface__["data"][0] - memory.__array_interface__["data"][0], memory


def same_layout(tangent, primal):
    """PyTorch's test of whether an array can be `primal`'s tangent as it is: the same shape, and its elements at the
    same places in a memory of the same size (strides may differ along a dim of size 1). Tangents are kept so, as
    in PyTorch: an in-place op can then write into one, and a view's tangent is the same view of its base's."""
    if tangent.shape != primal.shape:
        return False
    owners = tangent.base is None and primal.base is None  # (arrays that own their memory start it, and fill it)
    if owners and tangent.strides == primal.strides:  # the usual case: two results of ops
        return True
    if not owners:
        (t_at, t_memory), (p_at, p_memory) = _in_memory(tangent), _in_memory(primal)
        if t_memory.nbytes // tangent.itemsize != p_memory.nbytes // primal.itemsize:
            return False
        if t_at // tangent.itemsize != p_at // primal.itemsize and primal.size:
            return False
    return not primal.size or all(n == 1 or s // tangent.itemsize == q // primal.itemsize
                                  for n, s, q in zip(primal.shape, tangent.strides, primal.strides))


def zeros_laid_out_like(p):
    """Zeros of the layout of array `p` (see `same_layout`): for a view, in a memory the size of its base's."""
    if p.base is None:
        return np.zeros_like(p)  # (the same strides: an array that owns its memory is contiguous)
    at, memory = _in_memory(p)
    return np.ndarray(p.shape, p.dtype, buffer=np.zeros(memory.nbytes // p.itemsize, p.dtype), offset=at,
                      strides=p.strides)


def laid_out_like(primal, tangent):
    """`tangent` copied into zeros laid out as `primal`: PyTorch's tangent for a primal whose layout it does not
    have. The `copy_` is recorded where grad mode is on and the tangent requires grad, as PyTorch's is."""
    copy = _wrap(zeros_laid_out_like(primal._data))
    if grad_mode.enabled and tangent._requires_grad:
        return copy.copy_(tangent)
    np.copyto(copy._data, tangent._data)
    copy._vc[0] = 1  # (written once, as by copy_)
    return copy


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


def _warn_user(message):
    """A UserWarning that points at the user's line: the first caller outside autograd_lite."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "autograd_lite":
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


from .batching import BatchedTensor, apply_batched, elementwise  # noqa: E402  (last: it uses the op families)
