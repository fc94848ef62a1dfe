"""Differential property test: random straight-line autograd programs, run in autograd_lite and in PyTorch.

Hypothesis writes a small program: a few float64 leaves, a list of steps that apply the package's ops
(through its public API) to earlier values, optional hooks and retain_grad, and an ending that differentiates
(backward, backward twice, autograd.grad, double backward, forward mode, func.jvp, func.vjp). A program is
Python code: its `repr` is the exact code that runs, with `torch` standing for the library, so a failing
example shrinks to a few lines that reproduce it in either library.

`run(program, lib)` interprets a program in one library (autograd_lite or torch) and records everything
observable: after each step the new values (shape, dtype, values, requires_grad, is_leaf, grad_fn's name) or
the step's error (type and message); every value again at the end of the forward pass (in-place ops change
earlier values); the ending's results, every `.grad` and the hooks' log.

* With PyTorch installed (it is not a dependency), both records must agree.
* Without it, the same programs check what needs no reference: no error other than the PyTorch-style errors
  the package raises on purpose, reverse-mode gradients against central finite differences, and forward
  mode against reverse mode (<w, J u> both ways).

`make test` draws 200 derandomized programs; `make test-deep` (AUTOGRAD_LITE_DEEP=1) 5,000 (derandomized too),
and checks that the generator uses every entry of the op table (`OPS`, `INPLACE`) despite the filters below.
Program features that still differ from PyTorch are listed, each with what differs: in `KNOWN` those whose
fixes are under way (with their issue item), in `FOUND` those this test found that have no fix yet. The
generator leaves them out (a few endings are swapped for a plain backward instead). Delete an entry when its fix
lands, and the programs that have that feature come back. In `UNDEFINED` are programs whose result PyTorch
itself leaves undefined (it depends on PyTorch's loop order): nothing to compare them with; in `PYTORCH_BUGS`
those where PyTorch's derivative is wrong and autograd_lite's right, on purpose.
"""
# ruff: noqa: S102 - a program is code: exec runs it, the same text in either library
import importlib
import os
import traceback
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_lite as ag
from autograd_lite.ops.copies import dense_memory

from .rule_check import dot, fd_directional

try:
    torch = importlib.import_module("torch")
except ImportError:
    torch = None

# Program features that differ from PyTorch today, each with the issue item that fixes it. The generator
# never writes a step that has one of these features.
KNOWN = {}

# Differences this test found that have no fix under way yet (see the report of the commit that added them).
FOUND = {}

# Programs whose result PyTorch itself leaves undefined: not a difference this test can judge, so never written.
UNDEFINED = {
    "inplace_reads_overlapping_memory_unchecked": "t.add_(y) where y is a broadcast or strided view of t's memory "
                                                  "(t.div_(t[:, 0:1])): PyTorch cannot check such an overlap and "
                                                  "reads elements it may already have written: on a 2 x 3 tensor it "
                                                  "divides row 1 by its new first element, on a 2 x 8 one by the old "
                                                  "(its loop order and vector width decide). autograd_lite always "
                                                  "reads the old values, as if y were cloned first "
                                                  "(test_issue22_regressions.py)",
}
# Where PyTorch gives a wrong derivative: autograd_lite gives the right one, on purpose (README, "Differences kept
# on purpose"; test_forward_ad.py records both libraries' results).
PYTORCH_BUGS = {
    "tangent_shared_by_remainder": "forward mode through x % 1.5 (or x.frac()) then an in-place op on the result: "
                                   "PyTorch's tangent of x % c (of x.frac()) is x's tangent itself, so the in-place op "
                                   "changes x's tangent too, and J·u comes out wrong (reverse mode disagrees); "
                                   "autograd_lite's result has a tangent of its own, on purpose",
}
LEFT_OUT = KNOWN.keys() | FOUND.keys() | UNDEFINED.keys() | PYTORCH_BUGS.keys()

PACKAGE_DIR = os.path.dirname(ag.__file__)


# --------------------------------------------------------------------------------------------------
# Programs: code, one line (or one `with` block) per step
# --------------------------------------------------------------------------------------------------
WEIGHTS = (
    "def weights(t):  # fixed output weights (and tangents) of t's shape\n"
    "    return torch.linspace(-1.0, 2.0, t.numel(), dtype=torch.float64).reshape(t.shape)\n"
)
HEADER = ("import torch\nimport torch.nn.functional as F\nfrom torch.autograd import forward_ad as fwAD\n" + WEIGHTS
          + "log = []  # what the hooks saw, in order\n")


@dataclass(frozen=True)
class Step:
    code: str  # a statement (or a `with torch.no_grad():` block)
    outputs: tuple = ()  # the names of the values it creates
    target: str = None  # the value an in-place step changes


