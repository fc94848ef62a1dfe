"""The program: a trace written as a list of instructions over named values, which the passes rewrite.

Names: ``x0, x1, ...`` are the function's inputs, ``c0, c1, ...`` constants (arrays no traced op made:
the engine's seed gradient ``ones``, a tensor the function read from its closure), ``t0, t1, ...`` the
values the ops compute. Each `Instr` is one line of the generated code::

    t7 = np.tanh(t6)          # Tanh       <- f.py:4
    t9 = t8 * t1              # Mul        <- vjp of TanhBackward0 (t7)
"""
import numpy as np

from .tracer import Bind, Guard


class Instr:
    """`outs = op(*args, **options)`. `args` and option values are names of values, or `Literal`s.

    `op` is an Op class (or a numpy ufunc, for a comparison); `shapes`/`dtypes` are those of the traced
    outputs; `where` is the comment. A guard is an Instr with `op=None`, `answer` and one arg."""

    __slots__ = ("answer", "args", "dtypes", "fix", "in_shape", "into", "op", "options", "outs", "shapes", "where")

    def __init__(self, outs, op, args, options, where, shapes=(), dtypes=(), answer=None):
        self.outs, self.op, self.args, self.options, self.where = outs, op, args, options, where
        self.shapes, self.dtypes, self.answer = shapes, dtypes, answer
        self.into = None  # set by `reuse_buffers`: the dead value whose buffer receives the result
        self.fix = None  # set after the check run: the expression's result needs np.asarray(..., dtype)
        self.in_shape = None  # the first input's shape (a loss's mean divides by its size)

    @property
    def is_guard(self):
        return self.op is None

    def uses(self):
        return [a for a in (*self.args, *self.options.values()) if isinstance(a, str)]

    def rename(self, mapping):
        self.args = [mapping.get(a, a) if isinstance(a, str) else a for a in self.args]
        self.options = {k: mapping.get(v, v) if isinstance(v, str) else v for k, v in self.options.items()}


class Literal:
    """A number or setting written into the code as it is (`2.0`, `(0, 1)`, `None`)."""

    __slots__ = ("text", "value")

    def __init__(self, value, text):
        self.value, self.text = value, text

    def __eq__(self, other):
        return isinstance(other, Literal) and self.text == other.text

    def __hash__(self):
        return hash(self.text)


_LITERALS = {}  # (type, repr) -> Literal or None: a trace holds the same few numbers many times


def literal(value):
    """`value` as a Literal if its repr reads back as an equal value of the same type, else None."""
    if isinstance(value, (np.ndarray, np.generic)) or callable(value):
        return None
    text = repr(value)
    key = (type(value), text)
    if key not in _LITERALS:
        if len(_LITERALS) > 10_000:
            _LITERALS.clear()
        _LITERALS[key] = _read_back(value, text)
    return _LITERALS[key]


def _read_back(value, text):
    try:
        back = eval(text, {"np": np, "__builtins__": {"slice": slice, "Ellipsis": Ellipsis}})
    except Exception:  # noqa: BLE001 (any value whose repr does not read back is kept as a constant)
        return None
    if type(back) is not type(value) or not _same(back, value):
        return None
    return Literal(value, text)


def _same(a, b):
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


class Program:
    """The instructions, the inputs' and constants' names, what the function returns, and the traced values
    (name -> array, for shapes, dtypes, aliasing and the check run)."""

    def __init__(self):
        self.instrs, self.inputs, self.constants, self.values = [], [], {}, {}
        self.aliases = {}  # name -> other arrays holding its value in the trace (a Bind's, a value CSE merged)
        self.output = None  # the result's structure, with value names (or Literals) where tensors were
        self.node_names = {}  # id(node) -> "TanhBackward0 (t7)"

    def name_of(self, array):
        """The name of a traced array, registering it as a constant if no step made it."""
        name = self._names.get(id(array))
        if name is None:
            name = f"c{len(self.constants)}"
            self.constants[name] = array
            self._register(array, name)
        return name

    def _register(self, array, name):
        self._names[id(array)] = name
        self.values[name] = array

    def ref(self, value):
        """A name for an array, a Literal for a number or setting, a constant for anything else."""
        if isinstance(value, np.ndarray):
            return self.name_of(value)
        lit = literal(value)
        if lit is not None:
            return lit
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name


def lower(steps, inputs, result_leaves):
    """The Program of a trace: `steps` from the Tracer, the input arrays, and the result's leaves (arrays,
    or other values such as None)."""
    prog = Program()
    prog._names = {}
    for i, a in enumerate(inputs):
        prog._register(a, f"x{i}")
        prog.inputs.append(f"x{i}")
    count = 0
    for step in steps:
        if isinstance(step, Guard):
            prog.instrs.append(Instr([], None, [prog.name_of(step.value)], {}, step.where, answer=step.answer))
            continue
        if isinstance(step, Bind):  # no code: from here on, the array is read under the value's name
            name = prog.name_of(step.value)
            prog._names[id(step.array)] = name
            prog.aliases.setdefault(name, []).append(step.array)
            continue
        args = [prog.ref(a) for a in step.inputs]
        options = {k: prog.ref(v) for k, v in step.options.items()}
        outs = []
        for r in step.results:
            outs.append(f"t{count}")
            count += 1
        where = step.where
        if isinstance(where, tuple):
            kind, who = where
            where = f"{kind} of {who if kind == 'jvp' else prog.node_names.get(id(who), who.name())}"
        for name, r in zip(outs, step.results):
            prog._register(r, name)
        if step.node is not None:
            prog.node_names[id(step.node)] = f"{step.node.name()} ({outs[0]})"
        ins = Instr(outs, step.op, args, options, where, [r.shape for r in step.results],
                    [r.dtype for r in step.results])
        ins.in_shape = np.shape(step.inputs[0]) if step.inputs else ()
        prog.instrs.append(ins)
    prog.output = [prog.ref(leaf) if isinstance(leaf, np.ndarray) else literal(leaf) for leaf in result_leaves]
    del prog._names
    return prog
