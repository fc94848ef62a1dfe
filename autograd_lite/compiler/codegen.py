"""Code generation: the program written out as the source of a plain Python function of numpy calls.

Each instruction becomes one line. Ops that are one numpy expression are written as that expression
(`TEMPLATES`: ``t3 = t1 * t2``, ``t4 = np.tanh(t3)``, ``t9 = t7 @ t8``); any other op calls its own
``forward`` (the numpy code the eager op runs), named after the op: ``t5 = Sum(t4, dim=None, ...)``.
The source is compiled with Python's `compile` and `exec`, as `torch.fx.GraphModule` does with the code
it generates; `Compiled.code` shows it.
"""
import functools

import numpy as np

from ..ops.elementwise import _sigmoid
from ..ops.op import _Scratch
from ..tensor import _wrap
from .passes import UFUNCS, _root

# Ops written as numpy expressions: the same numpy calls as the op's `forward`, so the same bits.
TEMPLATES = {
    "Add": "{0} + {1}", "Sub": "{0} - {1}", "Mul": "{0} * {1}", "Div": "{0} / {1}",
    "Neg": "np.negative({0})", "Exp": "np.exp({0})", "Tanh": "np.tanh({0})", "Sin": "np.sin({0})",
    "Cos": "np.cos({0})", "Log1p": "np.log1p({0})", "Expm1": "np.expm1({0})", "Abs": "np.abs({0})",
    "Maximum": "np.maximum({0}, {1})", "Minimum": "np.minimum({0}, {1})", "Relu": "np.maximum({0}, 0)",
    "Mm": "{0} @ {1}", "Mv": "{0} @ {1}", "Dot": "np.dot({0}, {1})", "Bmm": "np.matmul({0}, {1})",
    "T": "{0}.T", "TanhBackward": "{0} * (1 - {1} * {1})", "Clone": "{0}.copy()", "Alias": "{0}.view()",
    "Sum": "np.add.reduce({0}, axis={dim}, dtype={dtype}, keepdims={keepdim})",
    "SumDim": "np.add.reduce({0}, axis={dim}, dtype={dtype}, keepdims={keepdim})",
    "View": "{0}.reshape({shape})", "Expand": "np.broadcast_to({0}, {shape})",
    "Permute": "np.transpose({0}, {dims})",
    # the shape is known when the code is generated (it is guarded), so these views are one reshape
    "Unsqueeze": "{0}.reshape({out_shape})", "Squeeze": "{0}.reshape({out_shape})",
    "SqueezeDim": "{0}.reshape({out_shape})", "SqueezeInplace": "{0}.reshape({out_shape})",
    "Sigmoid": "_sigmoid({0})",
}


def _loss_template(ins, args, options):
    """The losses' forward, written out, for the usual settings (reduction 'mean', no weights); else None."""
    name = ins.op.__name__
    if options.get("reduction") != "'mean'":
        return None
    n = int(np.prod(ins.in_shape))
    if name == "MseLoss":
        return f"np.add.reduce(({args[0]} - {args[1]}) ** 2, axis=None) / {n}"
    if name == "BinaryCrossEntropyWithLogits" and options["weight"] == options["pos_weight"] == "None":
        z, y = args
        softplus = f"np.maximum(-{z}, 0) + np.log1p(np.exp(-np.abs({z})))"
        return f"np.add.reduce(((1 - {y}) * {z} + ({softplus})).astype({y}.dtype, copy=False), axis=None) / {n}"
    return None


CALLABLE_TEMPLATES = {"MseLoss": _loss_template, "BinaryCrossEntropyWithLogits": _loss_template}


def op_name(op):
    """The op's name in comments and messages (PyTorch's: `Mul`); the code calls it by its class name."""
    return getattr(op, "name", None) or getattr(op, "__name__", "op")


