r"""`vmap`: call a function once on a whole batch instead of once per example.

`vmap(f)(xs)` gives what `stack([f(x) for x in xs])` gives, but `f` runs once: its arguments are
`BatchedTensor`s, which look like one example (their `shape` leaves the batch dim out) and hold the
whole batch, and every op they meet runs by its *batching rule*, once for all examples (see
`ops/batching.py`). This file handles the arguments and the results: which dim of each argument is
the batch dim (`in_dims`), where it goes in each result (`out_dims`), the checks PyTorch makes, and
`chunk_size`.

Nesting gives each vmap its own *level* (1 for the outermost): a tensor batched by two vmaps carries
both batch dims, outer first. `jacrev`, `jacfwd` and `hessian` in `func` are built on vmap: the n
passes of the textbook algorithms become one pass over a batch of n basis vectors.
"""
from .ops import cat
from .ops.batching import batched, levels_of, vmap_state
from .sizes import _dim
from .tensor import Tensor

__all__ = ["vmap"]


def _tree_leaves(tree):
    """The leaves of a nested tuple / list / dict, in order, and a function putting new leaves in their place."""
    if type(tree) in (tuple, list):
        parts = [_tree_leaves(x) for x in tree]
        kind = type(tree)
    elif type(tree) is dict:
        keys = list(tree)
        parts = [_tree_leaves(tree[k]) for k in keys]
        kind = dict
    else:
        return [tree], lambda leaves: leaves[0]
    counts = [len(p[0]) for p in parts]

    def rebuild(leaves):
        out, k = [], 0
        for (_, build), c in zip(parts, counts):
            out.append(build(leaves[k:k + c]))
            k += c
        return dict(zip(keys, out)) if kind is dict else kind(out)

    return [leaf for p in parts for leaf in p[0]], rebuild


def _treespec(tree):
    """The structure of a tree as PyTorch's pytree prints it (`TreeSpec(tuple, None, [*, *])`)."""
    if type(tree) in (tuple, list):
        return f"TreeSpec({type(tree).__name__}, None, [{', '.join(_treespec(x) for x in tree)}])"
    if type(tree) is dict:
        return f"TreeSpec(dict, {list(tree)}, [{', '.join(_treespec(x) for x in tree.values())}])"
    return "*"


def _dims_per_leaf(dims, tree, complain):
    """One dim per leaf of `tree`: `dims` is an int or None for a whole subtree, or a tree of the same structure."""
    if not isinstance(dims, (tuple, list, dict)):  # one dim (checked later) for every leaf of the subtree
        return [dims] * len(_tree_leaves(tree)[0])
    if type(dims) is not type(tree) or len(dims) != len(tree) or (type(dims) is dict and dims.keys() != tree.keys()):
        complain()
    if type(dims) is dict:
        return [d for k in dims for d in _dims_per_leaf(dims[k], tree[k], complain)]
    return [d for sub, t in zip(dims, tree) for d in _dims_per_leaf(sub, t, complain)]


def _vmap_name(func):
    return getattr(func, "__name__", repr(func))


def _batched_leaves(func, in_dims, args):
    """The arguments' leaves with their in_dims, checked as PyTorch checks them; and the batch size."""
    name = _vmap_name(func)
    where = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)):
        message = (f"{where}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
                   f"structure of inputs, got: {type(in_dims)}.")
        raise ValueError(message)  # noqa: TRY004 (PyTorch raises ValueError)
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are trying "
                         "to vmap over a function with no inputs. The latter is unsupported.")

    def complain():
        raise ValueError(f"{where}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
                         f"{_treespec(in_dims)} but inputs has structure {_treespec(args)}.")

    leaves, rebuild = _tree_leaves(args)
    dims = _dims_per_leaf(in_dims, args, complain)
    sizes = []
    for i, (x, d) in enumerate(zip(leaves, dims)):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            message = (f"{where}: Got in_dim={d} for an input but in_dim must be either an integer dimension "
                       "or None.")
            raise ValueError(message)  # noqa: TRY004 (PyTorch raises ValueError)
        if not isinstance(x, Tensor):
            message = (f"{where}: Got in_dim={d} for an input but the input is of type {type(x)}. We cannot "
                       "vmap over non-Tensor arguments, please use None as the respective in_dim")
            raise ValueError(message)  # noqa: TRY004 (PyTorch raises ValueError)
        if not -x.ndim <= d < x.ndim:
            raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a Tensor of dimensionality "
                             f"{x.ndim} so expected in_dim to satisfy -{x.ndim} <= in_dim < {x.ndim}.")
        dims[i] = d % x.ndim
        sizes.append(x.shape[dims[i]])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) > 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    return leaves, dims, rebuild, sizes[0]


