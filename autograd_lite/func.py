r"""Function transforms in the style of `torch.func`: `grad`, `grad_and_value`, `vjp`, `jvp`, `jacrev`,
`jacfwd`, `hessian`, `linearize`, and `vmap` (from vectorized_map.py).

A transform takes a function and returns a new function::

    f = lambda x: (x ** 3).sum()
    grad(f)(x)          # 3 x²
    hessian(f)(x)       # diag(6 x)

The functions are treated as pure maths: inputs need not require grad, nothing is accumulated into
any `.grad`, and results come back detached unless something outside the transform is being
differentiated too (then they stay in that outer graph, so transforms compose).

Everything rests on two primitives of the engine, as in HIPS autograd:

* **pull back** (reverse mode, `vjp`): record one forward pass, then `autograd.grad` turns a vector
  :math:`v` of the output's shape into :math:`v^\top J`. One reverse pass gives one *row* of
  :math:`J`, so `jacrev` costs **one forward pass and m reverse passes** (m = number of outputs).
* **push forward** (forward mode, `jvp`): `forward_ad.make_dual` attaches a tangent :math:`u` to the
  input; every op carries it along, and the output's tangent is :math:`J u`. One pass gives one
  *column*, so `jacfwd` costs **n forward passes** (n = number of inputs).

So reverse mode wins when m << n (a loss: m = 1), forward mode when m >> n.

The m reverse passes (or n forward passes) need not run one after another: `vmap` (vectorized_map.py)
runs one pass over a *batch* of basis vectors, every op running once on the whole batch by its batching rule.
That is how `jacrev` and `jacfwd` are built here, as in PyTorch: the pass count stays m (or n), but the
Python overhead is paid once, and the arithmetic becomes a few large array operations. In forward mode
the batch is the tangents alone: the primal is computed once ("vector forward mode").

Composing transforms:

* `hessian(f) = jacfwd(jacrev(f))` — *forward-over-reverse*: the reverse pass of `jacrev` runs while
  the inputs carry tangents, so each gradient comes out with its tangent :math:`H u`.
* `jacrev(jacrev(f))` — *reverse-over-reverse*: the inner gradient is computed with
  `create_graph=True`, so the outer transform can differentiate it again.
* Only one forward-mode level can be open at a time (see `forward_ad`). A forward transform nested
  inside another one (`jacfwd(jacfwd(f))`, `jvp` of a `hessian`) therefore computes its
  :math:`J u` by the *double-backward trick*: :math:`g(w) = J^\top w` is linear in :math:`w`, and the
  gradient of :math:`\langle g(w), u\rangle` with respect to :math:`w` is :math:`J u`.

Arguments and results may be a Tensor or a tuple / list / dict of Tensors (one level deep).
"""
import numpy as np

from . import grad_mode
from .autograd import forward_ad as fwAD
from .autograd import grad as _autograd_grad
from .autograd.functional import _column_blocks
from .grad_mode import attach_tangent, forward_ad_state
from .graph import AccumulateGrad, gradient_edge
from .ops import cat, record_node
from .ops.copies import TransformInputBackward
from .ops.batching import BatchedTensor, batched, from_physical, levels_of, to_physical
from .vectorized_map import vmap
from .factories import ones_like, zeros, zeros_like
from .tensor import Tensor, _wrap

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize", "vjp", "vmap"]


# -- arguments and results: a Tensor, or a tuple / list / dict of Tensors -------------------------------------------
def _flatten(tree, complain):
    """`(tensors, spec)`: the tensors in `tree`, and what `_unflatten` needs to rebuild its structure."""
    if isinstance(tree, Tensor):
        return [tree], None
    if type(tree) in (tuple, list):
        kind, keys, items = type(tree), None, list(tree)
    elif type(tree) is dict:
        kind, keys = dict, list(tree)
        items = [tree[k] for k in keys]
    else:
        complain(tree)
    for item in items:
        if not isinstance(item, Tensor):
            complain(item)
    return items, (kind, keys)


def _unflatten(tensors, spec):
    if spec is None:
        return tensors[0]
    kind, keys = spec
    return dict(zip(keys, tensors)) if kind is dict else kind(tensors)