@dataclass(frozen=True)
class Program:
    leaves: tuple  # (name, code) for each leaf
    steps: tuple  # Step, ...
    extras: tuple = ()  # retain_grad / register_hook lines
    ending: str = ""  # the code that differentiates
    outputs: tuple = ()  # the values the ending differentiates

    def values(self):
        return [name for name, _ in self.leaves] + [n for s in self.steps for n in s.outputs]

    def forward_function(self):
        """`def f(leaves...)`: the steps again, as a function of the leaves (for func.jvp / func.vjp / forward_ad)."""
        body = "".join("    " + line + "\n" for s in self.steps for line in s.code.splitlines())
        return (f"def f({', '.join(name for name, _ in self.leaves)}):\n{body}"
                f"    return ({''.join(o + ', ' for o in self.outputs)})\n")

    def _repr_pretty_(self, printer, cycle):  # how hypothesis prints a failing example
        printer.text(repr(self))

    def __repr__(self):
        lines = [code for _, code in self.leaves] + [s.code for s in self.steps] + list(self.extras)
        return "\n" + HEADER + "\n".join(lines) + "\n" + self.ending


def namespace(lib):
    """The names a program's code sees, with `torch` standing for `lib`."""
    ns = {"torch": lib, "F": importlib.import_module(lib.__name__ + ".nn.functional"),
          "fwAD": importlib.import_module(lib.__name__ + ".autograd.forward_ad"), "log": []}
    exec(WEIGHTS, ns)
    return ns


# --------------------------------------------------------------------------------------------------
# Interpreting a program in one library, and recording what can be observed
# --------------------------------------------------------------------------------------------------
def describe(t):
    """What can be observed of a tensor, as plain Python and numpy values (or the error reading it raises)."""
    try:
        return _describe(t)
    except Exception as e:  # noqa: BLE001 - PyTorch refuses to read some views' grad_fn
        return error(e)


def _describe(t):
    if t is None or not hasattr(t, "grad_fn"):
        return t if t is None or isinstance(t, (bool, int, float)) else type(t).__name__
    return {"shape": tuple(t.shape), "dtype": str(t.dtype).split(".")[-1], "requires_grad": t.requires_grad,
            "is_leaf": t.is_leaf, "grad_fn": type(t.grad_fn).__name__ if t.grad_fn is not None else None,
            "value": np.array(t.detach().numpy(force=True), dtype=np.float64 if t.dtype.is_floating_point else None)}


def error(e):
    """An error as PyTorch would name it: its type and its message with the library's name written 'torch'."""
    return ("raises", type(e).__name__, str(e).replace("autograd_lite", "torch"))


def describe_results(results):
    """The ending's derivatives. Not their grad_fn: the graph that computes a derivative (create_graph, forward
    mode, func) is made of the package's own ops, by design, where PyTorch has fused backward kernels
    (MulBackward0 for GeluBackwardBackward0)."""
    if isinstance(results, (tuple, list)):
        return [describe_results(r) for r in results]
    seen = describe(results)
    if isinstance(seen, dict):
        del seen["grad_fn"], seen["is_leaf"]
    return seen


def run(program, lib):
    """Run the program in `lib` (autograd_lite or torch); return the list of (what, observation) it made."""
    ns, record = namespace(lib), []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for name, code in program.leaves:
            exec(code, ns)
        for i, step in enumerate(program.steps):
            try:
                exec(step.code, ns)
            except Exception as e:  # noqa: BLE001 - the error is what we observe
                record.append((f"step {i}: {step.code}", error(e)))
                return record
            for name in step.outputs + ((step.target,) if step.target else ()):
                record.append((f"step {i}: {name}", describe(ns[name])))
        for name in program.values():
            record.append((f"end of forward: {name}", describe(ns[name])))
        try:
            for line in program.extras:
                exec(line, ns)
            exec(program.ending, ns)
            record.append(("ending", "ok"))
        except Exception as e:  # noqa: BLE001
            record.append(("ending", error(e)))
        record.append(("results", describe_results(ns.get("results"))))
        for name in program.values():
            record.append((f"{name}.grad", describe(ns[name].grad)))
        record.append(("hooks' log", list(ns["log"])))
    return record


# --------------------------------------------------------------------------------------------------
# The op table: each entry writes one step from the values there are (or returns None when none fits)
# --------------------------------------------------------------------------------------------------
class Values:
    """The values a program has so far, computed in autograd_lite as the generator writes the steps."""

    def __init__(self):
        self.ns = namespace(ag)
        self.names = []

    def shape(self, name):
        return tuple(self.ns[name].shape)

    def pick(self, draw, where=lambda shape: True):
        names = [n for n in self.names if self.ns[n].dtype.is_floating_point and where(self.shape(n))]
        return draw(st.sampled_from(names)) if names else None


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _into(a, b):
    """b broadcasts into a's shape (in-place ops)."""
    return _broadcasts(a, b) and np.broadcast_shapes(a, b) == a