def _into_level(x, dim, level):
    """`x` batched at `level` along its dim `dim`: that dim moves to the physical tensor's batch dims (a view)."""
    levels = levels_of(x)
    value = x._value if levels else x
    return batched(value.movedim(len(levels) + dim, len(levels)), levels + (level,))


def _out_of_level(func, out, dim, level, size):
    """Output `out` with `level`'s batch dim made its dim `dim` (expanded there if `out` is not batched at it)."""
    levels = levels_of(out)
    if dim is None:
        if level in levels:
            name = _vmap_name(func)
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
        return out
    if level not in levels:
        out = out.unsqueeze(dim)
        return out.expand(*[size if i == dim % out.ndim else -1 for i in range(out.ndim)])
    rest = tuple(lv for lv in levels if lv != level)
    d = _dim(dim, out.ndim + 1)
    return batched(out._value.movedim(levels.index(level), len(rest) + d), rest)


def _vmap_once(func, leaves, dims, rebuild, size, out_dims, randomness):
    """One call of `func` on the whole batch (or one chunk of it): the body of `vmap`."""
    vmap_state.sizes.append(size)
    vmap_state.randomness.append(randomness)
    level = len(vmap_state.sizes)
    try:
        args = rebuild([x if d is None else _into_level(x, d, level) for x, d in zip(leaves, dims)])
        out = func(*args)
        name = _vmap_name(func)
        outs, rebuild_out = _tree_leaves(out)
        for o in outs:
            if not isinstance(o, Tensor):
                message = (f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(o)}. Did you "
                           "mean to set out_dims= to None for output?")
                raise ValueError(message)  # noqa: TRY004 (PyTorch raises ValueError)

        def complain():
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                             f"structure of `outputs`. out_dims has structure {_treespec(out_dims)} but outputs has "
                             f"structure {_treespec(out)}.")

        odims = _dims_per_leaf(out_dims, out, complain)
        return [_out_of_level(func, o, d, level, size) for o, d in zip(outs, odims)], odims, rebuild_out
    finally:
        vmap_state.sizes.pop()
        vmap_state.randomness.pop()


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """`func` mapped over a batch dimension of its inputs, in one call: `vmap(f)(xs)` equals
    `stack([f(x) for x in xs])`, but every op runs once, on the whole batch, by its batching rule.

    `in_dims` says which dim of each argument is the batch dim (an int, None for an argument that is the same
    for every example, or a tuple of them matching the arguments); `out_dims` where the batch dim goes in the
    outputs. vmaps nest, and compose with `grad`, `vjp`, `jvp`, `jacrev`, `jacfwd` and `hessian` in any order:
    `vmap(grad(loss))(xs)` gives one gradient per example. With `chunk_size`, the batch is processed that many
    examples at a time (bounding the memory of the intermediates). `randomness` says what random ops (`randn`,
    ...) do inside: raise ('error'), draw one sample for all examples ('same') or one per example ('different').
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    def wrapped(*args):
        leaves, dims, rebuild, size = _batched_leaves(func, in_dims, args)
        if chunk_size is None or size <= chunk_size:
            outs, _, rebuild_out = _vmap_once(func, leaves, dims, rebuild, size, out_dims, randomness)
            return rebuild_out(outs)
        pieces = []
        for start in range(0, size, chunk_size):
            length = min(chunk_size, size - start)
            chunk = [x if d is None else x.narrow(d, start, length) for x, d in zip(leaves, dims)]
            outs, odims, rebuild_out = _vmap_once(func, chunk, dims, rebuild, length, out_dims, randomness)
            pieces.append(outs)
        joined = [o if d is None else cat([p[k] for p in pieces], d) for k, (o, d) in enumerate(zip(pieces[0], odims))]
        return rebuild_out(joined)

    return wrapped
