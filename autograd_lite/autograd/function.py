r"""`autograd.Function`: write your own differentiable op, with PyTorch's API.

A subclass gives the op's computation and its rules as static methods::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):                 # tensors in, a tensor out; nothing is recorded in here
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):             # one gradient per input of forward (None for non-tensors)
            (x,) = ctx.saved_tensors
            return grad * 2 * x

        @staticmethod
        def jvp(ctx, x_t):                   # optional: the forward-mode rule, one tangent per input
            (x,) = ctx.saved_tensors
            return 2 * x * x_t

    y = Square.apply(x)                      # y.grad_fn is a SquareBackward node

How it sits on the engine. `ctx` *is* the node: `apply` makes an instance of `SquareBackward`, a
`Node` subclass generated once per Function subclass (as `Op.__init_subclass__` does for built-in
ops), lets `forward` fill it, and, if an input requires grad, connects it to the graph with the same
`record_node` that `Op.apply` uses, so it becomes `y.grad_fn`; tangents are computed by the same
`run_forward_rule`. The engine calls `node.op.vjp(node, *grads)` on every
node; for a custom Function `op` is a small adapter whose `vjp` calls the user's `backward` and
checks what it returned (how many gradients, their types and shapes) with PyTorch's error messages.
The engine itself is unchanged: broadcasting, dtype casts, freeing and retain_graph work as for
any op.

`backward` is written with tensor operations, so with `create_graph=True` it is recorded and can be
differentiated again (double backward) — provided it does not drop down to numpy.

`forward` may return a tuple: every tensor output then has this node as `grad_fn` (told apart by
`output_nr`), and `backward` receives one gradient per output, zeros for an output that received none
(None with `ctx.set_materialize_grads(False)`). `ctx.mark_non_differentiable` and `ctx.mark_dirty` (an
input changed in place by `forward`, returned as an output) behave as PyTorch's.

Difference from PyTorch: in `jvp`, `ctx.saved_tensors` gives the tensors of `save_for_forward` if it was
called, else those of `save_for_backward` (PyTorch gives the latter only when a graph is being recorded).
"""
import functools
import inspect

import numpy as np

from .. import grad_mode
from ..grad_mode import attach_tangent, forward_ad_state
from ..graph import FREED_MESSAGE, Node, PackedTensor, SavedTensor, check_version, modified_message, pack, saved_hooks
from ..ops import record_node, run_forward_rule, unpack_saved
from ..tensor import Tensor, _wrap

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]

class _Output:
    """Stands, among the saved tensors, for output `k` of the op (rebuilt when read: no cycle)."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


class FunctionCtx:
    """What `forward`, `backward` and `jvp` may call on `ctx` (mixed into every custom node class)."""

    __slots__ = ()

    def save_for_backward(self, *tensors):
        """Keep `tensors` (inputs, the output, or tensors made in forward; None allowed) for `backward`,
        read back as `ctx.saved_tensors`. Their version is recorded when forward ends: a later in-place
        change makes reading them an error instead of a wrong gradient."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        """Keep `tensors` for `jvp` (read as `ctx.saved_tensors` inside `jvp`)."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_forward expects all arguments to be tensors; but argument {i} is of "
                                f"type {type(t).__name__}.")
        self._for_forward = tensors

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient (indices, masks): they get no grad_fn. `backward` still
        receives a gradient for each (zeros, or None without materialized grads)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """Whether `backward` gets zeros (True, the default) or None for outputs that received no gradient."""
        self._materialize = bool(value)

    def mark_dirty(self, *tensors):
        """Declare inputs that `forward` changed in place: each must be returned as an output, and becomes
        that output (the same tensor, its version bumped, its history now this node)."""
        self._dirty = tensors


