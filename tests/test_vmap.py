"""vmap (func.vmap, ops/batching.py): one call on a batch equals a Python loop over its examples.

The table-driven test runs every op sample of tests/op_samples.py (so every batching rule, and the loop
fallback) batched along different dims, nested, and under grad and jvp, against a loop in float64.
"""
import warnings

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.func import grad, jacfwd, jacrev, jvp, vmap
from autograd_lite.ops.batching import BatchedTensor

from .op_samples import SAMPLES, sample_inputs

B = 3  # examples per batch
# samples that write their other inputs into (a copy of) the first in place: with only those batched, the write
# of a batched value into an unbatched tensor is refused
WRITES_INTO_THE_FIRST_INPUT = {"fill_with_a_tensor", "inplace_on_view", "view_rebased_after_inplace", "setitem",
                               "masked_fill_inplace", "inplace_add", "inplace_mul", "fill_tensor", "copy_broadcast"}


def _loop(fn, xs, in_dims, out_dim):
    """The reference: fn on each example in a Python loop, the results stacked along out_dim."""
    size = next(x.shape[d] for x, d in zip(xs, in_dims) if d is not None)
    outs = [fn(*[x if d is None else x.select(d, b) for x, d in zip(xs, in_dims)]) for b in range(size)]
    return ag.stack(outs, out_dim)


def _batched_inputs(spec, rng, which, at_end):
    """Inputs for a sample with a batch of B examples in the inputs listed in `which`, along dim 0 or the last dim."""
    xs, dims = [], []
    for i, (shape, domain) in enumerate(spec):
        if i in which:
            arrays = np.stack(sample_inputs([(shape, domain)] * B, rng), axis=len(shape) if at_end else 0)
            xs.append(ag.tensor(arrays))
            dims.append(len(shape) if at_end else 0)
        else:
            xs.append(ag.tensor(sample_inputs([(shape, domain)], rng)[0]))
            dims.append(None)
    return xs, tuple(dims)


def _close(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a.detach()._data, b.detach()._data, rtol=1e-10, atol=1e-10)


def _cases():
    for name, fn, spec in SAMPLES:
        n = len(spec)
        choices = [tuple(range(n))] + ([(n - 1,)] if n > 1 else [])  # all inputs batched; only the last one
        for which in choices:
            yield pytest.param(name, fn, spec, which, id=f"{name}-{''.join(map(str, which))}")


