r"""In-place ops made functional: what the tracer writes down when an op writes into a tensor's memory.

Eager autograd_lite (as PyTorch) runs `b.mul_(y)` as the out-of-place `b * y` and copies the result into
b's memory. Every array that shares that memory changes with it: b's views, or b's base and its other
views if b is a view. The trace names values, not memory, so the write is written down as values, as
`torch.compile`'s *functionalisation* does:

* the written tensor now holds the op's result: later ops read that value (no code: a `Bind`);
* an array that holds some of the written elements and others too (the base of a written view) gets its
  old value with those elements replaced, `Overwrite`;
* an array that lies inside the written one (a view of it) is read again if it is used later: the same
  view op on its base's new value (PyTorch's "view replay"), or, for a view no single op made, its
  elements picked from the new value (`AsStrided`). Only then: a view nobody reads again costs nothing.

::

    # x: 3 x 2                 # the generated code
    b = x * 1.0                t0 = x0 * 1.0
    v = b[1:]                  t1 = Slice(t0, index=slice(1, None, None))
    v.mul_(y)                  t2 = t1 * x1
                               t3 = Overwrite(t0, t2, at=slice(2, 6, 1))   # b: its elements 2..5 are now t2
    return b                   return t3

The generated code never writes into an array, so the passes need no notion of memory: a read before a
write and one after it are two names (CSE cannot merge them). Buffer reuse is the one pass that writes, and
it is told which names share memory (`Program.aliases`).

The record keeps one value per array object: just before a write, each recorded array that holds written
elements is replaced, everywhere it was recorded so far, by a copy of itself as it was (`snapshot`: the
copies share one new block of memory as the originals did, so that buffer reuse still sees which values are
views of which); from then on the array object itself stands for its new value.

An in-place op on an input of the compiled function (or a view of one), or on a tensor that the function
did not create (one it reads from its closure, or `from_numpy`), is a `CompileError` naming the line: the
compiled code computes values and never changes the caller's tensors, which eager would.
"""
import numpy as np

from ..ops import AsStrided, ToCopy
from ..ops.copies import _bounds, dense_memory
from ..ops.views import view_positions
from .passes import _root


class Overwrite:
    r"""$z=$ a copy of $b$ with its elements $p$ (`at`, flat positions) replaced by the elements $s$ (`source`; all
    by default) of $v$: the base of a view after an in-place op on the view. Not an autograd op: the tracer
    writes it down, and only the compiled code runs it."""
    name = "Overwrite"

    @staticmethod
    def forward(ctx, base, values, at, source=None):
        out = base.copy()
        flat = values.reshape(-1)
        out.reshape(-1)[at] = flat if source is None else flat[source]
        return out


class Memory:
    """What the tracer knows of the memory of the arrays it recorded; made at the first in-place op.

    Kept up to date from the record at each write (`catch_up`), so that a trace without in-place ops pays
    nothing: the arrays by the memory block they live in, the entries that hold each array, the arrays a
    recorded step made, and the views that a write made stale (to be read again when next used)."""

    def __init__(self, tracer):
        self.tracer = tracer
        self.seen = 0  # record entries taken into account so far
        self.blocks = {}  # id(owner of the memory) -> {id(a): a} for the arrays whose value the record holds now
        self.uses = {}  # id(a) -> the record entries that hold a
        self.made = set()  # ids of the arrays that recorded steps made (or Binds gave a value)
        self.producer = {}  # id(a) -> the step that made a
        self.live = {}  # id(copy) -> the array it is a copy of (see snapshot)

    def catch_up(self):
        for entry in self.tracer.steps[self.seen:]:
            for a in entry.made():
                self.made.add(id(a))
                if hasattr(entry, "op"):  # a Step (a Bind makes no value)
                    self.producer[id(a)] = entry
            for a in entry.arrays():
                self.uses.setdefault(id(a), []).append(entry)
                self.blocks.setdefault(_root(a), {})[id(a)] = a
        self.seen = len(self.tracer.steps)

    def write(self, target, new, where):
        """Write down, as values, that `new` (an op's result) is about to be copied into the array `target`.
        Called before the copy, while every array still holds its old values."""
        tracer = self.tracer
        if (new.shape != target.shape or not target.flags.writeable or target.size == 0
                or not np.can_cast(new.dtype, target.dtype, "same_kind")):
            return  # eager refuses this write next with its own message (or, for no elements, nothing changes)
        for x in tracer.inputs:
            if np.may_share_memory(x, target):
                tracer.refuse_write(
                    "writes into an input of the compiled function (or a view of one); the compiled code never "
                    "changes its inputs. Write into a copy (`x = x.clone()`) or use the out-of-place op (`x = x + y`, "
                    "not `x += y`)")
        if new.dtype != target.dtype:  # eager's copy casts the result to the written tensor's dtype
            new = tracer.record(ToCopy, [new], {"dtype": target.dtype}, new.astype(target.dtype), where)
        self.catch_up()
        tracer.stale.pop(id(target), None)  # its old value is not read: it is about to get a new one
        block = self.blocks.get(_root(target), {})
        touched = [a for a in block.values() if a.size and np.may_share_memory(a, target)]
        inside, around = [], []  # arrays wholly inside the written one; arrays with some written elements
        find = _Finder(target)
        for a in touched:
            if a.dtype != target.dtype:
                tracer.refuse_write("writes into memory that a tensor of another dtype reads (a view that "
                                    "reinterprets the bits); this cannot be traced")
            if find.contains(a):
                inside.append(a)
                continue
            at, source = find(a)
            if len(at) == a.size:
                inside.append(a)
            elif len(at):
                around.append((a, at, source))
        for a in [target, *inside, *(a for a, _, _ in around)]:
            if id(a) not in self.made and id(a) not in tracer.created:
                tracer.refuse_write(
                    "writes into a tensor the compiled function did not create (one it reads from outside, as a "
                    "closure); the compiled code never changes such tensors. Pass it in and return the new value, or "
                    "write into a copy made inside the function")
        old = self.snapshot([*inside, *(a for a, _, _ in around)])
        tracer.bind(target, new)
        for a in inside:
            if a is target:
                continue
            if _same_elements(a, target):
                tracer.bind(a, new)
            else:
                again = f"{where} (the view again, after the write)" if isinstance(where, str) else where
                tracer.stale[id(a)] = (a, target, again)  # read again from target's new value when next used
        for a, at, source in around:
            options = {"at": _compact(at)}
            if len(source) != new.size or not np.array_equal(source, np.arange(new.size)):
                options["source"] = _compact(source)
            tracer.record(Overwrite, [old[id(a)], new], options, a, where)

    def snapshot(self, arrays):
        """Replace each of `arrays` by a copy of itself as it is now, in every record entry that holds it (so that
        the record keeps the old value; the array object itself gets the new one). The copies are laid out in
        one new block of memory as the originals are in theirs: a copy of a view is a view of the copy of its
        base. Returns {id(a): its copy}."""
        if not arrays:
            return {}
        bounds = [_bounds(a) for a in arrays]
        lo, hi = min(b[0] for b in bounds), max(b[1] for b in bounds)
        memory = np.empty(hi - lo, np.uint8)
        copies, entries = {}, {}
        for a in arrays:
            copy = np.ndarray(a.shape, a.dtype, buffer=memory, offset=a.__array_interface__["data"][0] - lo,
                              strides=a.strides)
            np.copyto(copy, a)
            copy.flags.writeable = a.flags.writeable
            copies[id(a)] = copy
            self.live[id(copy)] = a
            self.blocks[_root(a)].pop(id(a), None)
            for entry in self.uses.pop(id(a), ()):
                entries[id(entry)] = entry
        for entry in entries.values():
            entry.replace(copies)
        return copies

    def read(self, a):
        """`a` is about to be read and a write made it stale: record its new value, from its base's."""
        a, base, where = self.tracer.stale.pop(id(a))
        step = self.producer.get(id(a))
        if (step is not None and getattr(step.op, "is_view", False) and len(step.results) == 1
                and isinstance(step.inputs[0], np.ndarray)):  # a view made by one op: that op again, on its base
            inputs = [self.live.get(id(i), i) if isinstance(i, np.ndarray) else i for i in step.inputs]
            for i in inputs:
                if isinstance(i, np.ndarray) and id(i) in self.tracer.stale:
                    self.read(i)
            self.tracer.record(step.op, inputs, step.options, a, where)
            return
        if id(base) in self.tracer.stale:
            self.read(base)
        _, source = _Finder(base)(a)  # every element of a is one of base's
        self.tracer.record(AsStrided, [base], {"positions": source.reshape(a.shape)}, a, where)


