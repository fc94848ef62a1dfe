"""The tracer: run a function once, eagerly, and write down every op it ran (forward AND backward).

Every op of autograd_lite, and every rule the engine runs in backward, goes through `Op.apply`
(ops/op.py). While tracing, `apply` is wrapped: the wrapper notes the op, its inputs and its options in
a list of `Step`s, then lets the op run as usual. The values are real numpy arrays, so the tracer knows
every shape and dtype; it tells values apart by *identity* (`id` of the array): an array an op returns
is that step's output; an array no step returned is either an input of the function or a constant.

This is *tracing by running*, as `jax.jit` and TorchDynamo's graph capture do: Python control flow is
not recorded, only the path that was taken. So the tracer also watches the places where a traced value
leaves the world of tensors and steers Python:

* `bool(t)` (an `if` on a tensor): the answer is kept as a **guard**; the compiled code checks it and
  traces again if a later call would branch the other way.
* `t.item()`, `float(t)`, `int(t)`, `t.tolist()`, `t.numpy()`: a clear error naming the line (the number
  would be frozen into the compiled code).
* random ops: a clear error naming the line.

In-place ops (`b.mul_(y)`, `b[1:] = v`, `relu_`) are written down as values (functionalise.py): each write
is a `Bind` (from here on, this array holds that value) and new values for the arrays that share its memory.
"""
import importlib
import sys
from contextlib import contextmanager

import numpy as np

from .. import engine, factories
from .. import ops as _ops
from ..ops import copies, indexing
from ..ops import op as _op
from ..ops.batching import BatchedTensor
from ..tensor import Tensor
from . import functionalise

# the modules themselves (the package's `tensor` and `random` attributes are the functions of those names)
_tensor = importlib.import_module("..tensor", __package__)
_random = importlib.import_module("..random", __package__)
_init = importlib.import_module("..nn.init", __package__)  # its random draws (nn.Linear's weights) call _rng too


class CompileError(RuntimeError):
    """Raised when `autograd_lite.compile` cannot turn a function into code that gives eager's answer."""


class Step:
    """One op the traced run executed: `outputs = op(*inputs, **options)`.

    `inputs` and `options` hold arrays, numbers and settings as the op received them; `where` says where it
    came from (a line of the user's code, or the rule of a node in backward)."""

    __slots__ = ("inputs", "node", "op", "options", "results", "where")

    def __init__(self, op, inputs, options, where):
        self.op, self.inputs, self.options, self.where = op, inputs, options, where
        self.results, self.node = None, None

    def arrays(self):
        return [a for a in (*self.inputs, *self.options.values(), *(self.results or ())) if isinstance(a, np.ndarray)]

    def made(self):
        return self.results or ()

    def replace(self, copies):
        """Each array of `copies` ({id: copy}) replaced by its copy (see functionalise.py)."""
        self.inputs = [copies.get(id(a), a) if isinstance(a, np.ndarray) else a for a in self.inputs]
        self.options = {k: copies.get(id(v), v) if isinstance(v, np.ndarray) else v for k, v in self.options.items()}
        if self.results is not None:
            self.results = [copies.get(id(a), a) for a in self.results]


class Guard:
    """`bool(value)` was `answer` when traced, at `where`: the compiled code checks it again."""

    __slots__ = ("answer", "value", "where")

    def __init__(self, value, answer, where):
        self.value, self.answer, self.where = value, answer, where

    def arrays(self):
        return [self.value]

    def made(self):
        return ()

    def replace(self, copies):
        self.value = copies.get(id(self.value), self.value)


class Bind:
    """From here on, the array `array` holds the value of the array `value` (an in-place op wrote it there, or
    `array` is a copy of it): no code, the name of `value` stands for both."""

    __slots__ = ("array", "value")

    def __init__(self, array, value):
        self.array, self.value = array, value

    def arrays(self):
        return [self.array, self.value]

    def made(self):
        return (self.array,)

    def replace(self, copies):
        self.array, self.value = copies.get(id(self.array), self.array), copies.get(id(self.value), self.value)


_PACKAGE = __name__.split(".")[0]