class BackwardCFunction(FunctionCtx, Node):
    """Base of the generated `<Name>Backward` node classes: the `ctx` of a custom Function."""

    __slots__ = ("_to_save", "_for_forward", "_non_differentiable", "_materialize", "_in_jvp", "_arg_metas",
                 "_output_metas", "_dirty")
    _forward_cls = None  # the user's Function subclass; set on each generated class

    def __init__(self):
        Node.__init__(self)
        self._to_save = None
        self._for_forward = None
        self._non_differentiable = ()
        self._dirty = ()
        self._materialize = True
        self._in_jvp = False

    def __repr__(self):
        return f"<autograd_lite.autograd.function.{type(self).__name__} object at {id(self):#x}>"

    @property
    def saved_tensors(self):
        """The tensors given to `save_for_backward`, after checking they were neither freed nor modified."""
        if self._in_jvp and self._for_forward is not None:
            return self._for_forward
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(FREED_MESSAGE)
            return ()
        return tuple([self._read_saved(i) for i in range(len(saved))])

    @property
    def _raw_saved_tensors(self):
        """One `SavedTensor` per value given to `save_for_backward` (hooks can be registered on each)."""
        if self._saved is None and self._freed:
            raise RuntimeError(FREED_MESSAGE)
        return tuple([SavedTensor(self, i) for i in range(len(self._saved or ()))])

    def _read_saved(self, i):
        """Saved value `i`: an output rebuilt, a packed tensor unpacked, an input checked for in-place changes."""
        value = self._saved[i]
        if type(value) is _Output:
            return self._output(value.k)
        if type(value) is PackedTensor:
            return unpack_saved(value, self)
        if value is not None:
            check_version(value, self._save_versions[i])
        return value

    def _output(self, k):
        """Output `k`, rebuilt from its data and version counter and connected to this node (as PyTorch
        unpacks a saved output), so that a backward using it can be differentiated again."""
        data, vc, version = self._out[k]
        if vc[0] != version:
            raise RuntimeError(modified_message(data.dtype, data.shape, vc[0], version, self.op.name))
        t = _wrap(data, vc)
        if self._seq is not None:
            t._requires_grad, t._grad_fn = True, self
            if self._n_outputs > 1:
                t._output_nr = k
        tangent = (self._out_tangent or {}).get(k)
        if tangent is not None and forward_ad_state.active:
            attach_tangent(t, tangent)
        return t


class _FunctionOp:
    """The `op` of a custom node: what the engine calls (`op.vjp(node, grad)`), adapted to the user's
    `backward`, whose result is checked here with PyTorch's messages."""

    name = None  # the Function's class name ("which is output 0 of Square" in the in-place message)
    save_inputs = save_output = False  # saved values live in the node's own slots (see saved_tensors)
    differentiable = True
    is_view = False

    @staticmethod
    def vjp(ctx, *grad_outputs):
        fn = ctx._forward_cls
        user = fn.vjp if fn.vjp is not Function.vjp else fn.backward
        if ctx._materialize:  # zeros for the outputs that received no gradient (and the non-differentiable)
            grad_outputs = [g if g is not None or meta is None else _wrap(np.zeros(*meta))
                            for g, meta in zip(grad_outputs, ctx._output_metas)]
        grads = user(ctx, *grad_outputs)
        if not isinstance(grads, tuple):
            grads = (grads,)
        metas = ctx._arg_metas  # one per argument of forward (None for non-tensors)
        expected, got = len(metas), len(grads)
        if got > expected and all(g is None for g in grads[expected:]):
            grads, got = grads[:expected], expected  # PyTorch allows trailing Nones
        if got != expected:
            raise RuntimeError(f"function {ctx.name()} returned an incorrect number of gradients "
                               f"(expected {expected}, got {got})")
        for i, (g, meta) in enumerate(zip(grads, metas)):
            if g is None:
                continue
            if not isinstance(g, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if meta is None:
                raise RuntimeError(f"function {ctx.name()} returned a gradient different than None at position "
                                   f"{i + 1}, but the corresponding forward input was not a Variable")
            shape = meta[0]
            if g._data.shape != shape and not _expandable(shape, g._data.shape):
                raise RuntimeError(f"Function {ctx.name()} returned an invalid gradient at index {i} - got "
                                   f"{list(g._data.shape)} but expected shape compatible with {list(shape)}")
        # the node's edges are its tensor inputs only (as PyTorch's next_functions): keep their gradients
        return tuple([g for g, meta in zip(grads, metas) if meta is not None])

    @staticmethod
    def jvp(ctx, *tangents):
        """The user's `jvp`, given None for the arguments that are not tensors (as PyTorch gives)."""
        tangents = [t if isinstance(t, Tensor) else None for t in tangents]
        ctx._in_jvp = True  # ctx.saved_tensors then gives save_for_forward's tensors
        try:
            tangent = ctx._forward_cls.jvp(ctx, *tangents)
        finally:
            ctx._in_jvp = False
        if isinstance(tangent, tuple) and len(tangent) == 1:
            tangent = tangent[0]
        return tangent

    @staticmethod
    def fit_tangent(ctx, tangent, result):
        """Check the user's tangent with PyTorch's messages (it is not broadcast, as a built-in op's is)."""
        if not isinstance(tangent, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(tangent).__name__})")
        if tangent.shape != result.shape:
            raise RuntimeError(f"Function {ctx._forward_cls.__name__} returned an invalid tangent - got {list(tangent.shape)} but "
                               f"expected shape {list(result.shape)}")
        if tangent._data.dtype != result._data.dtype:
            tangent = tangent.to(result.dtype)
        return tangent