def _dim(draw, shape):
    return draw(st.integers(-len(shape), len(shape) - 1))


def unary(template):
    def write(draw, vals):
        x = vals.pick(draw)
        return template.format(x=x)
    write.template = template
    return write


def binary(template, fits=_broadcasts):
    def write(draw, vals):
        x = vals.pick(draw)
        y = vals.pick(draw, lambda s: fits(vals.shape(x), s))
        return template.format(x=x, y=y)
    write.template = template
    return write


def with_dim(template, *, keepdim=False, min_ndim=1, extra=None):
    """An op along one dim: {d} and, if asked, {k} (keepdim) and the `extra` fields (drawn from (draw, shape))."""
    def write(draw, vals):
        x = vals.pick(draw, lambda s: len(s) >= min_ndim)
        if x is None:
            return None
        shape = vals.shape(x)
        d = _dim(draw, shape) if shape else draw(st.sampled_from([0, -1]))
        fields = {"x": x, "d": d, "k": draw(st.booleans()) if keepdim else False}
        if extra:
            fields.update(extra(draw, shape, d))
        return template.format(**fields)
    write.template = template
    return write


def _transpose(draw, vals):
    x = vals.pick(draw, lambda s: len(s) >= 1)
    if x is None:
        return None
    n = len(vals.shape(x))
    return f"{x}.transpose({draw(st.integers(-n, n - 1))}, {draw(st.integers(-n, n - 1))})"


def _permute(draw, vals):
    x = vals.pick(draw)
    perm = draw(st.permutations(range(len(vals.shape(x)))))
    return f"{x}.permute({tuple(perm)})"


def _reshape(draw, vals):
    x = vals.pick(draw)
    shape = vals.shape(x)
    size = int(np.prod(shape))
    new = draw(st.sampled_from([(-1,), (1, -1), (size, 1), shape[::-1]]))
    method = draw(st.sampled_from(["reshape", "view"]))
    return f"{x}.{method}({new})"


def _expand(draw, vals):
    x = vals.pick(draw)
    shape = vals.shape(x)
    new = tuple(draw(st.sampled_from([1, 2])) if s == 1 else s for s in shape)
    lead = tuple(draw(st.lists(st.sampled_from([2, 1]), max_size=1)))
    return f"{x}.expand({lead + new})"


def _repeat(draw, vals):
    x = vals.pick(draw)
    n = len(vals.shape(x))
    reps = draw(st.lists(st.sampled_from([1, 2]), min_size=n, max_size=n + 1))
    return f"{x}.repeat{tuple(reps)}" if reps else None


def _squeeze(draw, vals):
    x = vals.pick(draw)
    shape = vals.shape(x)
    ones = [d for d, s in enumerate(shape) if s == 1]
    if ones and draw(st.booleans()):
        return f"{x}.squeeze({draw(st.sampled_from(ones))})"
    return f"{x}.squeeze()"


def _narrow(draw, vals):
    x = vals.pick(draw, lambda s: len(s) >= 1 and 0 not in s)
    if x is None:
        return None
    shape = vals.shape(x)
    d = _dim(draw, shape)
    start = draw(st.integers(0, shape[d] - 1))
    return f"{x}.narrow({d}, {start}, {draw(st.integers(1, shape[d] - start))})"


def _index(draw, vals):
    x = vals.pick(draw, lambda s: len(s) >= 1)
    if x is None:
        return None
    n = vals.shape(x)[0]
    index = draw(st.sampled_from([str(n - 1), "-1", "1:", ":1", "None", "None, 1:", "1:, None", "..., 0",
                                  f"[0, {n - 1}, 0]", f"{x} > 0"]))
    if index in ("1:", "None, 1:", "1:, None") and n < 2:
        index = "0:"
    return f"{x}[{index}]"


def _select(draw, vals):
    x = vals.pick(draw, lambda s: len(s) >= 1 and 0 not in s)
    if x is None:
        return None
    shape = vals.shape(x)
    d = _dim(draw, shape)
    return f"torch.select({x}, {d}, {draw(st.integers(-shape[d], shape[d] - 1))})"


def _diag(draw, vals):
    x = vals.pick(draw, lambda s: len(s) in (1, 2))
    return None if x is None else f"torch.diag({x}, {draw(st.sampled_from([0, 1, -1]))})"