def _quiet(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fallback's warning is tested on its own
        return f(*args)


@pytest.mark.parametrize(("name", "fn", "spec", "which"), list(_cases()))
def test_vmap_equals_a_loop_over_the_batch(name, fn, spec, which):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    for at_end, out_dim in ((False, 0), (True, -1)):
        xs, in_dims = _batched_inputs(spec, rng, which, at_end)
        expected = _quiet(_loop, fn, xs, in_dims, out_dim)
        if name in WRITES_INTO_THE_FIRST_INPUT and in_dims[0] is None:  # refused, as PyTorch refuses it
            with pytest.raises(RuntimeError, match="vmap: inplace arithmetic"):
                _quiet(vmap(fn, in_dims=in_dims, out_dims=out_dim), *xs)
            continue
        got = _quiet(vmap(fn, in_dims=in_dims, out_dims=out_dim), *xs)
        assert not isinstance(got, BatchedTensor)
        _close(got, expected)


@pytest.mark.parametrize(("name", "fn", "spec", "which"), list(_cases()))
def test_nested_vmap_equals_a_double_loop(name, fn, spec, which):
    if name in WRITES_INTO_THE_FIRST_INPUT and 0 not in which:
        pytest.skip("refused (see test_vmap_equals_a_loop_over_the_batch)")
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    xs, in_dims = _batched_inputs(spec, rng, which, False)
    xs = [x if d is None else ag.stack([x, 0.5 * x], -1) for x, d in zip(xs, in_dims)]  # a second batch dim, last
    inner_dims = tuple(None if d is None else -1 for d in in_dims)

    def inner(*ys):
        return _quiet(vmap(fn, in_dims=inner_dims, out_dims=-1), *ys)

    expected = ag.stack([_quiet(_loop, fn, [x if d is None else x.select(0, b) for x, d in zip(xs, in_dims)],
                                inner_dims, -1) for b in range(B)])
    _close(_quiet(vmap(inner, in_dims=in_dims), *xs), expected)


def _scalar_of(fn, xs):
    """fn followed by a fixed weighted sum: a scalar function whose gradient checks every output."""
    weights = {}

    def f(*ys):
        out = fn(*ys)
        if "w" not in weights:
            weights["w"] = ag.tensor(np.random.default_rng(0).standard_normal(tuple(out.shape)))
        return (out * weights["w"]).sum()

    return f


@pytest.mark.parametrize(("name", "fn", "spec", "which"), [c for c in _cases() if len(c.values[3]) == len(
    c.values[2])])
def test_vmap_of_grad_and_jvp_equals_a_loop(name, fn, spec, which):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    xs, in_dims = _batched_inputs(spec, rng, which, False)
    if not all(x.is_floating_point() for x in xs):
        pytest.skip("integer inputs")
    f = _scalar_of(fn, xs)
    argnums = tuple(range(len(xs)))
    expected = _quiet(_loop, lambda *ys: ag.stack(grad(f, argnums)(*ys)) if len(ys) > 1 else grad(f)(*ys), xs,
                      in_dims, 0) if len({tuple(x.shape) for x in xs}) == 1 else None
    got = _quiet(vmap(grad(f, argnums), in_dims=in_dims), *xs)
    for k in range(len(xs)):
        want = _quiet(_loop, lambda *ys, k=k: grad(f, argnums)(*ys)[k], xs, in_dims, 0)
        _close(got[k], want)
    if expected is not None and len(xs) == 1:
        _close(got[0], expected)
    tangents = [ag.tensor(rng.standard_normal(tuple(x.shape))) for x in xs]

    def push(*ys_and_ts):
        ys, ts = ys_and_ts[:len(xs)], ys_and_ts[len(xs):]
        return jvp(fn, tuple(ys), tuple(ts))[1]

    got = _quiet(vmap(push, in_dims=in_dims + in_dims), *xs, *tangents)
    _close(got, _quiet(_loop, push, xs + tangents, in_dims + in_dims, 0))


# -- composition ------------------------------------------------------------------------------------------------
def test_per_example_gradients_of_a_model():
    rng = np.random.default_rng(1)
    w = ag.tensor(rng.standard_normal((4, 3)))
    xs, ys = ag.tensor(rng.standard_normal((6, 3))), ag.tensor(rng.standard_normal((6, 4)))

    def loss(w, x, y):
        return ((ag.tanh(w @ x) - y) ** 2).mean()

    per_example = vmap(grad(loss), in_dims=(None, 0, 0))(w, xs, ys)
    assert per_example.shape == (6, 4, 3)
    for i in range(6):
        _close(per_example[i], grad(loss)(w, xs[i], ys[i]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", ["one per example", "a batch per example"])
def test_per_example_gradients_with_class_targets(reduction, targets):
    rng = np.random.default_rng(4)
    w = ag.tensor(rng.standard_normal((3, 5)))
    shape = (6, 4, 3) if targets == "a batch per example" else (6, 3)
    xs, ys = ag.tensor(rng.standard_normal(shape)), ag.tensor(rng.integers(0, 5, shape[:-1]))
    weight = ag.tensor(rng.uniform(0.5, 2.0, 5))

    def loss(w, x, y):
        return ag.nn.functional.cross_entropy(x @ w, y, weight=weight, reduction=reduction).sum()

    per_example = vmap(grad(loss), in_dims=(None, 0, 0))(w, xs, ys)
    for i in range(6):
        _close(per_example[i], grad(loss)(w, xs[i], ys[i]))


@pytest.mark.parametrize("order", ["jacrev", "jacfwd", "hessian_of_vmap", "vmap_of_hessian", "grad_of_vmap",
                                   "jvp_of_vmap", "vmap_of_vjp", "vmap_of_vmap_of_grad"])
def test_vmap_composes_with_the_jacobian_transforms_in_any_order(order):
    rng = np.random.default_rng(2)
    xs = ag.tensor(rng.standard_normal((4, 3)))
    a = ag.tensor(rng.standard_normal((3, 3)))

    def f(x):
        return ag.sin(a @ x) * x

    if order == "jacrev":
        got, want = vmap(jacrev(f))(xs), ag.stack([jacrev(f)(x) for x in xs])
    elif order == "jacfwd":
        got, want = jacfwd(vmap(f))(xs), jacrev(lambda z: ag.stack([f(x) for x in z]))(xs)
    elif order == "hessian_of_vmap":
        got = ag.func.hessian(lambda z: vmap(f)(z).sum())(xs)
        want = ag.func.hessian(lambda z: ag.stack([f(x) for x in z]).sum())(xs)
    elif order == "vmap_of_hessian":
        got = vmap(ag.func.hessian(lambda x: f(x).sum()))(xs)
        want = ag.stack([ag.func.hessian(lambda x: f(x).sum())(x) for x in xs])
    elif order == "jvp_of_vmap":
        u = ag.ones_like(xs)
        got, want = jvp(vmap(f), (xs,), (u,))[1], ag.stack([jvp(f, (x,), (ag.ones(3),))[1] for x in xs])
    elif order == "vmap_of_vjp":
        v = ag.tensor(rng.standard_normal((4, 3)))
        got = vmap(lambda x, w: ag.func.vjp(f, x)[1](w)[0])(xs, v)
        want = ag.stack([ag.func.vjp(f, x)[1](w)[0] for x, w in zip(xs, v)])
    elif order == "vmap_of_vmap_of_grad":
        pairs = ag.stack([xs, 2 * xs], 1)  # (4, 2, 3)
        got = vmap(vmap(grad(lambda x: f(x).sum())))(pairs)
        want = ag.stack([ag.stack([grad(lambda x: f(x).sum())(x) for x in row]) for row in pairs])
    else:
        got, want = grad(lambda z: vmap(f)(z).sum())(xs), grad(lambda z: ag.stack([f(x) for x in z]).sum())(xs)
    _close(got, want)


def test_vmap_inside_an_outer_backward():
    x = ag.randn(5, 3, dtype=ag.float64, requires_grad=True)
    vmap(lambda r: (r.exp() * r).sum())(x).sum().backward()
    _close(x.grad, x.detach().exp() * (x.detach() + 1))


def test_in_dims_and_out_dims_as_nested_tuples():
    x, b, y = ag.randn(2, 5, dtype=ag.float64), ag.randn(2, dtype=ag.float64), ag.randn(5, dtype=ag.float64)

    def f(pair, c):
        a, b = pair
        return a * b + c, (a - c).sum()

    out, total = vmap(f, in_dims=((1, None), 0), out_dims=(1, 0))((x, b), y)
    _close(out, x * b[:, None] + y[None, :])
    _close(total, (x - y[None, :]).sum(0))


def test_an_output_that_does_not_depend_on_the_batch_is_expanded():
    out = vmap(lambda x: ag.ones(2), out_dims=1)(ag.zeros(4, 3))
    assert out.shape == (2, 4)


def test_chunk_size_gives_the_same_result():
    x = ag.randn(10, 3, dtype=ag.float64)
    f = vmap(lambda r: ag.outer(r, r).sum(0), chunk_size=3)
    _close(f(x), vmap(lambda r: ag.outer(r, r).sum(0))(x))
    _close(jacrev(lambda r: r.sin() * r.sum(), chunk_size=2)(x[0]), jacrev(lambda r: r.sin() * r.sum())(x[0]))


# -- errors: PyTorch's messages; nothing is changed ------------------------------------------------------------
@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x, y: vmap(ag.sin, in_dims=2)(x), ValueError,
     ("vmap(sin, in_dims=2, ...)(<inputs>): Got in_dim=2 for some input, but that input is a Tensor of dimensionality "
      "2 so expected in_dim to satisfy -2 <= in_dim < 2.")),
    (lambda x, y: vmap(ag.add)(x, y), ValueError,
     ("vmap: Expected all tensors to have the same size in the mapped dimension, got sizes [3, 5] for the mapped "
      "dimension")),
    (lambda x, y: vmap(ag.add, in_dims=[0, 0])(x, y), ValueError,
     ("vmap(add, in_dims=[0, 0], ...)(<inputs>): expected `in_dims` to be int or a (potentially nested) tuple "
      "matching the structure of inputs, got: <class 'list'>.")),
    (lambda x, y: vmap(ag.add, in_dims=(0,))(x, y), ValueError,
     "vmap(add, in_dims=(0,), ...)(<inputs>): in_dims is not compatible with the structure of `inputs`."),
    (lambda x, y: vmap(ag.add, in_dims=(0, "a"))(x, y), ValueError,
     ("vmap(add, in_dims=(0, 'a'), ...)(<inputs>): Got in_dim=a for an input but in_dim must be either an integer "
      "dimension or None.")),
    (lambda x, y: vmap(ag.sin)(3.0), ValueError,
     ("vmap(sin, in_dims=0, ...)(<inputs>): Got in_dim=0 for an input but the input is of type <class 'float'>. We "
      "cannot vmap over non-Tensor arguments, please use None as the respective in_dim")),
    (lambda x, y: vmap(ag.add, in_dims=(None, None))(x, y), ValueError,
     "vmap: Expected at least one Tensor to vmap over"),
    (lambda x, y: vmap(lambda a: 3.0)(x), ValueError,
     ("vmap(<lambda>, ...): `<lambda>` must only return Tensors, got type <class 'float'>. Did you mean to set "
      "out_dims= to None for output?")),
    (lambda x, y: vmap(lambda a: a, out_dims=None)(x), ValueError,
     "vmap(<lambda>, ...): `<lambda>` can not return a BatchedTensor when out_dim is None"),
    (lambda x, y: vmap(lambda a: a.item())(x), RuntimeError, "vmap: It looks like you're calling .item() on a Tensor."),
    (lambda x, y: vmap(lambda a: a if a.sum() > 0 else -a)(x), RuntimeError,
     "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow."),
    (lambda x, y: vmap(ag.sin, randomness="foo")(x), RuntimeError,
     "Only allowed values for randomness are 'error', 'different', or 'same'. Got foo"),
    (lambda x, y: vmap(ag.sin, chunk_size=0)(x), ValueError,
     "vmap: chunk_size should be None or greater than 0. (got 0)"),
])
def test_bad_inputs_give_pytorchs_messages(call, error, message):
    x, y = ag.randn(3, 4), ag.randn(5, 4)
    before = (x.clone(), y.clone())
    with pytest.raises(error) as info:
        call(x, y)
    assert str(info.value).startswith(message)
    assert ag.equal(x, before[0]) and ag.equal(y, before[1])