def _positions(argnums, nargs):
    """The argument positions `argnums` names, checked as torch.func checks them."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")  # noqa: TRY004
    positions = []
    for a in (argnums,) if isinstance(argnums, int) else argnums:
        if not isinstance(a, int):
            raise RuntimeError(f"argnum must be int, got: {type(a)}")  # noqa: TRY004
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs")
        positions.append(a % nargs)
    if isinstance(argnums, tuple):
        if not positions:
            raise RuntimeError("argnums must be non-empty")
        if len(set(positions)) != len(positions):
            raise RuntimeError(f"argnums elements must be unique, got {tuple(positions)}")
    return positions


def _not_a_tensor_input(x):
    raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")


def _not_a_tensor_aux(x):
    raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")


class _Inputs:
    """The differentiated arguments of one call: `args[p]` for p in argnums, flattened to a list of tensors."""

    def __init__(self, args, argnums):
        self.args = list(args)
        self.positions = _positions(argnums, len(args))
        self.single = isinstance(argnums, int)  # results are per-argument tuples only for a tuple argnums
        self.tensors, self.specs = [], []
        for p in self.positions:
            tensors, spec = _flatten(self.args[p], _not_a_tensor_input)
            self.tensors += tensors
            self.specs.append((spec, len(tensors)))

    def call_with(self, func, tensors):
        """`func(*args)` with the differentiated tensors replaced by `tensors`."""
        args, k = list(self.args), 0
        for p, (spec, count) in zip(self.positions, self.specs):
            args[p] = _unflatten(tensors[k:k + count], spec)
            k += count
        return func(*args)

    def structure(self, per_tensor):
        """One value per differentiated tensor, arranged as the arguments are (a tuple if argnums is)."""
        parts, k = [], 0
        for spec, count in self.specs:
            parts.append(_unflatten(per_tensor[k:k + count], spec))
            k += count
        return parts[0] if self.single else tuple(parts)


def _split_aux(out, api):
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def _detached(t):
    """`t` cut from the graph, but keeping its tangent if an enclosing forward transform gave it one."""
    d = t.detach()
    if t._tangent is not None:
        attach_tangent(d, t._tangent)
    return d


# -- reverse mode: record once, pull back many times --------------------------------------------------------------
def _stand_in(x, tracked):
    """A differentiable stand-in for input `x`: same values (shared memory and version counter), its own place in a
    graph.

    A leaf of the transform's own graph, as torch.func makes it (not a view of `x`): in-place ops on it or on a view
    of it are refused as on a leaf that requires grad, and under no_grad they leave it the transform's input, so the
    transform sees a pure function whatever `x` is. If `x` is itself being differentiated by an enclosing transform
    (it requires grad and grad mode is on), the stand-in is also recorded in that outer graph, as an alias of `x`
    (`TransformInputBackward`), so the outer transform can differentiate our result (reverse-over-reverse). Either
    way a tangent of an enclosing forward transform stays on it (forward-over-reverse).
    """
    if not x.is_floating_point():
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if type(x) is BatchedTensor:  # inside vmap: the stand-in is made for the physical tensor, which holds the batch
        return batched(_stand_in(x._value, tracked), x._levels)
    leaf = _detached(x)
    leaf._requires_grad = True
    if tracked and x._requires_grad:
        record_node(TransformInputBackward(), (x,), leaf)
    return leaf


def _physical(t):
    """The tensor that holds `t`'s values in the graph: its physical tensor inside vmap (see ops/batching.py)."""
    return t._value if type(t) is BatchedTensor else t


def _batched_levels(out, has_aux, api):
    """The vmap levels at which a function's output (without its aux) is batched."""
    if has_aux:
        out = _split_aux(out, api)[0]
    if isinstance(out, Tensor):
        items = [out]
    else:
        items = list(out.values()) if type(out) is dict else list(out) if type(out) in (tuple, list) else []
    return sorted({lv for t in items if isinstance(t, Tensor) for lv in levels_of(t)})


