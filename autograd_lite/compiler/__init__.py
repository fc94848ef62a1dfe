r"""`autograd_lite.compile(fn)`: trace a function of tensors once, run it afterwards as generated numpy code.

::

    loss = lambda w, x, y: ((x @ w - y) ** 2).mean()
    step = autograd_lite.compile(func.grad_and_value(loss))
    g, value = step(w, x, y)     # first call: traced (forward AND backward), code generated
    g, value = step(w2, x, y)    # same shapes, dtypes and requires_grad: the generated code runs
    print(step.code)             # the code, one line per op

How it works, in five files (each small enough to read in one sitting):

* tracer.py   runs `fn` once eagerly and writes down every op it ran, the engine's backward rules
              included (a gradient transform runs the engine, so its backward is traced like the forward);
* functionalise.py  writes an in-place op down as values (`b.mul_(y)`: from then on b *is* the product;
              the base of a written view gets `Overwrite(base, values, at=...)`), so the code never mutates;
* program.py  turns that record into instructions over named values (``x0`` inputs, ``c0`` constants,
              ``t0`` computed values);
* passes.py   dead-code elimination, common subexpressions, constant folding, buffer reuse;
* codegen.py  writes the instructions out as a Python function of numpy calls and compiles it.

**Guards.** The code is specialised to what the trace saw: the inputs' shapes, dtypes and
`requires_grad`, the non-tensor arguments, the branches an `if` on a tensor took, the version of
each tensor the function read from its closure, and the values of integer inputs (class targets,
indices) when the code depends on them in a way the tracer cannot follow (`check_integers`). A call
that differs in any of these traces again (as `torch.compile` recompiles): one generated function is kept per signature (up to `MAX_TRACES`).

**In-place ops** (`b += y`, `b[1:] = v`, `relu_`, `fill_`, ...) on tensors that `fn` makes itself (an op's
result, or a factory's: `zeros`, `tensor`, ...), directly or through a view, give eager's values and
gradients: the generated code computes the same values without writing into any array (functionalise.py).
Eager's own errors stay (a tensor saved for backward and then changed in place raises PyTorch's "modified by
an inplace operation" at the first call, since the trace runs eagerly). An in-place op on an **input** of
the compiled function (or a view of one), or on a tensor `fn` reads from outside (its closure), is a
`CompileError` naming the line: the compiled code never changes its arguments, and eager would (where
`torch.compile` copies the new values back into the input, this compiler refuses: write into `x.clone()`
made inside `fn`, or return the new value).

**Honest limits** (each one a `CompileError` naming the line, never a silently wrong answer):
random numbers (nn.init's too: build modules outside), in-place ops on inputs (above), turning a traced
tensor into a Python number (`.item()`, `float()`, `.tolist()`, `.numpy()`) inside `fn`, side effects on
tensors `fn` did not make (`backward()` filling an input's or a closure's `.grad`, an optimizer's `step()`,
`nn.init` or `.data` writes: the generated code returns values and would not repeat them; compile
`func.grad_and_value(loss)` and update outside); and values the tracer cannot see being
computed (a mask worked out with numpy from a tensor's data, in the user's code or in an op's rule): a
second trace with other input values finds them, and the error names the op that read one. The results
are plain tensors with no `grad_fn`: compile the gradient (`compile(func.grad(f))`), not a function you
will call `.backward()` on.
"""
import gc

import numpy as np

from .. import grad_mode
from ..tensor import Tensor, _wrap
from . import codegen, program, tracer
from . import passes as _passes
from .codegen import RETRACE
from .passes import PASSES
from .tracer import CompileError

__all__ = ["PASSES", "CompileError", "Compiled", "compile"]

MAX_TRACES = 8  # generated functions kept per signature before falling back to eager (torch: cache_size_limit)


def compile(fn=None, *, passes=PASSES, check=True):
    """`fn` compiled: traced at its first call for each signature of its arguments, then generated code.

    `passes`: the optimisations to run (a subset of `("dce", "cse", "fold", "reuse")`; `()` for none).
    `check`: trace a second time with other input values, to find values the tracer could not follow."""
    if fn is None:
        return lambda f: Compiled(f, passes, check)
    return Compiled(fn, passes, check)