@pytest.mark.parametrize("write", [lambda z, a: z.add_(a), lambda z, a: z.copy_(a), lambda z, a: z.mul_(a)])
def test_writing_a_batched_value_into_an_unbatched_tensor_is_refused_and_changes_nothing(write):
    z, x = ag.zeros(4), ag.randn(3, 4)
    versions = z._version
    with pytest.raises(RuntimeError, match=r"vmap: inplace arithmetic\(self, \*extra_args\) is not possible"):
        vmap(lambda a: write(z, a))(x)
    assert ag.equal(z, ag.zeros(4)) and z._version == versions


def test_in_place_on_a_batched_tensor_writes_each_example():
    x, y = ag.randn(3, 4, dtype=ag.float64), ag.randn(4, dtype=ag.float64)
    out = vmap(lambda a: a.clone().mul_(y).add_(a))(x)
    _close(out, x * y + x)


# -- the fallback ---------------------------------------------------------------------------------------------
ON_THE_FALLBACK = {"Max", "Min", "CopySlices"}  # (CopySlices is never applied: only its node is made)


def test_the_ops_still_on_the_fallback():
    """The ops without a batching rule (each runs once per example, in a loop): shrink this list."""
    missing = {op.name for op in ag.ops.OPS if op.batch is None}
    assert missing == ON_THE_FALLBACK