def expression(ins, name_of):
    """The right-hand side of `ins`'s line. `name_of(arg)` writes an argument (a name or a Literal)."""
    args = [name_of(a) for a in ins.args]
    options = {k: name_of(v) for k, v in ins.options.items()}
    name = ins.op.__name__  # the class's own name: ops that share PyTorch's node name differ (SliceUnsqueeze)
    if isinstance(ins.op, np.ufunc):  # a comparison (x > 0): not an op in eager mode, traced all the same
        return f"np.{ins.op.__name__}({', '.join(args)})"
    if name in CALLABLE_TEMPLATES:
        text = CALLABLE_TEMPLATES[name](ins, args, options)
        if text is not None:
            return text
    template = TEMPLATES.get(name)
    if template is not None and (name not in ("Sum", "SumDim") or getattr(ins.options["dtype"], "text", "") == "None"):
        if ins.into is not None:  # the result written into a dead value's buffer (see passes.reuse_buffers)
            return f"np.{UFUNCS[name].__name__}({', '.join(args)}, out={ins.into})"
        return template.format(*args, **options, out_shape=ins.shapes[0])
    return f"{name}({', '.join(args + [f'{k}={v}' for k, v in options.items()])})"


def _write(a):
    return a if isinstance(a, str) else a.text


def _fixed(ins, text):
    if ins.fix is None:
        return text
    dtype = ins.fix
    return f"np.asarray({text}, dtype=np.{dtype.name})" if dtype is not True else f"np.asarray({text})"


def namespace(prog):
    """The globals of the generated function: numpy, each op's forward, the constants, `_wrap`."""
    # the module name puts numpy's warnings (1/0) under the package's filter, silent as the eager ops are
    ns = {"__name__": "autograd_lite.compiler.generated", "np": np, "_wrap": _wrap, "_RETRACE": RETRACE,
          "_sigmoid": _sigmoid, **prog.constants}
    for ins in prog.instrs:
        if not ins.is_guard and not isinstance(ins.op, np.ufunc):
            ns.setdefault(ins.op.__name__, functools.partial(ins.op.forward, _Scratch()))
    return ns


RETRACE = object()  # what the generated function returns when a guard fails


def _result(prog):
    """The return expression: the result's structure with each array wrapped in a tensor."""
    def leaf(v):
        if v is None:
            return "None"
        if isinstance(v, str):
            return f"_wrap({v}.copy())" if v in prog.constants or v[0] == "x" else f"_wrap(np.asarray({v}))"
        return v.text
    leaves = iter([leaf(v) for v in prog.output])
    return _rebuild(prog.structure, leaves)


def _rebuild(spec, leaves):
    """The structure `spec` (see compiler/__init__.py: 'leaf', or (kind, keys, [specs of items]), two levels
    at most) written as Python source, taking each leaf's text from `leaves`."""
    if spec == "leaf":
        return next(leaves)
    kind, keys, items = spec
    parts = []
    for item in items:
        if item == "leaf":
            parts.append(next(leaves))
        else:
            k2, keys2, items2 = item
            inner = [next(leaves) for _ in items2]
            parts.append(_container(k2, keys2, inner))
    return _container(kind, keys, parts)


def _container(kind, keys, parts):
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(keys, parts)) + "}"
    if kind is list:
        return "[" + ", ".join(parts) + "]"
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def source(prog, name="compiled"):
    """The generated function's source. Called with `_check=True`, it returns `locals()` (every value), for
    the compiler's check of its own code (see `check`)."""
    lines = [_line(ins) for ins in prog.instrs]
    width = min(max([len(line) for line in lines] + [20]), 64)  # comments line up, unless a line is long
    body = [f"{line:<{width}}  # {_comment(ins)}" for line, ins in zip(lines, prog.instrs)]
    body.append("if _check: return locals()  # every value, for the compiler's check of this code")
    body.append(f"return {_result(prog)}")
    head = f"def {name}({', '.join(prog.inputs + ['_check=False'])}):"
    used = text_uses(prog)
    for const, value in prog.constants.items():
        if const in used:
            origin = "folded at compile time" if const[0] == "t" else "not computed from the inputs"
            head += f"\n    # {const}: {describe(value)}, a constant ({origin})"
    return head + "\n" + "\n".join("    " + line for line in body)