def _cat(draw, vals):
    x = vals.pick(draw, lambda s: len(s) >= 1)
    if x is None:
        return None
    shape = vals.shape(x)
    d = _dim(draw, shape)
    y = vals.pick(draw, lambda s: len(s) == len(shape) and all(a == b for i, (a, b) in enumerate(zip(s, shape))
                                                               if i != d % len(shape)))
    how = draw(st.sampled_from(["cat", "stack", "hstack", "vstack"]))
    if how == "cat":
        return f"torch.cat([{x}, {y}], {d})"
    if how == "stack":
        return f"torch.stack([{x}, {y}], {draw(st.integers(-len(shape) - 1, len(shape)))})"
    return f"torch.{how}([{x}, {y}])"


def _matmul(draw, vals):
    x = vals.pick(draw, lambda s: len(s) >= 1)
    if x is None:
        return None
    a = np.zeros(vals.shape(x))

    def fits(s):
        try:
            np.matmul(a, np.zeros(s))
            return len(s) >= 1
        except ValueError:
            return False

    y = vals.pick(draw, fits)
    if y is None:
        return f"{x} @ {x}.transpose(-1, -2)" if a.ndim >= 2 else f"{x} @ {x}"
    return draw(st.sampled_from([f"{x} @ {y}", f"torch.matmul({x}, {y})"]))


def _linear(draw, vals):
    x = vals.pick(draw, lambda s: len(s) >= 1)
    if x is None:
        return None
    w = vals.pick(draw, lambda s: len(s) == 2 and s[1] == vals.shape(x)[-1])
    if w is None:
        return None
    return draw(st.sampled_from([f"F.linear({x}, {w})", f"F.linear({x}, {w}, {w}[:, 0])"]))


def _outer(draw, vals):
    x = vals.pick(draw, lambda s: len(s) == 1)
    return None if x is None else f"torch.outer({x}, {vals.pick(draw, lambda s: len(s) == 1)})"


def _nll(draw, vals):
    x = vals.pick(draw, lambda s: len(s) == 2)
    if x is None:
        return None
    n, c = vals.shape(x)
    target = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    fn = draw(st.sampled_from(["F.cross_entropy({x}, {t})", "F.nll_loss(F.log_softmax({x}, 1), {t})"]))
    return fn.format(x=x, t=f"torch.tensor({target})")


def _split(draw, vals):
    x = vals.pick(draw, lambda s: len(s) >= 1 and max(s) >= 2)
    if x is None:
        return None
    shape = vals.shape(x)
    d = draw(st.sampled_from([i for i, s in enumerate(shape) if s >= 2]))
    how = draw(st.sampled_from([f"{x}.split(1, {d})", f"{x}.split([1, {shape[d] - 1}], {d})", f"{x}.chunk(2, {d})",
                                f"{x}.unbind({d})", f"torch.var_mean({x}, {d})",
                                f"torch.std_mean({x}, {d}, correction=0)"]))
    return how


OPS = [
    # arithmetic, with broadcasting and with numbers
    binary("{x} + {y}"), binary("{x} - {y}"), binary("{x} * {y}"), binary("{x} / {y}"),
    binary("torch.maximum({x}, {y})"), binary("torch.minimum({x}, {y})"),
    binary("{x} % ({y} ** 2 + 0.5)"), binary("{x} // ({y} ** 2 + 0.5)"), binary("({x} ** 2 + 0.5) ** {y}"),
    binary("torch.where({x} > 0, {x}, {y})"),
    unary("{x} + 1.5"), unary("2.0 - {x}"), unary("{x} * -0.5"), unary("{x} / 4.0"), unary("3.0 / {x}"),
    unary("{x} ** 2"), unary("{x} ** 3.0"), unary("2.0 ** {x}"), unary("{x} % 1.5"),
    unary("1.5 % ({x} ** 2 + 0.5)"), unary("-{x}"), unary("{x}.reciprocal()"),
    # elementwise (log and sqrt on x**2 + 0.5, where they are defined)
    unary("{x}.exp()"), unary("{x}.expm1()"), unary("({x} ** 2 + 0.5).log()"), unary("({x} ** 2).log1p()"),
    unary("({x} ** 2 + 0.5).sqrt()"), unary("{x}.abs()"), unary("{x}.tanh()"), unary("{x}.sigmoid()"),
    unary("{x}.relu()"), unary("F.leaky_relu({x}, 0.2)"), unary("{x}.erf()"), unary("F.gelu({x})"),
    unary("F.gelu({x}, approximate='tanh')"), unary("F.softplus({x})"), unary("F.softplus({x}, 2.0, 1.0)"),
    unary("{x}.sin()"), unary("{x}.cos()"), unary("{x}.clamp(-0.4567, 0.5321)"), unary("{x}.clamp(min=0.1234)"),
    unary("{x}.clone()"), unary("{x}.float()"), unary("{x}.round()"), unary("{x}.round(decimals=1)"),
    unary("{x}.floor()"), unary("{x}.ceil()"), unary("{x}.trunc()"), unary("{x}.frac()"),
    # reductions
    unary("{x}.sum()"), with_dim("{x}.sum({d}, keepdim={k})", keepdim=True), unary("{x}.mean()"),
    with_dim("{x}.mean({d}, keepdim={k})", keepdim=True), unary("{x}.prod()"),
    with_dim("{x}.prod({d}, keepdim={k})", keepdim=True), unary("{x}.max()"), unary("{x}.min()"),
    with_dim("{x}.max({d}, keepdim={k}).values", keepdim=True), with_dim("{x}.min({d})[0]"),
    unary("{x}.var()"), with_dim("{x}.var({d}, correction=0, keepdim={k})", keepdim=True),
    with_dim("{x}.std({d})"), with_dim("{x}.logsumexp({d}, keepdim={k})", keepdim=True), unary("{x}.norm()"),
    with_dim("{x}.norm(dim={d}, keepdim={k})", keepdim=True), with_dim("torch.linalg.vector_norm({x}, 3, dim={d})"),
    with_dim("{x}.norm(float('inf'), dim={d})"),
    # shapes and views
    unary("{x}.t()"), _transpose, _permute, _reshape, unary("{x}.flatten()"), with_dim("{x}.unsqueeze({d})"),
    _squeeze, _expand, _repeat, with_dim("{x}.movedim({d}, 0)"), _narrow,
    # indexing
    _index, _select, _diag, unary("{x}.masked_fill({x} > 0, 0.5)"), binary("{x}.masked_fill({x} < 0, {y}.sum())"),
    # several inputs, several outputs
    _cat, _split,
    # matmul family
    _matmul, _linear, _outer,
    # losses and normalisations
    binary("F.mse_loss({x}, {y})", fits=lambda a, b: a == b),
    binary("F.binary_cross_entropy_with_logits({x}, {y}.sigmoid())", fits=lambda a, b: a == b),
    binary("F.binary_cross_entropy({x}.sigmoid(), {y}.sigmoid())", fits=lambda a, b: a == b),
    with_dim("F.softmax({x}, {d})"), with_dim("F.log_softmax({x}, {d})"), _nll,
]