class Compiled:
    """A compiled function: call it like `fn`. `.code` is the source of the last generated function."""

    def __init__(self, fn, passes=PASSES, check=True):
        unknown = set(passes) - set(PASSES)
        if unknown:
            raise ValueError(f"compile: unknown passes {sorted(unknown)}; the passes are {PASSES}")
        self.fn, self.passes, self.check = fn, tuple(passes), check
        self.cache = {}  # signature -> [Entry, ...]
        self.traces = []  # every Entry made, in order
        self.__name__ = getattr(fn, "__name__", "compiled")
        self.__doc__ = getattr(fn, "__doc__", None)

    @property
    def code(self):
        """The generated source of the most recent trace."""
        if not self.traces:
            raise RuntimeError("compile: nothing traced yet; call the compiled function once first")
        return self.traces[-1].code

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f"compile: pass the arguments by position (got keyword arguments {sorted(kwargs)}); "
                            "for settings, use functools.partial or a lambda around the function before compiling")
        arrays, key = signature(args)
        entries = self.cache.get(key)
        if entries is None:
            entries = self.cache[key] = []
        for entry in entries[:]:
            if entry.versions and entry.stale():
                entries.remove(entry)
                continue
            if entry.exact and not entry.matches(arrays):
                continue
            out = entry.run(*arrays)
            if out is not RETRACE:
                return out
        if len(entries) >= MAX_TRACES:
            return self.fn(*args)  # as torch.compile does past its cache limit: eager
        collecting = gc.isenabled()
        gc.disable()  # tracing makes many small objects and no cycles worth collecting meanwhile
        try:
            entry = Entry(self.fn, args, self.passes, self.check)
        finally:
            if collecting:
                gc.enable()
        entries.append(entry)
        self.traces.append(entry)
        return entry.run(*arrays)


def signature(args):
    """(the input arrays, a hashable key): shapes, dtypes, requires_grad, the arguments' structure and the
    values of non-tensor arguments (a new value is a new signature, as PyTorch specialises on integers)."""
    arrays, key = [], [grad_mode.enabled]
    for a in args:
        if isinstance(a, Tensor):  # the usual case, first
            data = a._data
            arrays.append(data)
            key.append((data.shape, data.dtype, a._requires_grad))
            continue
        items = a if type(a) in (tuple, list) else a.values() if type(a) is dict else (a,)
        if type(a) in (tuple, list, dict):
            key.append((type(a), tuple(a) if type(a) is dict else len(a)))
        for t in items:
            if isinstance(t, Tensor):
                arrays.append(t._data)
                key.append((t._data.shape, t._data.dtype, t._requires_grad))
            elif isinstance(t, np.ndarray):  # by value, in full (a repr abbreviates large arrays)
                key.append(("array", t.shape, t.dtype, t.tobytes()))
            else:
                key.append(("value", t if t.__hash__ is not None else repr(t)))
    return arrays, tuple(key)


def fresh_args(args, values=None):
    """`args` with every tensor replaced by a new leaf tensor (on a copy of its values, or on the next of
    `values`): the trace then tells inputs apart even if the caller passed one tensor twice."""
    values = iter(values) if values is not None else None

    def fresh(t):
        if not isinstance(t, Tensor):
            return t
        new = _wrap(np.array(next(values) if values is not None else t._data, copy=True))
        new._requires_grad = t._requires_grad
        return new

    out = []
    for a in args:
        if type(a) in (tuple, list):
            out.append(type(a)(fresh(t) for t in a))
        elif type(a) is dict:
            out.append({k: fresh(t) for k, t in a.items()})
        else:
            out.append(fresh(a))
    return out


def input_tensors(args):
    found = []
    for a in args:
        items = a if type(a) in (tuple, list) else a.values() if type(a) is dict else (a,)
        found += [t for t in items if isinstance(t, Tensor)]
    return found