def _expanded(x, levels):
    """`x` batched at `levels` too: the same values for every example (a view)."""
    every = tuple(sorted(set(levels_of(x)) | set(levels)))
    return batched(to_physical(x, every), every)


def _reaches_outside(outputs, stand_ins):
    """Whether the graph of `outputs` reaches a leaf other than our own stand-ins — that is, whether
    something outside this transform is being differentiated, so our results must stay in the graph."""
    own = {gradient_edge(t) for t in stand_ins if t.grad_fn is None}
    stack_ = [gradient_edge(o) for o in outputs if o._requires_grad]
    seen = set(stack_)
    while stack_:  # iterative graph walk
        node = stack_.pop()
        if type(node) is AccumulateGrad:
            if node not in own:
                return True
            continue
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack_.append(child)
    return False


class _Recording:
    """One forward pass of `func` on stand-ins for the differentiated arguments, kept for pulling back.

    `pull(outputs, cotangents)` runs one reverse pass and returns vᵀJ for every differentiated tensor.
    The graph is retained, so it can be pulled back through many times (once per row, in `jacrev`).
    """

    def __init__(self, func, args, argnums, has_aux, api):
        self.tracked = grad_mode.is_grad_enabled()  # could an outer transform differentiate what we return?
        self.inputs = _Inputs(args, argnums)
        with grad_mode.enable_grad():  # as torch.func: the transform ignores an outer no_grad
            self.stand_ins = [_stand_in(x, self.tracked) for x in self.inputs.tensors]
            out = self.inputs.call_with(func, self.stand_ins)
            levels = _batched_levels(out, has_aux, api)
            if any(not set(levels) <= set(levels_of(x)) for x in self.stand_ins):
                # inside vmap, a result batched where an argument is not: the gradient differs per example, so
                # each example gets its own stand-in (one more forward pass, on arguments expanded to the batch)
                self.stand_ins = [_stand_in(_expanded(x, levels), self.tracked) for x in self.inputs.tensors]
                out = self.inputs.call_with(func, self.stand_ins)
        self.has_aux = has_aux
        self.out, self.aux = _split_aux(out, api) if has_aux else (out, None)
        self.outer = None  # decided by `connect`, once the caller has checked and flattened the output

    def connect(self, outputs):
        """Decide, for these outputs, whether results must stay connected to an outer graph."""
        self.outer = self.tracked and _reaches_outside(outputs, self.stand_ins)
        if self.has_aux:
            tensors, spec = _flatten(self.aux, _not_a_tensor_aux)
            self.aux = _unflatten([self.keep(t) for t in tensors], spec)

    def keep(self, t):
        """A result as the caller sees it: detached, unless an outer transform differentiates it; an input that
        `func` returned as it is comes back as that very input, as in torch.func."""
        for x, stand_in in zip(self.inputs.tensors, self.stand_ins):
            if t is stand_in:
                return x
        return t if self.outer else _detached(t)

    def pull(self, outputs, cotangents, create_graph=None):
        """vᵀJ for each stand-in (zeros where it is not used), for cotangents v matching `outputs`."""
        if create_graph is None:
            create_graph = self.outer or (self.tracked and any(v._requires_grad for v in cotangents))
        used = [(o, v) for o, v in zip(outputs, cotangents) if o._requires_grad]
        if not used:
            return [zeros_like(x) for x in self.stand_ins]
        # inside vmap the graph is the physical tensors': pulled back there, each gradient batched again after
        outs = [_physical(o) for o, _ in used]
        vs = [to_physical(v, levels_of(o)) for o, v in used]
        ins = [_physical(x) for x in self.stand_ins]
        grads = _autograd_grad(outs, ins, vs, retain_graph=True, create_graph=create_graph, allow_unused=True)
        if create_graph:  # a gradient stays in the outer graph only if it depends on something outside, as in torch.func
            grads = [g if g is None or _reaches_outside([g], ins) else _detached(g) for g in grads]
        return [from_physical(g, levels_of(x)) if g is not None else zeros_like(x)
                for g, x in zip(grads, self.stand_ins)]


