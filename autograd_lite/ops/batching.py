r"""Batching: how an op runs on a batch of examples at once, inside `func.vmap`.

`vmap(f)(x)` calls `f` once, on a `BatchedTensor`: a tensor that *looks* like one example (its `shape`
leaves the batch dimension out) but holds the whole batch. Its `_value` is an ordinary tensor, the
**physical** tensor, whose leading dimensions are the batch dimensions, one per `vmap` it belongs to
(its `_levels`: 1 for the outermost vmap, 2 for one nested inside it, ...; always in that order), and
whose other dimensions are the example's, the **logical** ones.

When an op gets a batched input, `Op.apply` hands it to `apply_batched` below, which

1. lines up the inputs: every tensor gets one leading dimension per level of the call (size 1 where it is
   not batched, so that broadcasting pairs it with every example);
2. runs the op's **batching rule**, `Op.batch(n, *inputs, **options)`: the op's own unit says how to
   compute its result for all examples at once on the physical tensors, which carry `n` leading batch
   dimensions. For an elementwise op the batch dimensions are just more leading dimensions
   (`batch = elementwise`); a reduction or a view shifts its `dim` by `n`; a matrix product broadcasts
   over them. The rule calls ordinary ops on ordinary tensors, so the graph and the tangents are
   recorded as usual, on the physical tensors: autograd never sees a BatchedTensor inside the graph;
3. wraps the result in a BatchedTensor again.

An op without a rule (`batch = None`) runs once per example in a Python loop, and the results are
stacked: correct, slow, and announced once by a warning naming the op (PyTorch warns the same way).

A tangent or a cotangent may itself be a BatchedTensor while the value it belongs to is not: that is how
`jacfwd` pushes all n tangents through in one pass (the primal computed once) and `jacrev` pulls all m
cotangents back in one reverse pass. `to_physical` / `from_physical` move a batched value across the
boundary between a BatchedTensor and its physical tensor.
"""
import itertools

import numpy as np

from ..sizes import Size
from ..tensor import Tensor, _wrap
from .op import _warn_user


class _VmapState:
    """The vmaps running now, outermost first: `sizes[level - 1]` is the batch size of that level, and
    `randomness[level - 1]` what its random ops do (see random.py)."""

    def __init__(self):
        self.sizes = []
        self.randomness = []


vmap_state = _VmapState()


def _to_value(name):
    """An attribute of the BatchedTensor that is its physical tensor's: autograd state lives there."""

    def get(self):
        return getattr(self._value, name)

    def set_(self, value):
        setattr(self._value, name, value)

    return property(get, set_)


class BatchedTensor(Tensor):
    """One example's view of a batch (see the module docstring): `shape` is the example's; `_value`, the
    physical tensor, holds the batch, with one leading dimension per level in `_levels`."""

    __slots__ = ("_levels", "_value")

    # autograd state: the physical tensor's (its node, its tangent, its version counter)
    _requires_grad = _to_value("_requires_grad")
    _grad_fn = _to_value("_grad_fn")
    _output_nr = _to_value("_output_nr")
    _vc = _to_value("_vc")
    _base = _to_value("_base")
    _views = _to_value("_views")
    _split_version = _to_value("_split_version")
    _accumulator = _to_value("_accumulator")
    _hooks = _to_value("_hooks")
    _retains_grad = _to_value("_retains_grad")
    _grad = _to_value("_grad")
    _tangent = _to_value("_tangent")
    _tangent_base = _to_value("_tangent_base")

    @property
    def _data(self):
        """A stand-in array with the example's shape and dtype, for the shape and dtype checks that functions
        make before they call an op. Its values are not the tensor's (NaN, where they can be): read-only."""
        value = self._value._data
        return _stand_in(value.shape[len(self._levels):], value.dtype)

    @property
    def shape(self):
        return Size(self._value._data.shape[len(self._levels):])

    def size(self, dim=None):
        return self.shape if dim is None else self._data.shape[dim]

    def detach(self):
        return batched(self._value.detach(), self._levels)

    def contiguous(self, memory_format=None):
        return self

    def is_contiguous(self, memory_format=None):
        return True

    def __repr__(self, *, tensor_contents=None):
        return f"BatchedTensor(lvl={self._levels}, value=\n{self._value!r}\n)"

    # what would need the values of one example: PyTorch's messages
    def item(self):
        raise RuntimeError(ITEM)

    def __bool__(self):
        raise RuntimeError(CONTROL_FLOW)

    __float__ = __int__ = __index__ = __bool__

    def tolist(self):
        raise RuntimeError(ITEM.replace(".item()", ".tolist()"))

    def numpy(self, *, force=False):
        raise RuntimeError(ITEM.replace(".item()", ".numpy()"))

    __array__ = numpy

    # comparisons and logical ops are not ops (no gradient): computed here, on the lined-up physical arrays
    def __eq__(self, other):
        return _batched_numpy(np.equal, self, other)

    def __ne__(self, other):
        return _batched_numpy(np.not_equal, self, other)

    def __lt__(self, other):
        return _batched_numpy(np.less, self, other)

    def __le__(self, other):
        return _batched_numpy(np.less_equal, self, other)

    def __gt__(self, other):
        return _batched_numpy(np.greater, self, other)

    def __ge__(self, other):
        return _batched_numpy(np.greater_equal, self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    __hash__ = Tensor.__hash__

    def __and__(self, other):
        return _batched_numpy(np.logical_and if self._data.dtype == np.bool_ else np.bitwise_and, self, other)

    def __or__(self, other):
        return _batched_numpy(np.logical_or if self._data.dtype == np.bool_ else np.bitwise_or, self, other)

    def __invert__(self):
        return _batched_numpy(np.invert, self)

    def logical_not(self):
        return _batched_numpy(np.logical_not, self)

    def isfinite(self):
        return _batched_numpy(np.isfinite, self)

    def isnan(self):
        return _batched_numpy(np.isnan, self)


ITEM = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() on a "
        "Tensor, please try to rewrite what you're doing with other operations. If error is occurring somewhere "
        "inside PyTorch internals, please file a bug report.")
