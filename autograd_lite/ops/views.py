r"""Views and in-place changes, as PyTorch records them.

A view (`b[0:1]`, `b.t()`, `b.view(...)`) shares its base's memory and version counter. When either is
changed in place, what the other holds changes too, and so must its history:

* an in-place op on the base (`b.mul_(3)`) gives the base a new `grad_fn`; every view of it then gets a
  new one as well, `AsStridedBackward0`: "my values are these positions of the base", pointing at the
  base's new history. (Without it, `v.sum().backward()` would still go through the old `b`.)
* an in-place op on a view (`v.mul_(3)`) changes part of the base: the base's new `grad_fn` is
  `CopySlices`, which holds the op's node. Its rule sends the gradient of the view's positions through
  that node (to the view's old values and to the op's other inputs) and the rest of the gradient, as
  it is, to the base's old history. The views are then rebased as above.

Both rest on `view_positions`: which elements of the base a view holds (as indices into the base's
flattened memory), computed from the two numpy arrays' addresses and strides, as PyTorch's `as_strided`
reads them from the storage.

The outputs of `split`, `chunk` and `unbind` (and views of them) are not rebased, as in PyTorch: one node serves
them all, and PyTorch refuses them instead. An in-place op on one of them with grad on raises; once their memory was
written any other way (through the base, another view, or under no_grad), reading their `grad_fn` raises, and so
does every op that would record them (`Tensor.grad_fn`, `inplace` in copies.py).

Forward mode follows PyTorch's model of tangents (the end of this file):

* A tangent is laid out in memory as its primal is (op.py `same_layout`), so a view's tangent is the same view of
  its *tangent base*'s tangent, sharing that tangent's memory, version counter and history. The tangent base
  (`tangent_base`) is the view's base, except under a dual: `make_dual(x, t)` (and `unpack_dual`'s primal) is a
  view of `x` whose tangent is its own, and the views made of it share that one (in PyTorch a dual is a view of `x`
  for reverse mode only).
* An in-place op writes its new tangent into the tensor's tangent (`write_tangent`): the tangent object stays, its
  version moves, and whatever shares its memory (the tangent base's tangent, the other views') sees the change. The
  write is the tangent's `copy_`, recorded where grad mode is on, so a tangent that requires grad
  (forward-over-reverse) keeps its graph, and one written under no_grad keeps its old history; where a graph is
  recorded, the op's rule reads a copy of the old tangent (`rule_tangent`), so that graph does not see it change.
* A tensor without a tangent first takes one to write into (`_take_tangent`): the new tangent itself if it is laid
  out as the tensor; for a view, the same view of its tangent base's tangent (zeros if the base had none, and the
  base's other views then get theirs too). Every tangent given so is attached to the level (`attach_tangent`), so
  none outlives it. Inside vmap (jacfwd's batch of tangents) all this holds on the physical tensors, each example
  of a batched tangent laid out as the primal.
"""
import numpy as np

from .. import grad_mode
from ..grad_mode import attach_tangent
from ..graph import gradient_edge, next_sequence_number
from ..tensor import _wrap
from .batching import BatchedTensor, batch_sizes, batched
from .op import Op, OpNode, _const, _in_memory, register_view, same_layout, zeros_laid_out_like