def user_line():
    """`file:line` of the innermost frame outside autograd_lite: the user's line that is running."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == _PACKAGE:
        frame = frame.f_back
    if frame is None:
        return "?"
    filename = frame.f_code.co_filename
    if "ipykernel" in filename or filename.startswith("<ipython"):  # a notebook cell: its file name is a hash
        return f"cell line {frame.f_lineno}"
    return f"{filename.rsplit('/', 1)[-1]}:{frame.f_lineno}"


class Tracer:
    """Collects the steps (and guards, and binds) of one run. Use `with tracer.recording(): fn(*args)`."""

    def __init__(self, light=False, inputs=()):
        self.light = light  # a check run: no comments (`where`) and no versions needed
        self.inputs = inputs  # the function's input arrays (never written into: see functionalise.py)
        self.created = set()  # ids of the arrays that factories (zeros, tensor, ...) made during the run
        self.steps = []  # Steps, Guards and Binds, in the order they happened
        self.memory = None  # made at the first in-place op (functionalise.Memory)
        self.stale = {}  # id(array) -> (array, ...): a view an in-place op changed, to be read again when next used
        self.rule = None  # the node whose rule (vjp or jvp) is running, if any
        self.versions = {}  # id(array) -> (version counter, version, where) of each tensor an op read, when first read

    def where(self):
        if self.light:
            return None
        if self.rule is not None:
            return self.rule
        return user_line()

    # -- the wrappers that are switched in while recording ------------------------------------------
    def wrap_apply(self, original):
        tracer = self

        def apply(cls, *inputs, **options):
            for a in (*inputs, *options.values()):
                if a.__class__ is BatchedTensor:  # inside vmap: the physical ops it runs are recorded
                    return original(cls, *inputs, **options)
            if tracer.stale:
                tracer.fresh(*inputs)
            if not tracer.light:
                for a in inputs:
                    if isinstance(a, Tensor) and id(a._data) not in tracer.versions:  # its version when first read
                        tracer.versions[id(a._data)] = (a._vc, a._vc[0], tracer.where())
            step = Step(cls, [a._data if isinstance(a, Tensor) else a for a in inputs], dict(options), tracer.where())
            tracer.steps.append(step)  # before running: ops run *inside* this one (forward rules) come after
            result = original(cls, *inputs, **options)
            results = result if isinstance(result, tuple) else (result,)
            step.results = [r._data for r in results]
            step.node = results[0].grad_fn if results[0]._requires_grad else None
            return result

        return classmethod(apply)

    def labelled(self, original, label):
        """`original` (an engine step) run with `self.rule` set to `label(*args)`: the ops it runs are marked as
        coming from that rule in the generated code's comments."""
        tracer = self

        def run(*args):
            outer, tracer.rule = tracer.rule, label(*args)
            try:
                return original(*args)
            finally:
                tracer.rule = outer

        return run

    def wrap_compare(self, original):
        tracer = self

        def compare(ufunc, a, b):  # `x > 0`, `x == y`: not an op in eager mode, but a step of the trace
            if tracer.stale:
                tracer.fresh(a, b)
            step = Step(ufunc, [a._data, b._data if isinstance(b, Tensor) else b], {}, tracer.where())
            tracer.steps.append(step)
            result = original(ufunc, a, b)
            step.results = [result._data]
            return result

        return compare

    def wrap_bool(self, original):
        tracer = self

        def __bool__(t):
            answer = original(t)
            if tracer.stale:
                tracer.fresh(t)
            tracer.steps.append(Guard(t._data, answer, user_line()))
            return answer

        return __bool__

    def wrap_inplace(self, original):
        """`copies.inplace` (every in-place op runs it), with the write written down as values."""
        tracer = self

        def inplace(x, op, other, *, reads=True):
            if x.__class__ is BatchedTensor or other.__class__ is BatchedTensor:
                return original(x, op, other, reads=reads)  # it runs `inplace` on the physical tensors
            where = tracer.where()

            def written(old, other):  # what `inplace` runs: `op` on x's values, before the result is copied into x
                if old is not x:  # a copy of x's values (or, for a view, its values read from its base)
                    tracer.fresh(x)
                    tracer.bind(old._data, x._data)
                result = op(old, other)
                if tracer.memory is None:
                    tracer.memory = functionalise.Memory(tracer)
                tracer.memory.write(x._data, result._data, where)
                return result

            return original(x, written, other, reads=False if op is copies.fill else reads)

        return inplace

    def wrap_write_tangent(self, original):
        """`views.write_tangent` (forward mode: an in-place op's tangent written into x's, and into its base's and
        views' tangents, with numpy), with those new tangents written down as values."""
        tracer = self

        def write_tangent(x, tangent):
            base = x._base if x._base is not None else x
            before = base._tangent._data if base._tangent is not None else np.zeros_like(base._data)  # (a constant)
            original(x, tangent)
            functionalise.wrote_tangent(tracer, x, base, before, tracer.where())

        return write_tangent

    def wrap_new(self, original):
        """A factory's `_new`, noting the arrays made inside the traced function (they may be written into)."""
        tracer = self

        def new(arr, requires_grad):
            t = original(arr, requires_grad)
            tracer.created.add(id(t._data))
            return t

        return new

    def wrap_accumulate(self, original):
        """The engine's `accumulate_grad` (backward filling `.grad`): refused for a tensor the function did not make,
        a side effect the compiled code would not repeat."""
        tracer = self

        def accumulate_grad(variable, grad, create_graph):
            if not tracer.made_here(variable._data):
                raise CompileError(f"compile: backward() at {user_line()} fills .grad of a tensor the function did "
                                   "not create (an input or a closure's tensor): the compiled code would not repeat that "
                                   "side effect. Compile a function that returns the gradient instead: "
                                   "compile(func.grad_and_value(loss)), or torch.autograd.grad(loss, params)")
            return original(variable, grad, create_graph)

        return accumulate_grad

    def made_here(self, array):
        """Whether a traced op or a factory made `array` during this run."""
        return id(array) in self.created or any(
            step.__class__ is Step and any(r is array for r in step.results or ()) for step in self.steps)

    def fresh(self, *tensors):
        """Make sure the record holds the current value of each tensor an in-place op changed (see functionalise.py)."""
        for t in tensors:
            if isinstance(t, Tensor) and id(t._data) in self.stale:
                self.memory.read(t._data)

    def bind(self, array, value):
        """From here on, `array` holds the value of `value` (see Bind)."""
        self.steps.append(Bind(array, value))

    def refuse_write(self, why):
        raise CompileError(f"compile: an in-place op at {user_line()} {why}.")

    def record(self, op, inputs, options, result, where):
        """Append a step that the tracer itself works out (see functionalise.py); return its result."""
        step = Step(op, inputs, options, where)
        step.results = [result]
        self.steps.append(step)
        return result

    # -- recording ----------------------------------------------------------------------------------
    @contextmanager
    def recording(self):
        """Switch the wrappers in for the duration of the `with` block (and always switch them out)."""
        patches = [(_op.Op, "apply", self.wrap_apply(_op.Op.__dict__["apply"].__func__)),
                   (_op.MultiOutputOp, "apply", self.wrap_apply(_op.MultiOutputOp.__dict__["apply"].__func__)),
                   (engine, "call_rule", self.labelled(engine.call_rule, lambda node, *_: ("vjp", node))),
                   (engine, "route", self.labelled(  # the engine fits and adds up the gradients of node's inputs
                       engine.route, lambda node, *_: ("engine: gradients to the inputs", node))),
                   (_op, "run_forward_rule", self.labelled(_op.run_forward_rule, lambda op, *_: ("jvp", op.name))),
                   (_tensor, "_compare", self.wrap_compare(_tensor._compare)),
                   (Tensor, "__bool__", self.wrap_bool(Tensor.__bool__)),
                   (_random, "_rng", _refuse(_random._rng, "random numbers", _RANDOM)),
                   (_init, "_rng", _refuse(_init._rng, "random numbers", _RANDOM)),
                   (engine, "accumulate_grad", self.wrap_accumulate(engine.accumulate_grad)),
                   (factories, "_new", self.wrap_new(factories._new)),
                   (_tensor, "_new", self.wrap_new(_tensor._new))]
        patches.append((copies, "write_tangent", self.wrap_write_tangent(copies.write_tangent)))
        inplace = self.wrap_inplace(copies.inplace)
        patches += [(copies, "inplace", inplace), (_ops, "inplace", inplace), (indexing, "inplace", inplace)]
        for name in _TO_PYTHON:
            patches.append((Tensor, name, _refuse(Tensor.__dict__[name], f"`{name.strip('_')}()` of a tensor", _NUMBER)))
        saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
        try:
            for owner, name, new in patches:
                setattr(owner, name, new)
            yield self
        finally:
            for owner, name, old in saved:
                setattr(owner, name, old)