def wrote_tangent(tracer, x, base, before, where):
    """Forward mode: an in-place op on `x` gave it a new tangent, and `views.write_tangent` worked out with numpy
    the new tangent of x's base (`before` with x's positions replaced) and of the base's other views (their
    positions of it). Write those down as the same steps on values."""
    if base is not x:
        at = view_positions(x, base).reshape(-1)
        tracer.record(Overwrite, [before, x._tangent._data], {"at": _compact(at)}, base._tangent._data, where)
    for ref in base._views or ():
        view = ref()
        if view is not None and view is not x:
            tracer.record(AsStrided, [base._tangent._data], {"positions": view_positions(view, base)},
                          view._tangent._data, where)


class _Finder:
    """`_Finder(target)(a)`: (the flat positions in `a` of its elements that are also elements of `target`, the
    flat positions in `target` of those same elements), both in C order."""

    def __init__(self, target):
        self.target, self.sorted = target, None
        self.dense, self.bounds = dense_memory(target), _bounds(target)

    def contains(self, a):
        """Whether every element of `a` is one of target's, told quickly: True only if target's elements fill
        a block of memory and `a`'s lie within it, aligned alike (else False: ask by address)."""
        lo, hi = _bounds(a)
        item = a.itemsize
        return (self.dense and self.bounds[0] <= lo and hi <= self.bounds[1] and (lo - self.bounds[0]) % item == 0
                and all(stride % item == 0 for stride in a.strides))

    def __call__(self, a):
        if self.sorted is None:  # target's addresses, sorted, once
            addresses = element_addresses(self.target)
            self.order = np.argsort(addresses, kind="stable")
            self.sorted = addresses[self.order]
        mine = element_addresses(a)
        k = np.searchsorted(self.sorted, mine).clip(max=len(self.sorted) - 1)
        hit = self.sorted[k] == mine
        return np.flatnonzero(hit), self.order[k[hit]]


def element_addresses(a):
    """The memory address of each element of `a`, flat, in C order."""
    out = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.intp)
    for k, (n, stride) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[k] = n
        out = out + (np.arange(n, dtype=np.intp) * stride).reshape(shape)
    return out.reshape(-1)


def _same_elements(a, target):
    return (a.shape == target.shape and a.strides == target.strides
            and a.__array_interface__["data"][0] == target.__array_interface__["data"][0])


def _compact(positions):
    """Flat positions as a slice when they are evenly spaced (`slice(2, 6, 1)` reads better than a constant)."""
    if len(positions) == 1:
        return slice(int(positions[0]), int(positions[0]) + 1, 1)
    step = int(positions[1] - positions[0])
    if step > 0 and np.array_equal(np.diff(positions), np.full(len(positions) - 1, step)):
        return slice(int(positions[0]), int(positions[-1]) + 1, step)
    return positions