# In-place ops: {t} is the value changed, {y} a value that broadcasts into it.
INPLACE = [
    "{t}.add_({y})", "{t}.mul_(2.0)", "{t}.div_({y})", "{t}.exp_()", "{t}.tanh_()", "{t}.sigmoid_()", "{t}.relu_()",
    "{t}.clamp_(-0.4567, 0.5321)", "{t}.fill_(1.5)", "{t}.zero_()", "{t}.copy_({y})", "{t}.fill_({y}.sum())",
    "{t}.masked_fill_({t} > 0, 0.25)", "{t}[0] = {y}", "F.leaky_relu({t}, 0.2, inplace=True)", "{t}.floor_()",
    "{t}.frac_()",
]


# --------------------------------------------------------------------------------------------------
# The generator: leaves, steps (each run in autograd_lite as it is written), extras, an ending
# --------------------------------------------------------------------------------------------------
SHAPES = st.sampled_from([2, 1, 0, 3]).flatmap(lambda ndim: st.tuples(*[st.sampled_from([2, 1, 3])] * ndim))
ENDINGS = ["backward", "grad", "backward_twice", "double", "forward_ad", "jvp", "vjp"]


def _leaf(draw, i, requires_grad):
    shape = draw(SHAPES, label=f"x{i} shape")
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label=f"x{i} seed"))
    a = rng.standard_normal(shape)
    a = np.round(np.sign(a) * (0.1 + 0.9 * np.abs(a)), 2)  # two decimals, away from 0 (the kinks of abs, relu, ...)
    flag = ", requires_grad=True" if requires_grad else ""
    return f"x{i}", f"x{i} = torch.tensor({a.tolist()}, dtype=torch.float64{flag})"


def _inplace(draw, vals):
    template = draw(st.sampled_from(INPLACE))
    t = vals.pick(draw, lambda s: len(s) >= 1 or "[0]" not in template)
    if t is None:
        return None
    into = vals.shape(t)[1:] if "[0]" in template else vals.shape(t)
    y = vals.pick(draw, lambda s: _into(into, s))
    if "{y}" in template and y is None:
        return None
    code = template.format(t=t, y=y)
    no_grad = draw(st.booleans(), label="under no_grad")
    if no_grad:
        code = "with torch.no_grad():\n    " + code
    features = set()
    if "{y}" in template and "fill_" not in template and y != t and np.shares_memory(vals.ns[t]._data,
                                                                                    vals.ns[y]._data):
        written = vals.ns[t]._data[0] if "[0]" in template else vals.ns[t]._data
        if not (dense_memory(written) and dense_memory(vals.ns[y]._data)):  # PyTorch refuses the others, as we do
            features.add("inplace_reads_overlapping_memory_unchecked")
    features |= {"no_grad_inplace"} if no_grad else set()
    features.add("inplace")
    return code, t, features, template