_TO_PYTHON = ("item", "__float__", "__int__", "tolist", "numpy")
_NUMBER = ("the number would be frozen into the compiled code; keep it a tensor (torch.where makes a choice "
           "without Python's `if`), or compute it outside the compiled function")
_RANDOM = "the compiled code would repeat the same numbers at every call; draw them outside and pass them in"


def _refuse(original, what, advice):
    """A stand-in for `original` that raises when called from the user's code (the package's own calls pass)."""
    def refuse(*args, **kwargs):
        inside = sys._getframe(1).f_globals.get("__name__", "").split(".")[0] == _PACKAGE
        if inside and original.__name__ in _TO_PYTHON:
            return original(*args, **kwargs)
        raise CompileError(f"compile: {what} at {user_line()} cannot be traced: {advice}.")

    return refuse


def run(fn, args, inputs, quiet=False):
    """Run `fn(*args)` under a tracer: return (tracer, result). `inputs`: the arrays of the tensors in `args`.
    `quiet`: numpy's warnings off (a check run)."""
    tracer = Tracer(light=quiet, inputs=inputs)
    with tracer.recording(), np.errstate(**({"all": "ignore"} if quiet else {})):
        result = fn(*args)
        if tracer.stale:  # a result (two levels deep at most) that an in-place op changed since it was last read
            for item in _items(result):
                tracer.fresh(*_items(item))
    return tracer, result


def _items(x):
    return x.values() if type(x) is dict else x if type(x) in (tuple, list) else (x,)