CONTROL_FLOW = ("vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We "
                "don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues .")
RANDOM_IN_VMAP = ("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
                 "'different' randomness flags on vmap or perform the randomness operation out of vmap")
INPLACE = ("vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor `other` in "
           "extra_args that has more elements than `self`. This happened due to `other` being vmapped over but "
           "`self` not being vmapped over in a vmap. Please try to use out-of-place operators instead of inplace "
           "arithmetic. If said operator is being called inside the PyTorch framework, please file a bug report "
           "instead.")


_STAND_INS = {}


def _stand_in(shape, dtype):
    """One shared read-only array per shape and dtype (see `BatchedTensor._data`)."""
    key = (shape, dtype)
    arr = _STAND_INS.get(key)
    if arr is None:
        if len(_STAND_INS) > 1000:
            _STAND_INS.clear()
        arr = np.full(shape, np.nan if dtype.kind in "fc" else 0, dtype)
        arr.flags.writeable = False
        _STAND_INS[key] = arr
    return arr


def batched(value, levels):
    """`value`, a physical tensor with one leading dim per level, as a BatchedTensor (itself if no levels)."""
    if not levels:
        return value
    t = BatchedTensor.__new__(BatchedTensor)
    t._value, t._levels = value, tuple(levels)
    return t


def levels_of(t):
    return t._levels if type(t) is BatchedTensor else ()


def shift(dim, n):
    """A dim (an int, a tuple of them, or None) of the example, as a dim of the physical tensor."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(shift(d, n) for d in dim)
    return dim + n if dim >= 0 else dim


def line_up(t, levels):
    """`t`'s physical tensor with one leading dim per level in `levels` (of size 1 where `t` is not batched at
    that level: broadcasting then pairs it with every example), then `t`'s own dims. A view."""
    value, own = (t._value, t._levels) if type(t) is BatchedTensor else (t, ())
    if own == tuple(levels):
        return value
    sizes = dict(zip(own, value.shape))
    return _with_ones(value, tuple(sizes.get(lv, 1) for lv in levels) + tuple(value.shape[len(own):]))


def _with_ones(t, shape):
    """`t` with size-1 dims inserted to make `shape`: always a view (where `reshape` would copy a strided `t`)."""
    return View.apply(t, shape=shape)


def batch_sizes(levels):
    return tuple(vmap_state.sizes[lv - 1] for lv in levels)


def to_physical(t, levels):
    """`t` (a value the size of one example of a physical tensor batched at `levels`) as a value of that
    physical tensor's size: its leading dims are `levels`, expanded where `t` is not batched at them. The
    levels of `t` that are not in `levels` stay batched (a BatchedTensor around the result)."""
    levels = tuple(levels)
    own = levels_of(t)
    if not levels:
        return t
    outer = tuple(lv for lv in own if lv not in levels)
    every = tuple(sorted(set(own) | set(levels)))
    value = line_up(t, every)
    value = value.expand(batch_sizes(every) + tuple(value.shape[len(every):]))
    order = [every.index(lv) for lv in outer + levels]
    if order != list(range(len(every))):
        value = value.permute(*order, *range(len(every), value.ndim))
    return batched(value, outer)