def _features_of(expr):
    """What known differences (or non-smooth pieces) an out-of-place step has, read from its code."""
    markers = [("float32", ".float()"), ("remainder_by_number", " % 1.5"), ("remainder_by_number", ".frac()")]
    return {feature for feature, marker in markers if marker in expr}


WRITTEN = set()  # the entries of OPS and INPLACE that programs have used (the filters may rule some out)


@st.composite
def programs(draw, smooth=False):
    """A random program. smooth=True leaves out what finite differences cannot follow (float32 casts, values
    changed under no_grad)."""
    vals = Values()
    flags = draw(st.lists(st.booleans(), min_size=1, max_size=3), label="leaves requiring grad")
    flags[0] = flags[0] or not any(flags)  # at least one leaf requires grad
    leaves = [_leaf(draw, i, flag) for i, flag in enumerate(flags)]
    for name, code in leaves:
        exec(code, vals.ns)
        vals.names.append(name)
    steps, features = [], set()
    for _ in range(draw(st.integers(1, 6), label="steps")):
        if draw(st.integers(0, 4), label="in-place?") == 0:
            written = _inplace(draw, vals)
            if written is None:
                continue
            code, target, step_features, template = written
            if step_features & LEFT_OUT or (smooth and "no_grad_inplace" in step_features):
                continue
            WRITTEN.add(template)
            step = Step(code, target=target)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    exec(code, vals.ns)
            except Exception:  # noqa: BLE001 - the step raises: it ends the program
                return Program(tuple(leaves), tuple(steps) + (step,))
        else:
            writer = draw(st.sampled_from(OPS), label="op")
            expr = writer(draw, vals)
            if expr is None:
                continue
            step_features = _features_of(expr)
            if step_features & LEFT_OUT or (smooth and "float32" in step_features):
                continue
            WRITTEN.add(writer)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    out = eval(expr, vals.ns)
            except Exception:  # noqa: BLE001
                new = f"v{len(vals.names)}"
                return Program(tuple(leaves), tuple(steps) + (Step(f"{new} = {expr}", (new,)),))
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            names = tuple(f"v{len(vals.names) + i}" for i in range(len(outs)))
            for name, value in zip(names, outs):
                vals.ns[name] = value
                vals.names.append(name)
            lhs = ", ".join(names) + ("," if len(names) == 1 and isinstance(out, (tuple, list)) else "")
            step = Step(f"{lhs} = {expr}", names)
        steps.append(step)
        features |= step_features
    if {"remainder_by_number", "inplace"} <= features:
        features.add("inplace_after_remainder_by_number")
    return _with_ending(draw, Program(tuple(leaves), tuple(steps)), vals, features)


# (entry of KNOWN or FOUND, the endings it rules out, for programs with this feature)
ENDINGS_LEFT_OUT = [
    ("tangent_shared_by_remainder", {"forward_ad", "jvp"}, "inplace_after_remainder_by_number"),
]


def _ending_left_out(kind, features):
    return any(entry in LEFT_OUT and kind in endings and feature in features
               for entry, endings, feature in ENDINGS_LEFT_OUT)


def _with_ending(draw, program, vals, features):
    floats = [n for n in vals.names if vals.ns[n].dtype.is_floating_point]
    needing = [n for n in floats if vals.ns[n].requires_grad]
    kind = draw(st.sampled_from(ENDINGS), label="ending")
    outputs = tuple(draw(st.lists(st.sampled_from(needing or floats), min_size=1, max_size=2, unique=True),
                         label="outputs"))
    extras = []
    for name, hook in draw(st.lists(st.tuples(st.sampled_from(needing or floats),
                                              st.sampled_from(["retain", "double", "log"])), max_size=2),
                           label="hooks"):
        extras.append({"retain": f"{name}.retain_grad()",
                       "double": f"{name}.register_hook(lambda g: None if g is None else g * 2)",  # None: an unused output
                       "log": f"{name}.register_hook(lambda g: log.append('{name}'))"}[hook])
    if _ending_left_out(kind, features):
        kind = "backward"
    loss = "loss = " + " + ".join(f"({o} * weights({o})).sum()" for o in outputs) + "\n"
    leaves = [name for name, _ in program.leaves]
    needing_leaves = [n for n in leaves if vals.ns[n].requires_grad] or leaves
    if kind == "backward":
        ending = loss + "loss.backward()\n"
    elif kind == "backward_twice":
        ending = loss + "loss.backward(retain_graph=True)\nloss.backward()\n"
    elif kind == "grad":
        subset = draw(st.lists(st.sampled_from(needing or floats), min_size=1, max_size=3, unique=True))
        ending = loss + f"results = torch.autograd.grad(loss, [{', '.join(subset)}], allow_unused=True)\n"
    elif kind == "double":
        ending = (loss + f"results = torch.autograd.grad(loss, [{', '.join(needing_leaves)}], create_graph=True,"
                  " allow_unused=True)\n"
                  "second = sum((g * g).sum() for g in results if g is not None and g.requires_grad)\n"
                  "if torch.is_tensor(second):\n    second.backward()\n")
    else:
        program = Program(program.leaves, program.steps, outputs=outputs)
        f = program.forward_function()
        if kind == "forward_ad":
            duals = ", ".join(f"fwAD.make_dual({n}, weights({n}))" for n in leaves)
            ending = f + ("with fwAD.dual_level():\n"
                          f"    results = [fwAD.unpack_dual(o).tangent for o in f({duals})]\n")
        elif kind == "jvp":
            ending = f + (f"results = torch.func.jvp(f, ({''.join(n + ', ' for n in leaves)}), "
                          f"({''.join(f'weights({n}), ' for n in leaves)}))\n")
        else:
            ending = f + (f"outs, vjp_fn = torch.func.vjp(f, {', '.join(leaves)})\n"
                          "results = outs, vjp_fn(tuple(weights(o) for o in outs))\n")
    return Program(program.leaves, program.steps, tuple(extras), ending, outputs)