def _flat_outputs(out, api, call):
    """`(tensors, spec)` of a function's output, which must be a non-empty Tensor or tuple / list / dict of them."""
    if out is None or (isinstance(out, (tuple, list)) and not out):
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {out})")

    def complain(x):
        raise RuntimeError(f"{api}: expected {call} to return only tensors, got unsupported type {type(x)}")

    return _flatten(out, complain)


def _check_vjp_outputs(out, api):
    outputs, spec = _flat_outputs(out, api, "f(*primals)")
    for o in outputs:
        if not o.is_floating_point():
            raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor "
                               f"with dtype {o.dtype}")
    return outputs, spec


def grad_and_value(func, argnums=0, has_aux=False):
    """`(gradient, value)` of a function returning a scalar: one forward and one reverse pass.

    The gradient has the structure of the differentiated argument(s) (a tuple if `argnums` is a tuple).
    With `has_aux=True`, `func` returns `(scalar, aux)` and the result is `(gradient, (value, aux))`.
    """
    api = "grad_and_value(f)(*args)"

    def wrapper(*args, **kwargs):
        rec = _Recording(lambda *a: func(*a, **kwargs), args, argnums, has_aux, api)
        out = rec.out
        if not isinstance(out, Tensor):
            raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(out)}")  # noqa: TRY004
        if out.ndim != 0:
            raise RuntimeError(f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with {out.ndim} dims. "
                               "Maybe you wanted to use the vjp or jacrev APIs instead?")
        rec.connect([out])
        grads = rec.pull([out], [ones_like(out)])
        value = rec.keep(out)
        return rec.inputs.structure(grads), ((value, rec.aux) if has_aux else value)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a function returning a scalar (one forward + one reverse pass).

    `grad(f)(x)` has the shape of `x`; with `argnums=(0, 1)` a tuple of gradients. With `has_aux=True`,
    `func` returns `(scalar, aux)` and the result is `(gradient, aux)`.
    """
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """`(output, vjp_fn)`: run `func(*primals)` once; `vjp_fn(v)` pulls `v` back to `vᵀJ`, one reverse pass each.

    `v` has the structure of the output; `vjp_fn` returns a tuple with one entry per primal and can be
    called many times. With `has_aux=True`: `(output, vjp_fn, aux)`.
    """
    api = "vjp(f, *primals)"
    rec = _Recording(func, primals, tuple(range(len(primals))), has_aux, api)
    outputs, out_spec = _check_vjp_outputs(rec.out, api)
    rec.connect(outputs)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):  # the graph is always retained
        vs, spec = _flatten(cotangents, lambda x: _cotangent_mismatch(cotangents, rec.out))
        if spec != out_spec or len(vs) != len(outputs):
            _cotangent_mismatch(cotangents, rec.out)
        for i, (v, o) in enumerate(zip(vs, outputs)):
            if v.shape != o.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {v.shape} and output[{i}] has "
                                   f"a shape of {o.shape}.")
        grads = rec.pull(outputs, vs, create_graph)
        return tuple(rec.inputs.structure(grads))

    output = _unflatten([rec.keep(o) for o in outputs], out_spec)
    return (output, vjp_fn, rec.aux) if has_aux else (output, vjp_fn)


def _cotangent_mismatch(cotangents, output):
    raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of outputs to the "
                       f"function. cotangents: {_describe(cotangents)}, primal output: {_describe(output)}")


def _describe(tree):
    if isinstance(tree, Tensor):
        return "*"
    if type(tree) in (tuple, list, dict):
        items = tree.values() if type(tree) is dict else tree
        return type(tree).__name__ + "(" + ", ".join("*" if isinstance(x, Tensor) else type(x).__name__
                                                     for x in items) + ")"
    return type(tree).__name__


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian by reverse mode: **one forward pass, then one reverse pass for all m rows at once**.

    Row i of the Jacobian is e_iᵀJ, pulled back through the same recorded graph; `vmap` over the m basis
    vectors e_i makes the m reverse passes one pass over a batch (`chunk_size` rows at a time bounds the
    memory). Best when the function has few outputs and many inputs. `jacrev(f)(x)` has shape
    `out.shape + x.shape`; with several outputs or a tuple `argnums`, the result is nested as torch.func nests
    it: outputs outside, arguments inside.
    """
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    api = "vjp(f, *primals)"

    def wrapper(*args):
        rec = _Recording(func, args, argnums, has_aux, api)
        outputs, out_spec = _check_vjp_outputs(rec.out, api)
        rec.connect(outputs)
        jac = []
        for o in outputs:
            if o.numel() == 0:
                rows = [zeros((0,) + tuple(x.shape), dtype=x.dtype) for x in rec.stand_ins]
            else:  # all rows e_iᵀJ in one vmapped reverse pass (or one per chunk of rows)
                rows = _rows(rec, o, chunk_size or o.numel())
            blocks = [rec.keep(r.reshape(tuple(o.shape) + tuple(x.shape))) for r, x in zip(rows, rec.stand_ins)]
            jac.append(rec.inputs.structure(blocks))
        jac = _unflatten(jac, out_spec)
        return (jac, rec.aux) if has_aux else jac

    return wrapper