def from_physical(t, levels):
    """The inverse of `to_physical`: `t`, whose leading dims are the batch dims of `levels` (and which may be
    batched at other levels too), as a BatchedTensor at all of its levels."""
    levels = tuple(levels)
    if not levels:
        return t
    outer = levels_of(t)
    value = t._value if outer else t
    every = outer + levels
    order = sorted(range(len(every)), key=lambda i: every[i])
    if order != list(range(len(every))):
        value = value.permute(*order, *range(len(every), value.ndim))
    return batched(value, sorted(every))


# ---------------------------------------------------------------------------------------------------
# The batched path of Op.apply
# ---------------------------------------------------------------------------------------------------
def apply_batched(op, inputs, options):
    """Run `op` on inputs of which some are BatchedTensors: line them up, run the op's batching rule (or the
    loop over examples), and wrap the result (a tuple of results for an op with several outputs)."""
    levels = sorted({lv for a in (*inputs, *options.values()) if type(a) is BatchedTensor for lv in a._levels})
    physical = [line_up(a, levels) if isinstance(a, Tensor) else a for a in inputs]
    options = {k: line_up(v, levels) if type(v) is BatchedTensor else v for k, v in options.items()}
    n = len(levels)
    out = op.batch(n, *physical, **options) if op.batch is not None else loop_over_examples(op, n, physical, options)
    sizes = batch_sizes(levels)
    if isinstance(out, tuple):
        return tuple(batched(_full(o, n, sizes), levels) for o in out)
    return batched(_full(out, n, sizes), levels)


def _full(out, n, sizes):
    """Batch dims of size 1 (an op whose batched inputs did not reach its result) expanded to the batch size."""
    if tuple(out.shape[:n]) != sizes:
        out = out.expand(sizes + tuple(out.shape[n:]))
    return out


def elementwise(op, n, *inputs, **options):
    """The batching rule of an elementwise op: the batch dims are more leading dims. Each tensor's own dims
    get size-1 dims in front up to the largest number of them, so that broadcasting pairs dims as it would
    for one example."""
    rank = max(a.ndim - n for a in inputs if isinstance(a, Tensor))
    inputs = [line_up_rank(a, n, rank) if isinstance(a, Tensor) else a for a in inputs]
    return op.apply(*inputs, **options)


def line_up_rank(t, n, rank):
    """A physical tensor with `n` batch dims, with size-1 dims after them so that it has `rank` example dims."""
    pad = rank - (t.ndim - n)
    if pad <= 0:
        return t
    return _with_ones(t, tuple(t.shape[:n]) + (1,) * pad + tuple(t.shape[n:]))


def elementwise_then_reduced(op, n, *inputs, reduction, **options):
    """The batching rule of a loss: each example's elementwise loss, then reduced over the example's dims."""
    loss = elementwise(op, n, *inputs, reduction="none", **options)
    dims = tuple(range(n, loss.ndim))
    if reduction == "none" or not dims:
        return loss
    return loss.mean(dims) if reduction == "mean" else loss.sum(dims)


def expand_batch(tensors, n):
    """Lined-up physical tensors expanded to the whole batch (for ops that do not broadcast: cat, stack)."""
    sizes = tuple(max(t.shape[k] for t in tensors) for k in range(n))
    return [t if tuple(t.shape[:n]) == sizes else t.expand(sizes + tuple(t.shape[n:])) for t in tensors]


def batch_index(index, n):
    """An index of the example as an index of the physical tensor: `:` for each of the `n` batch dims first."""
    return (slice(None),) * n + (index if isinstance(index, tuple) else (index,))


_warned = set()

FALLBACK = ("There is a performance drop because we have not yet implemented the batching rule for {}. Please file "
            "us an issue on GitHub so that we can prioritize its implementation.")


def loop_over_examples(op, n, inputs, options):
    """The fallback for an op without a batching rule: run it on each example, then stack the results."""
    if op.name not in _warned:
        _warned.add(op.name)
        _warn_user(FALLBACK.format(f"autograd_lite::{op.name}"))
    shapes = [a.shape[:n] for a in inputs if isinstance(a, Tensor)]
    sizes = [max(s[k] for s in shapes) for k in range(n)]
    results = []
    for index in itertools.product(*[range(s) for s in sizes]):
        example = [_example(a, n, index) if isinstance(a, Tensor) else a for a in inputs]
        results.append(op.apply(*example, **options))
    if results and isinstance(results[0], tuple):
        return tuple(_stacked([r[k] for r in results], sizes, stack) for k in range(len(results[0])))
    return _stacked(results, sizes, stack)