def _items(x):
    """(kind, keys, items) of a tuple / list / dict, or None for anything else."""
    if type(x) is dict:
        return dict, list(x), list(x.values())
    if type(x) in (tuple, list):
        return type(x), None, list(x)
    return None


def _leaf(x):
    if type(x) in (tuple, list, dict):
        raise CompileError("compile: results may be nested two levels deep at most")
    return x._data if isinstance(x, Tensor) else x


def result_structure(result):
    """(spec, leaves) of a result: a tensor or value, or a tuple / list / dict of them, two levels deep.
    spec is "leaf" or (kind, keys, [spec of each item]); leaves are arrays (for tensors) or other values."""
    outer = _items(result)
    if outer is None:
        return "leaf", [_leaf(result)]
    kind, keys, items = outer
    specs, leaves = [], []
    for item in items:
        inner = _items(item)
        if inner is None:
            specs.append("leaf")
            leaves.append(_leaf(item))
        else:
            specs.append((inner[0], inner[1], ["leaf"] * len(inner[2])))
            leaves += [_leaf(x) for x in inner[2]]
    return (kind, keys, specs), leaves


class Entry:
    """One trace of `fn` for one signature: the program, its generated function and source."""

    def __init__(self, fn, args, passes, check):
        traced_args = fresh_args(args)
        inputs = [t._data for t in input_tensors(traced_args)]
        rec, result = tracer.run(fn, traced_args, inputs)
        spec, leaves = result_structure(result)
        prog = program.lower(rec.steps, inputs, leaves)
        prog.structure = spec
        self.versions = [rec.versions[id(a)][:2] for a in prog.constants.values() if id(a) in rec.versions]
        for a in prog.constants.values():
            vc, version, where = rec.versions.get(id(a), ((0,), 0, None))
            if vc[0] != version:
                raise CompileError(
                    f"compile: a tensor the function did not create (read at {where_text(where)}) was changed during "
                    "the call by code the tracer does not see (an optimizer's step(), torch.nn.init, a write "
                    "through .data or numpy): the compiled code would not repeat that. Compile a function that "
                    "returns new values (compile(func.grad_and_value(loss)), then update the parameters outside it)")
        self.exact = []  # (position, values): integer inputs this trace is specialised to (see check_integers)
        if check:
            check_constants(fn, args, prog)
            self.exact = check_integers(fn, args, prog)
        name = "compiled_" + "".join(c if c.isalnum() else "_" for c in getattr(fn, "__name__", "fn"))
        _passes.run_passes(prog, passes, codegen.evaluate)
        codegen.presume_fixes(prog)
        for attempt in range(2):  # a second build only if the check run found a line that needs a dtype fixed
            for ins in prog.instrs:
                ins.into = None
            if "reuse" in passes:
                _passes.reuse_buffers(prog)
            self.run, self.code = codegen.build(prog, name)
            if codegen.check(prog, self.run, inputs):
                break
        else:
            raise CompileError("compile: the generated code's dtypes do not settle; please report this")
        self.program = prog

    def matches(self, arrays):
        """True unless an integer input differs from the values this trace is specialised to."""
        return all(np.array_equal(arrays[i], values) for i, values in self.exact)

    def stale(self):
        """True if a tensor the function read from its closure was changed in place since the trace."""
        return any(vc[0] != version for vc, version in self.versions)


def where_text(where):
    """A step's `where` in words: the user's line, or the rule that read the value."""
    if isinstance(where, str):
        return where
    kind, who = where
    return f"the {kind} rule of {who if isinstance(who, str) else who.name()}"


def check_constants(fn, args, prog):
    """Trace again on other input values: a constant that changes with them was computed from the inputs
    by code the tracer could not see. Raise a CompileError naming the op that read it.

    The other values: the inputs negated and rescaled, so that every sign flips and the max moves to where
    the min was (so masks, signs and indices worked out from the values change). A function that
    refuses those (a log of a negative number raises nowhere, but a probability must lie in [0, 1]) gets
    its own values shuffled and rescaled instead."""
    rng = np.random.default_rng(0)
    for negate in (True, False, False):
        values = [_other_values(t._data, rng, negate) for t in input_tensors(args)]
        try:
            fresh = fresh_args(args, values)
            inputs = [t._data for t in input_tensors(fresh)]
            rec, result = tracer.run(fn, fresh, inputs, quiet=True)
        except CompileError:
            raise
        except Exception:  # noqa: BLE001, S112 (other values may be outside the function's domain: try gentler ones)
            continue
        compare(prog, program.lower(rec.steps, inputs, result_structure(result)[1]))
        return