def _rows(rec, o, chunk_size):
    """The rows e_iᵀJ of d o / d (each stand-in), `chunk_size` of them per vmapped reverse pass (the basis vectors
    made chunk by chunk too, so that the memory beyond the Jacobian itself grows with `chunk_size`)."""
    m, parts = o.numel(), []
    for start in range(0, m, chunk_size):
        basis = _basis(o, (start, min(start + chunk_size, m), m), rows=True)
        parts.append(vmap(lambda e: tuple(rec.pull([o], [e])))(basis))
    return parts[0] if len(parts) == 1 else [cat([p[j] for p in parts]) for j in range(len(parts[0]))]


def _basis(t, columns=None, rows=False):
    """The standard basis of the space of `t` as one tensor, e_i = basis[i] of t's shape; or, with `columns`
    (start, stop, width), the identity of that width restricted to those columns (one input of several; or, with
    `rows`, to those rows)."""
    n = t.numel()
    start, stop, width = (0, n, n) if columns is None else columns
    if rows:  # rows start..stop of the identity, each of t's shape
        eye = np.eye(stop - start, width, start, dtype=t._data.dtype)
        return _wrap(eye.reshape((stop - start,) + tuple(t.shape)))
    eye = np.eye(width, dtype=t._data.dtype)[:, start:stop]
    return _wrap(eye.reshape((width,) + tuple(t.shape)))


# -- forward mode: push tangents through -------------------------------------------------------------------------
_JVP = "jvp(f, primals, tangents)"


def _check_jvp_outputs(out):
    return _flat_outputs(out, _JVP, "f(*args)")


def _push_forward(func, inputs, directions, has_aux, strict=False):
    """For each direction (one tangent per differentiated tensor, None for zero), the outputs' tangents J·u.

    Returns `(outputs, out_spec, tangents_per_direction, aux)`; `func` runs once per direction. Opens one
    forward-AD level for all directions; inside an enclosing level, uses the double-backward trick.
    """
    if forward_ad_state.level is not None:
        return _push_forward_by_double_backward(func, inputs, directions, has_aux)
    results, outputs, out_spec, aux = [], None, None, None
    with fwAD.dual_level():
        forward_ad_state.through_func = True  # (until the level exits)
        for direction in directions:
            duals = [x if u is None else _make_dual(x, u) for x, u in zip(inputs.tensors, direction)]
            out = inputs.call_with(func, duals)
            if has_aux:
                out, aux = _split_aux(out, _JVP)
            outs, out_spec = _check_jvp_outputs(out)
            outputs, tangents = [], []
            for o in outs:
                primal, tangent = _unpack_dual(o)
                if tangent is None:
                    if strict:
                        raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is independent of "
                                           "the inputs. This is not allowed with strict=True.")
                    tangent = zeros_like(primal)
                outputs.append(primal)
                tangents.append(tangent)
            results.append(tangents)
    if has_aux:
        tensors, spec = _flatten(aux, _not_a_tensor_aux)
        aux = _unflatten([_detached(t) for t in tensors], spec)
    return outputs, out_spec, results, aux