def _example(t, n, index):
    """One example of a lined-up physical tensor: index 0 along its size-1 batch dims."""
    return t[tuple(i if t.shape[k] != 1 else 0 for k, i in enumerate(index))] if n else t


def _stacked(results, sizes, stack):
    out = stack(results, 0)
    return out.reshape(tuple(sizes) + tuple(out.shape[1:]))


def _batched_numpy(ufunc, *args):
    """A numpy function of BatchedTensors and tensors (comparisons, logical ops), lined up as for an
    elementwise op; not recorded (it has no gradient)."""
    levels = sorted({lv for a in args if type(a) is BatchedTensor for lv in a._levels})
    n = len(levels)
    tensors = [a for a in args if isinstance(a, Tensor)]
    rank = max(a.ndim for a in tensors)
    arrays = [line_up_rank(line_up(a, levels).detach(), n, rank)._data if isinstance(a, Tensor) else a for a in args]
    return batched(_wrap(np.asarray(ufunc(*arrays))), levels)


DYNAMIC_SHAPE = "vmap: We do not support batching operators that can output dynamic shape."


def index_by_batched(x, index, index_op):
    """`x[index]` inside vmap, where the index holds BatchedTensors of integers: each example indexed by its own
    indices. numpy's advanced indexing does it in one op: the batch dims are indexed by aranges, which broadcast
    with the index arrays. (The batched index arrays must come first in `index`, as in `x[i]` or `x[i, j, :]`.)"""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [k for k, item in enumerate(items) if isinstance(item, (Tensor, np.ndarray, list))]
    if arrays != list(range(len(arrays))):
        raise NotImplementedError("vmap: autograd_lite indexes with batched tensors only when they come first in the "
                                  "index (x[i], x[i, j], x[i, :]); move that dim to the front first (movedim)")
    if any(np.asarray(items[k]._data if isinstance(items[k], Tensor) else items[k]).dtype == np.bool_ for k in arrays):
        raise RuntimeError(DYNAMIC_SHAPE)
    levels = sorted({lv for t in (x, *items) if type(t) is BatchedTensor for lv in t._levels})
    n, sizes = len(levels), batch_sizes(levels)
    value = line_up(x, levels)
    value = value.expand(sizes + tuple(value.shape[n:])) if tuple(value.shape[:n]) != sizes else value
    found = [line_up(items[k], levels)._data if isinstance(items[k], Tensor) else np.asarray(items[k]) for k in arrays]
    rank = max(f.ndim - (n if isinstance(items[k], Tensor) else 0) for f, k in zip(found, arrays))
    aranges = [np.arange(s).reshape((1,) * j + (s,) + (1,) * (n - j - 1 + rank)) for j, s in enumerate(sizes)]
    return batched(index_op.apply(value, index=(*aranges, *found, *items[len(arrays):])), levels)


def reduce_batched(find, x, dim, keepdim, dtype):
    """A numpy reduction that is not an op (argmax, all, ...) of a BatchedTensor, over the example's dims `dim`
    (an int, a tuple, or None for all of them), for every example; not recorded (it has no gradient)."""
    n, value = len(x._levels), x._value._data
    if dim is None:  # all of the example's dims: flattened into one
        out = find(value.reshape(value.shape[:n] + (-1,)), axis=n)
        if keepdim:
            out = out.reshape(out.shape + (1,) * (value.ndim - n))
    else:
        out = find(value, axis=shift(dim, n), keepdims=keepdim)
    return batched(_wrap(np.asarray(out, dtype)), x._levels)


def inplace_batched(x, op, other, inplace):
    """An in-place op (`x.add_(y)`) inside vmap: `op` runs on the batch (by the batching rules) and its result is
    written into `x`'s physical tensor. Writing a value batched at a level into a tensor that is not batched
    at it is an error, raised before anything is written."""
    own, theirs = levels_of(x), levels_of(other)
    if not set(theirs) <= set(own):
        raise RuntimeError(INPLACE)
    sizes = batch_sizes(own)

    def op_on_batch(old, _):
        result = op(batched(old, own), other)
        return _full(line_up(result, own), len(own), sizes)

    # `inplace` sees physical tensors only (it decides from `other` whether to record)
    inplace(x._value, op_on_batch, line_up(other, own) if isinstance(other, Tensor) else other)
    return x


# last: these files' ops import this file's rules
from .indexing import stack
from .shape import View