def test_the_fallback_warns_once_naming_the_op():
    from autograd_lite.ops import batching
    batching._warned.discard("Max")
    x = ag.randn(3, 4, 4, dtype=ag.float64)
    with pytest.warns(UserWarning, match="batching rule for autograd_lite::Max"):
        out = vmap(lambda m: m.max())(x)
    _close(out, ag.stack([m.max() for m in x]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vmap(lambda m: m.max())(x)


def test_chunk_size_bounds_the_extra_memory_of_jacrev():
    import tracemalloc

    rng = np.random.default_rng(3)
    a, x = ag.tensor(rng.standard_normal((200, 200))), ag.tensor(rng.standard_normal(200))

    def peak(chunk_size):
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            jacrev(lambda v: ag.tanh(a @ v), chunk_size=chunk_size)(x)
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    whole, small = peak(None), peak(10)
    jacobian = 200 * 200 * 8  # held twice by the chunked run (the chunks, and the Jacobian joined from them)
    assert small - 2 * jacobian < 0.5 * (whole - 2 * jacobian)  # the rest: 200 x 200 temporaries vs 10 x 200 ones


@pytest.mark.parametrize("randomness", ["error", "same", "different"])
def test_random_ops_inside_vmap_follow_randomness(randomness):
    x = ag.zeros(4, 3)
    f = vmap(lambda r: r + ag.randn(3), randomness=randomness)
    if randomness == "error":
        with pytest.raises(RuntimeError, match="vmap: called random operation while in randomness error mode"):
            f(x)
        return
    out = f(x)
    rows_equal = all(ag.equal(out[0], out[i]) for i in range(1, 4))
    assert rows_equal == (randomness == "same")


@pytest.mark.parametrize("call", [
    lambda r: r.max(1).indices, lambda r: r.min(0, keepdim=True)[1], lambda r: r.argmax(), lambda r: r.argmin(1),
    lambda r: r.argmax(keepdim=True), lambda r: (r > 0).all(1), lambda r: (r > 0).any(), lambda r: r.max(),
    lambda r: ag.where(r > 0, r, 0.0), lambda r: r[r.argmax(0)],
])
def test_functions_that_read_values_give_each_examples_result(call):
    x = ag.tensor(np.random.default_rng(5).standard_normal((4, 3, 5)))
    _close(_quiet(vmap(call), x).double(), ag.stack([call(r) for r in x]).double())