def _make_dual(x, u):
    """`fwAD.make_dual(x, u)`, also inside vmap: the tangent of a batched tensor goes on its physical tensor, as
    a value of that tensor's size. (A tangent batched where x is not, as in `jacfwd`, stays a BatchedTensor:
    the primal is then computed once, and the tangents' ops run by their batching rules.)"""
    if type(x) is not BatchedTensor:
        return fwAD.make_dual(x, u)
    if u.shape != x.shape:
        fwAD.make_dual(x, u)  # raises PyTorch's error
    return batched(fwAD.make_dual(x._value, to_physical(u, x._levels)), x._levels)


def _unpack_dual(o):
    """`fwAD.unpack_dual(o)`, also inside vmap: the tangent of a batched tensor, batched as the tensor is."""
    primal, tangent = fwAD.unpack_dual(o)
    if tangent is not None and type(o) is BatchedTensor:
        tangent = from_physical(tangent, o._levels)
    return primal, tangent


def _push_forward_by_double_backward(func, inputs, directions, has_aux):
    """J·u without opening a forward-AD level: with w a dummy cotangent, g(w) = Jᵀw is linear in w, and
    pulling u back through g gives (Jᵀ)ᵀu = J u. Costs one forward pass and two reverse passes per direction."""
    rec = _Recording(func, inputs.args, _argnums_of(inputs), has_aux, _JVP)
    outs, out_spec = _check_jvp_outputs(rec.out)
    rec.connect(outs)
    ws = [zeros_like(o).requires_grad_() for o in outs]
    with grad_mode.enable_grad():
        gs = rec.pull(outs, ws, create_graph=True)
    results = []
    for direction in directions:
        used = [(g, u) for g, u in zip(gs, direction) if u is not None and g._requires_grad]
        jus = [None] * len(outs)
        if used:
            jus = _autograd_grad([g for g, _ in used], ws, [u for _, u in used], retain_graph=True,
                                 create_graph=rec.outer, allow_unused=True)
        results.append([rec.keep(ju) if ju is not None else zeros_like(o) for ju, o in zip(jus, outs)])
    return [rec.keep(o) for o in outs], out_spec, results, rec.aux


def _argnums_of(inputs):
    return inputs.positions[0] if inputs.single else tuple(inputs.positions)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """`(output, jvp_out)`: `func(*primals)` and its directional derivative J·tangents, in one forward pass.

    `primals` is a tuple of arguments, `tangents` a tuple of the same structure. With `has_aux=True`:
    `(output, jvp_out, aux)`.
    """
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")  # noqa: TRY004
    inputs = _Inputs(primals, tuple(range(len(primals))))
    directions = _tangents_for(inputs, tangents)
    outputs, spec, (tangents_out,), aux = _push_forward(func, inputs, [directions], has_aux, strict)
    result = (_unflatten(outputs, spec), _unflatten(tangents_out, spec))
    return result + (aux,) if has_aux else result