def _expandable(shape, to):
    """Can a tensor of `shape` be broadcast to `to`? (Then the engine sums a gradient of shape `to` back.)"""
    try:
        return np.broadcast_shapes(shape, to) == tuple(to)
    except ValueError:
        return False


class Function:
    """Base class for custom differentiable ops: subclass it, define static `forward` and `backward`
    (and optionally `jvp`), and call `MyFn.apply(*args)`. See the module docstring."""

    _backward_cls = None
    _signature = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        op = type(cls.__name__, (_FunctionOp,), {"name": cls.__name__, "__module__": __name__})
        cls._backward_cls = type(f"{cls.__name__}Backward", (BackwardCFunction,),
                                 {"__slots__": (), "op": op, "_forward_cls": cls, "__module__": __name__})
        cls._signature = None

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward  # PyTorch's other name for backward: a subclass may define either

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @classmethod
    def _bind(cls, args, kwargs):
        """Positional arguments of forward, keywords and defaults included (as PyTorch binds them): the
        node has one input, and backward returns one gradient, per parameter of forward after ctx."""
        sig = cls._signature
        if sig is None:
            sig = cls._signature = inspect.signature(cls.forward)
        bound = sig.bind(None, *args, **kwargs)
        if bound.kwargs:  # keyword-only parameters cannot be inputs of the node
            raise TypeError(f"forward() got an unexpected keyword argument '{next(iter(bound.kwargs))}'")
        bound.apply_defaults()
        return bound.args[1:]

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run `forward` on the arguments; if an input requires grad, record a node whose rule is `backward`;
        if an input carries a forward-mode tangent, compute the output's tangent with `jvp`."""
        if cls._backward_cls is None:
            raise NotImplementedError("You must implement the forward function for custom autograd.Function.")
        args = cls._bind(args, kwargs)
        record = dual = False
        for a in args:
            if isinstance(a, Tensor):
                record = record or a._requires_grad
                dual = dual or a._tangent is not None
        record = record and grad_mode.enabled
        dual = dual and forward_ad_state.active
        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple([record and isinstance(a, Tensor) and a._requires_grad for a in args])

        # forward sees plain values: no recording and no tangents, whatever the user's code does inside
        previous = grad_mode.enabled, forward_ad_state.active
        grad_mode.enabled = forward_ad_state.active = False
        try:
            out = cls.forward(ctx, *args)
        finally:
            grad_mode.enabled, forward_ad_state.active = previous

        outs = out if isinstance(out, tuple) else (out,)
        if not any(isinstance(o, Tensor) for o in outs):
            return out  # as PyTorch: a result without tensors is returned as it is, with nothing recorded
        results = _results(ctx, args, outs, record)
        differentiable = [isinstance(r, Tensor) and r._data.dtype.kind in "fc"
                          and not any(o is t for t in ctx._non_differentiable) for r, o in zip(results, outs)]
        ctx._dirty = ctx._non_differentiable = ()  # used: kept, they would hold outputs whose grad_fn is ctx
        record = record and any(differentiable)
        dual = dual and any(differentiable)
        _save(ctx, args, outs, results)
        if record:
            # edges for the tensor arguments only (as PyTorch's next_functions); _arg_metas keeps one entry per
            # argument, for checking what backward returns; _output_metas one per output, for zero gradients
            ctx._arg_metas = tuple([(a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None for a in args])
            ctx._output_metas = tuple([(r._data.shape, r._data.dtype) if isinstance(r, Tensor) else None
                                       for r in results])
            first = differentiable.index(True)
            record_node(ctx, args, results[first], tensors_only=True)
            ctx._n_outputs = len(results)
            for k, (result, keep) in enumerate(zip(results, differentiable)):
                if keep:
                    result._requires_grad, result._grad_fn = True, ctx
                    result._output_nr = k if len(results) > 1 else None
        if dual:
            _push_tangents(ctx, args, results, differentiable)
        if record and saved_hooks and ctx._saved:
            _pack_saved(ctx, results)
        return results if isinstance(out, tuple) else results[0]


_LEAF_MODIFIED = "a leaf Variable that requires grad has been used in an in-place operation."
_DIRTY_NOT_RETURNED = ("Some elements marked as dirty during the forward method were not returned as output. The "
                       "inputs that are modified inplace must all be outputs of the Function.")


def _results(ctx, args, outs, record):
    """The tensors `apply` returns for what `forward` returned. An input marked dirty (changed in place by
    forward) is returned as itself, its version bumped, its history to become this node's; any other input
    or tensor with a history of its own is returned as a new tensor sharing its memory and version counter,
    so that its own grad_fn is left untouched."""
    dirty = ctx._dirty
    for t in dirty:
        if not any(t is o for o in outs):
            raise RuntimeError(_DIRTY_NOT_RETURNED)
    results = []
    for o in outs:
        if not isinstance(o, Tensor):
            results.append(o)
        elif any(o is t for t in dirty):
            if record and o.grad_fn is None and o._requires_grad:
                raise RuntimeError(_LEAF_MODIFIED)
            o._vc[0] += 1  # as PyTorch's mark_dirty
            results.append(o)
        elif any(o is a for a in args) or o.grad_fn is not None or o._requires_grad:
            result = _wrap(o._data, o._vc)
            if any(o is a for a in args):
                result._base = o._base if o._base is not None else o
            results.append(result)
        else:
            results.append(o)
    return results


def _push_tangents(ctx, args, results, differentiable):
    """The user's `jvp` on the inputs' tangents: one tangent per output (a single one for one output)."""
    op = type(ctx).op
    tangents = run_forward_rule(op, ctx, args)
    if len(results) == 1:
        tangents = (tangents,)
    elif not isinstance(tangents, tuple) or len(tangents) != len(results):
        raise RuntimeError(f"function {ctx.name()} returned an incorrect number of forward grads "
                           f"(expected {len(results)}, got {len(tangents) if isinstance(tangents, tuple) else 1})")
    for k, (result, tangent, keep) in enumerate(zip(results, tangents, differentiable)):
        if keep and tangent is not None:
            tangent = op.fit_tangent(ctx, tangent, result)
            attach_tangent(result, tangent)
            if ctx._out is not None and k in ctx._out:  # a saved output carries its tangent when read back
                ctx._out_tangent = {**(ctx._out_tangent or {}), k: tangent}


def _save(ctx, args, outs, results):
    """Turn `save_for_backward`'s tensors into the node's saved values, noting each one's version now. An
    output returned as itself (made in forward, or an input marked dirty) is kept as its data and version
    counter, rebuilt when read: stored as a tensor, it would hold this node (a cycle)."""
    to_save = ctx._to_save
    if to_save is None:
        return
    ctx._to_save = None
    saved, versions, kept = [], [], {}
    for t in to_save:
        k = next((k for k, o in enumerate(outs) if t is o), None) if t is not None else None
        if t is None:
            saved.append(None)
            versions.append(None)
        elif k is not None and results[k] is t:  # an output returned as itself (made in forward, or dirty)
            saved.append(_Output(k))
            versions.append(None)
            kept[k] = (results[k]._data, results[k]._vc, results[k]._vc[0])
        else:
            saved.append(t)
            versions.append(t._vc[0])
    ctx._saved = tuple(saved)
    ctx._save_versions = tuple(versions)
    ctx._out = kept or None


def _pack_saved(ctx, results):
    """Pack what `save_for_backward` kept, in its order, with the innermost saved-tensor hooks. A saved output
    is given to `pack_hook` as the output that `apply` returns (this node its grad_fn), as in PyTorch."""
    pack_hook, unpack_hook = saved_hooks[-1]
    saved = []
    for value in ctx._saved:
        if type(value) is _Output:
            value = pack(results[value.k], pack_hook, unpack_hook, output_nr=value.k)
        elif value is not None:
            value = pack(value, pack_hook, unpack_hook, place=value)
        saved.append(value)
    ctx._saved, ctx._save_versions, ctx._out = tuple(saved), (None,) * len(saved), None


def once_differentiable(fn):
    """Decorate a `backward` that cannot be differentiated again (it uses numpy, say): it runs without
    recording, so its gradients have no history (a double backward through it then fails instead of
    silently using a rule that was never differentiated)."""
    @functools.wraps(fn)
    def wrapper(ctx, *grad_outputs):
        with grad_mode.no_grad():
            return fn(ctx, *grad_outputs)

    return wrapper