def check_integers(fn, args, prog):
    """The integer (and bool) inputs whose values the trace depends on: [(position, values)], to be guarded.

    Targets of a classification loss, indices, masks: an op may turn them into a constant (a one-hot matrix)
    that the tracer cannot follow. A trace with each integer input's values rotated by one place tells
    whether any constant changes; if so (or if rotating changes nothing, so that nothing can be told), the
    compiled function is specialised to those values: another batch of targets traces again, as
    `torch.compile` guards on values it specialised to. Otherwise the integers are ordinary inputs."""
    tensors = input_tensors(args)
    positions = [i for i, t in enumerate(tensors) if t._data.dtype.kind in "biu"]
    if not positions:
        return []
    values = [t._data.copy() for t in tensors]
    for i in positions:
        values[i] = np.roll(values[i], 1)
    exact = [(i, tensors[i]._data.copy()) for i in positions]
    if any(np.array_equal(values[i], tensors[i]._data) for i in positions):
        return exact
    try:
        fresh = fresh_args(args, values)
        inputs = [t._data for t in input_tensors(fresh)]
        rec, result = tracer.run(fn, fresh, inputs, quiet=True)
        compare(prog, program.lower(rec.steps, inputs, result_structure(result)[1]), strict=True)
    except Exception:  # noqa: BLE001 (a constant changed, another path was taken, or the values were refused)
        return exact
    return []


def _other_values(a, rng, negate):
    if a.dtype.kind not in "fc" or a.size == 0:
        return a.copy()
    factor = rng.uniform(0.5, 1.5, a.shape)
    moved = -a.ravel() if negate else rng.permutation(a.ravel())
    return np.array(moved.reshape(a.shape) * factor, dtype=a.dtype)


def compare(prog, other, strict=False):
    """Raise a CompileError if `other` (the same function traced on other values) has other constants, or
    other ops (unless a guard saw another branch and `strict` is False)."""
    ops = [(ins.op, len(ins.args), ins.answer) for ins in prog.instrs]
    if ops != [(ins.op, len(ins.args), ins.answer) for ins in other.instrs]:
        if any(ins.is_guard for ins in prog.instrs) and not strict:
            return  # other values took another branch: the guards catch that at run time
        raise CompileError("compile: the function runs other ops for other input values, but no `if` on a "
                           "tensor was seen; something decides from the values outside the tracer's view")
    for ins, theirs in zip(prog.instrs, other.instrs):
        mine = [a for a in (*ins.args, *ins.options.values()) if not isinstance(a, str)]
        if mine != [a for a in (*theirs.args, *theirs.options.values()) if not isinstance(a, str)]:
            raise CompileError(
                f"compile: {codegen.op_name(ins.op)} at {ins.where} gets a number or setting that depends on the "
                "inputs' values (worked out from a tensor's data where the tracer cannot see it)")
    for name, value in prog.constants.items():
        theirs = other.constants.get(name)
        if isinstance(value, np.ndarray) and not (isinstance(theirs, np.ndarray) and codegen._equal(value, theirs)):
            ins = next((i for i in prog.instrs if name in i.uses()), None)
            who = f"{codegen.op_name(ins.op)} at {ins.where} reads" if ins is not None else "the function returns"
            raise CompileError(
                f"compile: {who} a value that depends on the inputs but "
                "was not computed by an op the tracer sees (a mask or number worked out with numpy from a tensor's "
                "data, in your code or in an op's rule): compute it with tensor ops (x > 0, torch.where, ...), or "
                "outside the compiled function and pass it in.")