def _tangents_for(inputs, tangents):
    def complain(x):
        raise RuntimeError(f"{_JVP}: Expected tangents to only contain Tensors, got {type(x)}")

    if not isinstance(tangents, tuple) or len(tangents) != len(inputs.positions):
        raise RuntimeError(f"{_JVP}: Expected primals and tangents to have the same python structure. For example, "
                           "if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{_describe(tuple(inputs.args))} and tangents with structure {_describe(tangents)}")
    flat = []
    for t in tangents:
        flat += _flatten(t, complain)[0]
    for i, (u, x) in enumerate(zip(flat, inputs.tensors)):
        if u.shape != x.shape:
            raise RuntimeError(f"{_JVP}: tangent:{i} with shape {u.shape} in flattened pytree doesn't match the "
                               f"shape {x.shape} of the corresponding primal.")
    return flat


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian by forward mode: **one forward pass carrying all n tangents at once**, no reverse pass.

    Column j of the Jacobian is J e_j, the tangent of the output when the input carries the tangent e_j. Under
    `vmap` over the n basis vectors, the inputs carry a batch of tangents: the primal is computed once, and
    every op's forward rule runs once on the batch of tangents ("vector forward mode"). Best when the function
    has few inputs and many outputs. Shapes and nesting as `jacrev`.
    """

    def wrapper(*args):
        inputs = _Inputs(args, argnums)
        for x in inputs.tensors:
            if not x.is_floating_point():
                raise ValueError(f"Expected primal to be floating point or complex, but got: {x.dtype}")
        sizes = [x.numel() for x in inputs.tensors]
        width, start, bases = sum(sizes), 0, []
        for x, n in zip(inputs.tensors, sizes):
            bases.append(_basis(x, (start, start + n, width)))
            start += n
        primal = {}

        def push(*directions):
            outputs, out_spec, (tangents,), aux = _push_forward(func, inputs, [list(directions)], has_aux)
            primal.update(outputs=outputs, spec=out_spec, aux=aux)
            return tuple(tangents)

        if width == 0:  # no input elements: run once for the output's shape
            columns = [zeros((0,) + tuple(o.shape), dtype=o.dtype) for o in push(*[None] * len(sizes))]
        else:
            columns = vmap(push, randomness=randomness)(*bases)
        jac = [inputs.structure(_column_blocks(c, o, inputs.tensors, sizes))
               for c, o in zip(columns, primal["outputs"])]
        jac = _unflatten(jac, primal["spec"])
        return (jac, primal["aux"]) if has_aux else jac

    return wrapper


def hessian(func, argnums=0):
    """The Hessian as `jacfwd(jacrev(func))`: forward-over-reverse. Shape `out.shape + x.shape + x.shape`.

    `jacrev` gives the gradient by one reverse pass; `jacfwd` differentiates that pass once per input
    element, with the inputs carrying tangents (n forward+reverse passes for n inputs).
    """
    return jacfwd(jacrev(func, argnums), argnums)


def linearize(func, *primals):
    """`(output, jvp_fn)`: `func(*primals)`, and `jvp_fn(*tangents)` giving J·tangents at the same primals.

    Unlike torch.func, which traces `func` once, each `jvp_fn` call runs one forward pass with tangents.
    """
    output = jvp(func, primals, tuple(zeros_like(p) for p in primals))[0]

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """`module(*args, **kwargs)` with some of its parameters and buffers replaced by the tensors given by name
    (`{'fc.weight': w}`), for this call only: the module's own are back afterwards, even if the call raises.
    Gradients flow to the given tensors. With `tie_weights`, a tensor registered under several names is
    replaced under all of them; with `strict`, every parameter and buffer must be given."""
    dicts = parameter_and_buffer_dicts
    dicts = tuple(dicts) if isinstance(dicts, (tuple, list)) else (dicts,)
    names = [name for d in dicts for name in d]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
    given = {name: value for d in dicts for name, value in d.items()}
    for value in given.values():
        if not isinstance(value, Tensor):
            raise TypeError(f"{value} is not an instance of autograd_lite.Tensor")
    owned = list(module.named_parameters(remove_duplicate=False)) + list(module.named_buffers(remove_duplicate=False))
    if strict:
        _check_all_given(module, [n for n, _ in owned], given)
    replacements = {name: given[name] for name, _ in owned if name in given}
    if tie_weights:
        by_tensor = {id(t): given[name] for name, t in owned if name in given}
        replacements.update({name: by_tensor[id(t)] for name, t in owned if id(t) in by_tensor and name not in given})
    originals = []
    try:
        for name, value in replacements.items():
            owner, _, attr = name.rpartition(".")
            registry = module.get_submodule(owner).__dict__
            registry = registry["_parameters"] if attr in registry["_parameters"] else registry["_buffers"]
            originals.append((registry, attr, registry[attr]))
            registry[attr] = value
        args = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for registry, attr, original in reversed(originals):
            registry[attr] = original


def _check_all_given(module, names, given):
    unexpected = [repr(k) for k in sorted(given) if k not in names]
    missing = [repr(k) for k in sorted(set(names)) if k not in given]
    problems = ([f"Unexpected key(s): {', '.join(unexpected)}."] if unexpected else []) + (
        [f"Missing key(s): {', '.join(missing)}."] if missing else [])
    if problems:
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(problems))