def text_uses(prog):
    used = {v for ins in prog.instrs for v in ins.uses()}
    return used | {v for v in prog.output if isinstance(v, str)}


def describe(value):
    if isinstance(value, np.ndarray):
        return f"{value.dtype}{list(value.shape)}"
    return type(value).__name__


def _line(ins):
    if ins.is_guard:
        return f"if bool({ins.args[0]}) is not {ins.answer}: return _RETRACE"
    return f"{', '.join(ins.outs)} = {_fixed(ins, expression(ins, _write))}"


def _comment(ins):
    if ins.is_guard:
        return f"guard: the branch at {ins.where} read this value"
    into = f"; reuses {ins.into}'s buffer" if ins.into else ""
    return f"{op_name(ins.op):<12} <- {ins.where}{into}"


def build(prog, name="compiled"):
    """The generated function itself (and its source)."""
    text = source(prog, name)
    ns = namespace(prog)
    exec(compile(text, f"<autograd_lite.compile: {name}>", "exec"), ns)  # noqa: S102 (code we generated)
    return ns[name], text


def evaluate(ins, constants):
    """Run one instruction now, on constants (for `fold_constants`): the results as a list."""
    ns = {**namespace_for(ins), **constants}
    with np.errstate(all="ignore"):
        value = eval(expression(ins, _write), ns)
    return list(value) if len(ins.outs) > 1 else [value]


def namespace_for(ins):
    ns = {"np": np, "_sigmoid": _sigmoid}
    if not isinstance(ins.op, np.ufunc):
        ns[ins.op.__name__] = functools.partial(ins.op.forward, _Scratch())
    return ns


def presume_fixes(prog):
    """A 0-d result gets `np.asarray(...)`: numpy's reductions give numpy scalars where ops give 0-d arrays."""
    for ins in prog.instrs:
        if not ins.is_guard and ins.fix is None and len(ins.outs) == 1 and ins.shapes[0] == ():
            ins.fix = True


def check(prog, fn, inputs):
    """Run the generated code once on the traced inputs (`_check=True`: it returns every value): each value
    must equal the traced one bit for bit. A line whose expression gives another dtype than the op did gets
    `np.asarray(..., dtype)`, as `Op.apply` converts an op's result; then the answer is False (build again).
    Values whose buffer a later line reused (or a view of it) hold that line's value by then, and are skipped."""
    with np.errstate(all="ignore"):
        values = fn(*inputs, _check=True)
    if values is RETRACE:
        raise AssertionError("a guard failed on the traced inputs")  # cannot happen: the guards were traced
    reused, last_use = {}, {}  # buffer -> the lines that write into it; name -> the last line that reads it
    for i, ins in enumerate(prog.instrs):
        if ins.into:
            reused.setdefault(_root(values[ins.into]), []).append(i)
        for a in ins.uses():
            last_use[a] = i
    fixed = False
    for j, ins in enumerate(prog.instrs):
        for out, dtype in zip(ins.outs, ins.dtypes):
            later = [i for i in reused.get(_root(values[out]), ()) if i > j] if type(values[out]) is np.ndarray else ()
            if later and last_use.get(out, j) <= later[0] and out not in prog.output:
                continue  # a value (or a view of one) whose buffer a later line reused once it was no longer read
            got, want = values[out], prog.values.get(out)
            if type(got) is not np.ndarray or got.dtype != dtype:
                ins.fix = dtype if np.asarray(got).dtype != dtype else True
                fixed = True
            elif want is not None and not _equal(got, want):
                raise CompileError(f"compile: the generated line for {op_name(ins.op)} ({ins.where}) does not give "
                                   "the eager value; please report this")
    return not fixed


def _equal(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


from .tracer import CompileError