# --------------------------------------------------------------------------------------------------
# Comparing two records
# --------------------------------------------------------------------------------------------------
def same(ours, theirs, rtol64=1e-7):
    """Whether two observations agree: values allclose, everything else equal. `rtol64` is the tolerance for
    float64 values, a float32 one (1e-5) when float32 work took part in the program."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if ours.keys() != theirs.keys():
            return False
        for key in ours:
            if key == "value":
                a, b = ours[key], theirs[key]
                rtol = rtol64 if ours.get("dtype") == "float64" else 1e-5  # float32: a few ulps
                if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=1e-10, equal_nan=True):
                    return False
            elif ours[key] != theirs[key]:
                return False
        return True
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(same(a, b, rtol64) for a, b in zip(ours, theirs))
    if isinstance(ours, tuple) and ours[:1] == ("raises",) and isinstance(theirs, tuple):
        return ours[:2] == theirs[:2]  # the exception's type; messages may differ (see message_differences)
    return ours == theirs


def first_difference(ours, theirs, rtol64=1e-7):
    for (what, a), (what_theirs, b) in zip(ours, theirs):
        if what != what_theirs or not same(a, b, rtol64):
            return f"{what}:\n  autograd_lite: {a!r}\n  torch:         {b!r}"
    if len(ours) != len(theirs):
        return f"records of different lengths:\n  autograd_lite: {ours[-3:]}\n  torch: {theirs[-3:]}"
    return None


# --------------------------------------------------------------------------------------------------
# Without PyTorch: invariants that need no reference
# --------------------------------------------------------------------------------------------------
ON_PURPOSE = (RuntimeError, TypeError, ValueError, IndexError, NotImplementedError)


def raised_on_purpose(e):
    """A PyTorch-style error the package raises itself (a `raise` in autograd_lite), not a crash inside numpy or
    a bug (AttributeError, KeyError, ...)."""
    frames = traceback.extract_tb(e.__traceback__)
    return isinstance(e, ON_PURPOSE) and bool(frames) and frames[-1].filename.startswith(PACKAGE_DIR)


def loss_of(program, leaves):
    """The program's steps on the given leaf tensors, then sum(weights * output) over its outputs."""
    ns = namespace(ag)
    ns.update(zip((name for name, _ in program.leaves), leaves))
    for step in program.steps:
        exec(step.code, ns)
    return sum((ns[o] * ns["weights"](ns[o])).sum() for o in program.outputs)


def leaf_arrays(program):
    ns = namespace(ag)
    for _, code in program.leaves:
        exec(code, ns)
    return [ns[name] for name, _ in program.leaves]