def view_positions(view, base):
    """The positions in `base` of the elements of `view`: flat indices into the base's memory, an array of the
    view's shape (flat, so that a view of a 0-d base, `x.flatten()`, has positions too)."""
    b, v = base._data, view._data
    if not b.flags.c_contiguous:
        raise RuntimeError("autograd_lite cannot locate a view of a base whose memory is not contiguous")
    item = b.itemsize
    flat = np.full(v.shape, (v.__array_interface__["data"][0] - b.__array_interface__["data"][0]) // item,
                   dtype=np.intp)
    for k, (n, stride) in enumerate(zip(v.shape, v.strides)):
        shape = [1] * v.ndim
        shape[k] = n
        flat = flat + np.arange(n, dtype=np.intp).reshape(shape) * (stride // item)
    return flat


class AsStrided(Op):
    r"""$z=x[p]$ for the positions $p$ of a view in its base.   VJP: $\bar x=$ zeros with $\bar z$ added at $p$.
    JVP: $\dot z=\dot x[p]$. The node of a view rebased after an in-place change: PyTorch's `AsStridedBackward0`."""
    name = "AsStrided"

    @staticmethod
    def forward(ctx, x, positions):
        ctx.positions, ctx.base_shape = positions, x.shape
        return x.reshape(-1)[positions]

    @staticmethod
    def vjp(ctx, grad):
        return (AsStridedScatter.apply(grad, positions=ctx.positions, base_shape=ctx.base_shape),)

    @staticmethod
    def jvp(ctx, x_t):
        return AsStrided.apply(x_t, positions=ctx.positions)

    @classmethod
    def batch(cls, n, x, positions):
        """Inside vmap: the batch is one bigger base, in which each example's positions start where it does."""
        return cls.apply(x, positions=batch_positions(positions, x.shape[:n], x.shape[n:]))


def batch_positions(positions, batch_shape, base_shape):
    """The positions in a physical tensor (`batch_shape` + `base_shape`) of one view in each of its examples: an
    array of shape `batch_shape` + the view's."""
    positions = np.asarray(positions[0] if isinstance(positions, tuple) else positions)  # ((p,): numpy's index p)
    size = int(np.prod(base_shape, dtype=np.intp))
    starts = np.arange(int(np.prod(batch_shape, dtype=np.intp)), dtype=np.intp) * size
    return starts.reshape(tuple(batch_shape) + (1,) * positions.ndim) + positions


class AsStridedScatter(Op):
    r"""$z=$ zeros of the base's shape with $x$ added at positions $p$ (`AsStrided`'s reverse rule).
    VJP: $\bar x=\bar z[p]$.   JVP: $\dot z=$ zeros with $\dot x$ added at $p$."""
    name = "AsStridedScatter"

    @staticmethod
    def forward(ctx, x, positions, base_shape):
        ctx.positions, ctx.base_shape = positions, base_shape
        out = np.zeros(int(np.prod(base_shape)), dtype=x.dtype)
        np.add.at(out, positions, x)
        return out.reshape(base_shape)

    @staticmethod
    def vjp(ctx, grad):
        return (AsStrided.apply(grad, positions=ctx.positions),)

    @staticmethod
    def jvp(ctx, x_t):
        return AsStridedScatter.apply(x_t, positions=ctx.positions, base_shape=ctx.base_shape)

    @classmethod
    def batch(cls, n, x, positions, base_shape):
        """Inside vmap: as `AsStrided`'s, one bigger base holding every example's."""
        batch_shape = tuple(x.shape[:n])
        return cls.apply(x, positions=batch_positions(positions, batch_shape, base_shape),
                         base_shape=batch_shape + tuple(base_shape))


def rebase_views(base, also=None):
    """Give every live view of `base` (and `also`, a view of it) a new history: its positions in the base's
    current history."""
    if base._grad_fn is None and not base._requires_grad:
        return
    views = [ref() for ref in base._views or ()]
    if also is not None and not any(v is also for v in views):
        views.append(also)
    for view in views:
        if view is not None and view._split_version is None:  # an output of split: refused from now on (op.py)
            rebase_view(view, base)


def rebase_view(view, base):
    """Give `view` the history "these positions of `base`" (AsStridedBackward0), pointing at the base's."""
    node = AsStrided.node_class()
    node.positions, node.base_shape = view_positions(view, base), base._data.shape
    edge = gradient_edge(base)
    node._seq = next_sequence_number()
    node._next = (edge,)
    node._inputs_meta = ((base._data.shape, base._data.dtype),)
    node.needs_input_grad = (edge is not None,)
    view._grad_fn, view._requires_grad, view._output_nr = node, True, None


class CopySlicesNode(OpNode):
    """PyTorch's `CopySlices`: the base's node after an in-place op on one of its views. It holds the op's
    own node (`fn`); its edges are the base's old history, then the op's other inputs."""

    __slots__ = ()

    def name(self):
        return "CopySlices"

    def _release(self):
        self.__dict__["fn"]._release()
        super()._release()
        self._freed = True


class CopySlices(Op):
    r"""The base $b'=b$ with the view's positions $p$ replaced by $f(b[p], y)$, for an in-place op $f$ on a view.
    VJP: $\bar b=\bar b'$ with zeros at $p$, plus $f$'s VJP of $\bar b'[p]$ put back at $p$; $\bar y$ from $f$'s VJP."""
    name = "CopySlices"
    node_class = None
    batch = None  # never applied (`inplace_on_view` makes its node), so no batching rule: its VJP's ops have theirs

    @staticmethod
    def vjp(ctx, grad):
        fn, positions = ctx.fn, ctx.positions
        keep = np.ones(ctx.base_shape, dtype=bool)
        keep.reshape(-1)[positions] = False
        grads = fn.op.vjp(fn, AsStrided.apply(grad, positions=positions))
        g_view = grads[0]
        g_base = grad * _const(keep.astype(grad._data.dtype))
        if g_view is not None and ctx.needs_input_grad[0]:
            if g_view.shape != ctx.view_shape:
                g_view = g_view.sum_to_size(ctx.view_shape)
            g_base = g_base + AsStridedScatter.apply(g_view, positions=positions, base_shape=ctx.base_shape)
        return (g_base if ctx.needs_input_grad[0] else None,) + tuple(grads[1:])

    @staticmethod
    def jvp(ctx, *tangents):  # never called: `write_tangent` writes into the view's tangent, a view of the base's
        raise NotImplementedError


CopySlices.node_class = type("CopySlices", (CopySlicesNode,), {"__slots__": (), "op": CopySlices,
                                                                "__module__": __name__})


def inplace_on_view(x, op, other):
    """`op` applied in place to the view `x`, recorded as PyTorch records it (see the module docstring).
    Returns (the new values, as a tensor for `inplace` to check and write into `x`; the base's new node)."""
    base = x._base
    positions = view_positions(x, base)
    before = _wrap(base._data, base._vc)  # the base as it is now, with its history
    before._grad_fn, before._requires_grad, before._output_nr = base._grad_fn, base._requires_grad, base._output_nr
    old = AsStrided.apply(before, positions=positions)  # the view's values before the op (a copy), from the base
    old._tangent = rule_tangent(x)
    result = op(old, other)
    fn = result.grad_fn
    if fn is None:
        return result, None
    node = CopySlices.node_class()
    node.fn, node.positions, node.base_shape, node.view_shape = fn, positions, base._data.shape, x._data.shape
    edge = gradient_edge(base) if base._requires_grad else None
    node._seq = next_sequence_number()
    node._next = (edge,) + fn._next[1:]
    if fn._next_nr is not None:
        node._next_nr = (0,) + fn._next_nr[1:]
    node._inputs_meta = ((base._data.shape, base._data.dtype),) + fn._inputs_meta[1:]
    node.needs_input_grad = (edge is not None,) + tuple(fn.needs_input_grad[1:])
    return result, node


# ---------------------------------------------------------------------------------------------------
# Forward mode: an in-place op writes the new tangent into the old one, as PyTorch does (see the module docstring)
# ---------------------------------------------------------------------------------------------------
def tangent_base(t):
    """The tensor whose tangent `t`'s tangent is part of (all of, for itself): a view's base as a rule, but a dual
    (`_tangent_base` True on it) holds a tangent of its own, and its views (`_tangent_base` the dual) share it."""
    own = t._tangent_base
    if own is None:
        return t._base if t._base is not None else t
    return t if own is True else own


def rule_tangent(x):
    """The tangent that an in-place op's forward rule reads for `x` when a graph is recorded: a copy of x's, as
    PyTorch's rule reads where grad mode is on, since the new tangent is then written into x's own one, which the
    rule's graph must not see change."""
    return None if x._tangent is None else x._tangent.clone()


def write_tangent(x, tangent):
    """Forward mode: `x` was written in place, and `tangent` is its new tangent: write it into x's tangent (taken
    first if x has none), as the module docstring describes."""
    own = x._tangent if x._tangent is not None else _take_tangent(x, tangent)
    if own is tangent:
        return
    if (own._requires_grad or tangent._requires_grad or own._base is not None or not own._data.flags.writeable
            or own.__class__ is BatchedTensor or tangent.__class__ is BatchedTensor):
        own.copy_(tangent)  # (recorded where grad mode is on; a view's base and other views follow)
    else:  # nothing to record, nothing else to update: the copy alone, as copy_ makes it
        np.copyto(own._data, tangent._data)
        own._vc[0] += 1


def _take_tangent(x, tangent):
    """A tangent for `x`, which has none, to write `tangent` into: `tangent` itself where x can take it as it is
    (x is its own tangent base, and `tangent` is laid out as x); zeros laid out as x; or, for a view, the same view
    of its tangent base's tangent (zeros, if the base had none, and the base's other views get theirs too). Inside
    vmap (jacfwd's batch of tangents) the same, on the physical tensors: zeros for every example, each laid out as x."""
    base = tangent_base(x)
    if base is x:
        own = tangent if _fits(tangent, x) else _zeros_tangent(x, tangent)
    else:
        if base._tangent is None:
            attach_tangent(base, _zeros_tangent(base, tangent))
            lend_tangent_to_views(base)
        if x._tangent is not None:  # (lent to it as to the base's other views)
            return x._tangent
        own = view_tangent(x, base)  # (a view made where grad mode was off is not among the base's views)
    attach_tangent(x, own)
    if base is x:
        lend_tangent_to_views(x)
    return own


def _fits(tangent, primal):
    """Whether `tangent` can be `primal`'s as it is (see `same_layout`). A batched tangent: if its physical tensor
    owns its memory, writable, with each example a block laid out as a contiguous primal."""
    if tangent.__class__ is not BatchedTensor:
        return same_layout(tangent._data, primal._data)
    p = tangent._value._data
    return p.base is None and p.flags.c_contiguous and p.flags.writeable and primal._data.flags.c_contiguous


def _zeros_tangent(primal, like):
    """Zeros to be `primal`'s tangent, laid out as it is; batched as `like` is (physical: a block per example)."""
    if like.__class__ is not BatchedTensor:
        return _wrap(zeros_laid_out_like(primal._data))
    zeros = np.zeros(batch_sizes(like._levels) + primal._data.shape, primal._data.dtype)
    return batched(_wrap(zeros), like._levels)


def view_tangent(view, base):
    """The tangent of `view` when its tangent base `base` has one: the same view of the base's tangent (the same
    positions in its memory), sharing its memory, version counter and history, as PyTorch's `fw_grad` reads it. A
    batched tangent: the same view of each of its examples, on its physical tensor."""
    t = base._tangent
    if not _fits(t, base):  # (only a tangent laid out as its primal has the view's positions): a copy
        return AsStrided.apply(t, positions=_positions_in(view, base))
    physical, n = (t._value, len(t._levels)) if t.__class__ is BatchedTensor else (t, 0)
    v, p = view._data, physical._data
    at, memory = _in_memory(p)  # the view's offset in its base, in elements, is its tangent's in the base's tangent
    offset = (v.__array_interface__["data"][0] - base._data.__array_interface__["data"][0]) // v.itemsize
    start = at + offset * p.itemsize
    strides = p.strides[:n] + tuple(s // v.itemsize * p.itemsize for s in v.strides)
    tangent = _wrap(np.ndarray(p.shape[:n] + v.shape, p.dtype, buffer=memory, offset=start, strides=strides),
                    physical._vc)
    tangent._base = physical._base if physical._base is not None else physical
    if grad_mode.enabled:
        register_view(tangent._base, tangent)
    if tangent._base._requires_grad:
        rebase_view(tangent, tangent._base)
    return batched(tangent, t._levels) if n else tangent


def lend_tangent_to_views(base):
    """Give each view sharing `base`'s tangent that has none a view of it."""
    root = base._base if base._base is not None else base  # (the views of a dual are registered with its primal's)
    for ref in root._views or ():
        view = ref()
        if view is not None and view._tangent is None and view is not base and tangent_base(view) is base:
            attach_tangent(view, view_tangent(view, base))


def _positions_in(view, base):
    """The positions of `view`'s elements among `base`'s (flat indices in base's order): both share the memory of
    the base's base, if it has one (a dual's primal)."""
    root = base._base if base._base is not None else base
    positions = view_positions(view, root)
    if base is root:
        return positions
    index = np.full(root._data.size, -1, dtype=np.intp)  # root's position -> base's position
    index[view_positions(base, root).reshape(-1)] = np.arange(base._data.size)
    return index[positions]


def rebase_after_write(x, node):
    """After `x` was written in place: give its base the node `node` (CopySlices) if `x` is a view, then
    rebase every view of the base (`x` among them)."""
    if x._base is None:
        rebase_views(x)
        return
    base = x._base
    if node is not None:
        base._grad_fn, base._requires_grad, base._output_nr = node, True, None
    rebase_views(base, also=x)

