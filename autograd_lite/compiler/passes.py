"""Optimisations of the program, each one small pass that a test (or a student) can switch off.

* `eliminate_dead_code`: drop instructions whose values the result (and the guards) never read. The
  trace holds more than the answer needs: the forward rules' saved values that the backward never read,
  the engine's shape bookkeeping, a forward value the gradient transform discards.
* `eliminate_common_subexpressions`: the same op on the same inputs twice (``tanh(x)`` in the forward,
  and again in a rule) is computed once.
* `fold_constants`: an op whose inputs are all constants (the seed gradient ``ones`` divided by the
  number of elements, a transposed weight read from the closure) is computed once, at compile time.
* `reuse_buffers`: an elementwise op whose input dies at that line writes its result into the input's
  memory (``np.multiply(t3, t4, out=t3)``), so no new array is allocated.

Every pass keeps the values exactly as they were: the compiled code gives eager's answer to the last bit.
"""
import numpy as np

PASSES = ("dce", "cse", "fold", "reuse")


def eliminate_dead_code(prog):
    """Keep an instruction only if a later instruction, a guard or the result reads one of its outputs."""
    live = {v for v in prog.output if isinstance(v, str)}
    kept = []
    for ins in reversed(prog.instrs):
        if ins.is_guard or any(o in live for o in ins.outs):
            kept.append(ins)
            live.update(ins.uses())
    prog.instrs = kept[::-1]
    prog.constants = {k: v for k, v in prog.constants.items() if k in live}


def _key(ins):
    options = tuple(sorted((k, v) for k, v in ins.options.items()))
    return (ins.op, tuple(ins.args), options)


def eliminate_common_subexpressions(prog):
    """The second of two identical instructions (same op, inputs and options) reads the first one's outputs.
    And an `Alias` (a new tensor object on the same memory, as the transforms make for their inputs) is
    the value it aliases: the code reads that instead. (Never written into: `reuse_buffers` skips views.)"""
    seen, mapping, kept = {}, {}, []
    for ins in prog.instrs:
        ins.rename(mapping)
        if ins.is_guard:
            kept.append(ins)
            continue
        if ins.op.__name__ == "Alias" and isinstance(ins.args[0], str):
            mapping[ins.outs[0]] = ins.args[0]
            continue
        key = _key(ins)
        first = seen.get(key)
        if first is None:
            seen[key] = ins
            kept.append(ins)
        else:
            mapping.update(zip(ins.outs, first.outs))
            for out, kept_out in zip(ins.outs, first.outs):  # views of the dropped value now view the kept one
                prog.aliases.setdefault(kept_out, []).append(prog.values[out])
    prog.instrs = kept
    prog.output = [mapping.get(v, v) if isinstance(v, str) else v for v in prog.output]


def fold_constants(prog, evaluate):
    """Run now every instruction whose inputs are all constants; its outputs become constants.

    `evaluate(ins, values)` runs one instruction as the generated code would (see codegen.py)."""
    kept = []
    for ins in prog.instrs:
        if ins.is_guard or not all(a in prog.constants for a in ins.uses()):
            kept.append(ins)
            continue
        results = evaluate(ins, prog.constants)
        for name, value, dtype in zip(ins.outs, results, ins.dtypes):
            prog.constants[name] = np.asarray(value, dtype=dtype)
    prog.instrs = kept


# ops whose line is a numpy ufunc of the inputs, which can write into an input's buffer (`out=`)
UFUNCS = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Neg": np.negative,
          "Exp": np.exp, "Tanh": np.tanh, "Sin": np.sin, "Cos": np.cos, "Maximum": np.maximum,
          "Minimum": np.minimum}


def _root(array):
    """The id of the object that owns `array`'s memory (a view's base, its base's base, ... as far as they go)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return id(array)


def reuse_buffers(prog):
    """Give an elementwise instruction `into`: an input that dies here, owns its memory (no other live value
    is a view of it), and has the output's shape and dtype. Inputs and constants are never written."""
    last_use = {}
    for i, ins in enumerate(prog.instrs):
        for a in ins.uses():
            last_use[a] = i
    for v in prog.output:
        if isinstance(v, str):
            last_use[v] = len(prog.instrs)
    roots = {name: {_root(a)} for name, a in prog.values.items() if isinstance(a, np.ndarray)}
    for name, arrays in prog.aliases.items():  # an array an in-place op wrote the value into: its views read it
        roots.setdefault(name, set()).update(_root(a) for a in arrays)
    sharing = {}  # root -> the names of the values living in that memory
    for name, rs in roots.items():
        for r in rs:
            sharing.setdefault(r, []).append(name)
    for i, ins in enumerate(prog.instrs):
        if ins.is_guard or ins.op.__name__ not in UFUNCS or (ins.fix is not None and ins.fix is not True):
            continue
        for a in ins.args:
            if not isinstance(a, str) or a[0] != "t" or a in prog.constants or last_use.get(a) != i:
                continue
            value = prog.values[a]
            if (value.shape != ins.shapes[0] or value.dtype != ins.dtypes[0] or value.ndim == 0
                    or value.base is not None or not value.flags.writeable):
                continue
            if any(last_use.get(other, -1) > i for r in roots[a] for other in sharing[r] if other != a):
                continue
            ins.into = a
            for r in roots[a]:
                sharing[r].append(ins.outs[0])  # the result now lives in that memory too
            roots[ins.outs[0]] = roots[a]
            break


def run_passes(prog, passes, evaluate):
    """The passes named in `passes` (a subset of PASSES), in their order; reuse comes last (see codegen)."""
    if "dce" in passes:
        eliminate_dead_code(prog)
    if "cse" in passes:
        eliminate_common_subexpressions(prog)
    if "fold" in passes:
        fold_constants(prog, evaluate)
    if "dce" in passes:
        eliminate_dead_code(prog)