def check_invariants(program):
    """No crash; gradients against finite differences; forward mode against reverse mode."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for line in _run_collecting_errors(program):
            assert raised_on_purpose(line), f"{program!r}\ncrashed:\n{''.join(traceback.format_exception(line))}"
        if not program.outputs or not program.ending:
            return
        leaves = leaf_arrays(program)
        arrays = [t.detach().numpy().copy() for t in leaves]
        rng = np.random.default_rng(0)
        u = [rng.standard_normal(a.shape) if t.requires_grad else np.zeros(a.shape) for a, t in zip(arrays, leaves)]

        def fn(*xs):
            return loss_of(program, xs)

        fd = float(fd_directional(fn, arrays, u))
        ahead, behind = _one_sided(fn, arrays, u, 1e-4)
        if not (np.isfinite(fd) and abs(ahead - fd) + abs(behind - fd) <= 1e-3 * (1 + abs(fd))):
            return  # not smooth here (a kink such as a tie in max, a jump, an overflow): nothing to compare with
        try:
            loss = loss_of(program, leaves)
            needing = [t for t in leaves if t.requires_grad]
            grads = ag.autograd.grad(loss, needing, allow_unused=True, materialize_grads=True)
        except ON_PURPOSE as e:  # e.g. an in-place change of a saved value, as PyTorch would refuse it
            assert raised_on_purpose(e), f"{program!r}\ncrashed: {e!r}"
            return
        pairs = [(g.detach().numpy(), ui) for g, ui in zip(grads, [ui for ui, t in zip(u, leaves) if t.requires_grad])]
        reverse = sum(dot(g, ui) for g, ui in pairs)
        if not np.isfinite(reverse):
            return  # a NaN in a branch that where() does not take still reaches the gradient, as in PyTorch
        scale = sum(float(np.sum(np.abs(g * ui))) for g, ui in pairs)
        assert abs(reverse - fd) <= 1e-5 * (scale + abs(fd)) + 1e-8, \
            f"{program!r}\nreverse mode <grad, u> = {reverse!r}, finite differences {fd!r}"
        fwad = ag.autograd.forward_ad
        try:
            with fwad.dual_level():
                duals = [fwad.make_dual(ag.tensor(a), ag.tensor(ui)) for a, ui in zip(arrays, u)]
                tangent = fwad.unpack_dual(loss_of(program, duals)).tangent
        except ON_PURPOSE as e:  # an op without a forward rule (number % x), as in PyTorch
            assert raised_on_purpose(e), f"{program!r}\ncrashed in forward mode: {e!r}"
            return
        forward = 0.0 if tangent is None else float(tangent)
        assert abs(forward - reverse) <= 1e-7 * (scale + abs(reverse)) + 1e-10, \
            f"{program!r}\nforward mode J u = {forward!r}, reverse mode <grad, u> = {reverse!r}"


def _one_sided(fn, arrays, u, eps):
    """The forward and the backward difference of fn along u: far apart at a kink, where central ones are not."""
    at, plus, minus = (float(fn(*[ag.tensor(a + k * eps * ui) for a, ui in zip(arrays, u)])) for k in (0, 1, -1))
    return (plus - at) / eps, (at - minus) / eps


def _run_collecting_errors(program):
    """Run the program in autograd_lite; the exceptions its steps and its ending raised."""
    ns, errors = namespace(ag), []
    for _, code in program.leaves:
        exec(code, ns)
    for line in [s.code for s in program.steps] + list(program.extras) + [program.ending]:
        try:
            exec(line, ns)
        except Exception as e:  # noqa: BLE001 - what was raised is what is checked
            errors.append(e)
            break
    return errors


# --------------------------------------------------------------------------------------------------
# The tests: a quick derandomized profile in `make test`, a deep one in `make test-deep`
# --------------------------------------------------------------------------------------------------
QUICK = settings(max_examples=200, derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
THOROUGH = settings(max_examples=5000, derandomize=True, deadline=None, database=None,  # the same 5,000 each run
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def agrees_with_torch(program):
    ours, theirs = run(program, ag), run(program, torch)
    float32 = ".float()" in repr(program) or "float32" in repr(program)  # float64 results of float32 work
    difference = first_difference(ours, theirs, 1e-5 if float32 else 1e-7)
    assert difference is None, f"{program!r}\nfirst difference, {difference}"


needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (it is not a dependency)")


@needs_torch
@QUICK
@given(programs())
def test_programs_agree_with_torch(program):
    agrees_with_torch(program)


@QUICK
@given(programs(smooth=True))
def test_programs_keep_their_invariants(program):
    check_invariants(program)


@pytest.mark.slow
def test_the_generator_writes_every_op_of_the_table():
    """No filter of KNOWN / FOUND leaves an op or an in-place op out altogether: 5,000 programs (written, not run)
    use every entry of OPS and INPLACE. (The quick profile's 200 do not: a few ops are too rarely drawn.)"""
    WRITTEN.clear()
    THOROUGH(given(programs())(lambda program: None))()
    missing = [getattr(op, "template", getattr(op, "__name__", op)) for op in OPS + INPLACE if op not in WRITTEN]
    assert not missing, f"the generator never wrote {missing}"


@pytest.mark.slow
@needs_torch
@THOROUGH
@given(programs())
def test_many_programs_agree_with_torch(program):
    agrees_with_torch(program)


@pytest.mark.slow
@THOROUGH
@given(programs(smooth=True))
def test_many_programs_keep_their_invariants(program):
    check_invariants(program)
