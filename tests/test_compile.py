"""autograd_lite.compile: compiled gradients equal eager ones, guards retrace, passes keep values, honest errors."""
import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import func
from autograd_lite.compiler import PASSES, CompileError

from .op_samples import SAMPLES, sample_inputs

# The op samples compile refuses, with a CompileError at the first call (never a wrong answer):
# in-place ops (the tracer follows values, not memory) ...
INPLACE = ["leaky_relu_inplace", "exp_inplace", "tanh_inplace", "sigmoid_inplace", "relu_inplace", "clamp_inplace",
           "fill_with_a_tensor", "inplace_on_view", "view_rebased_after_inplace", "inplace_add", "inplace_mul",
           "fill", "zero", "fill_tensor", "copy_broadcast"]
# ... and two in-place writes that `inplace` makes on a copy of the old values that no op made: the check trace on
# other values sees that copy change (their masks and indices are traced; what stops them is the in-place write)
VALUE_DEPENDENT = ["setitem", "masked_fill_inplace"]
UNSUPPORTED = {**dict.fromkeys(INPLACE, "in-place op"), **dict.fromkeys(VALUE_DEPENDENT, "depends on the inputs")}


def _weighted_loss(fn, xs):
    """A scalar loss of `fn`'s (float) outputs: sum of each output times fixed random weights."""
    out = fn(*[ag.tensor(x) for x in xs])
    outs = out if isinstance(out, (tuple, list)) else (out,)
    rng = np.random.default_rng(1)
    weights = [ag.tensor(rng.standard_normal(o.shape)) if o.is_floating_point() else None for o in outs]

    def loss(*args):
        out = fn(*args)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        total = 0.0
        for o, w in zip(outs, weights):
            if w is not None:
                total = total + (o * w).sum()
        return total

    return loss


def _close(a, b):
    a, b = np.asarray(a._data if isinstance(a, ag.Tensor) else a), np.asarray(b._data if isinstance(b, ag.Tensor) else b)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,fn,spec", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_compiled_gradients_equal_eager_on_every_op_sample(name, fn, spec):
    rng = np.random.default_rng(0)
    xs = sample_inputs(spec, rng)
    loss = _weighted_loss(fn, xs)
    grad = func.grad_and_value(loss, argnums=tuple(range(len(xs))))
    compiled = ag.compile(grad)
    if name in UNSUPPORTED:
        with pytest.raises(CompileError, match=UNSUPPORTED[name]):
            compiled(*[ag.tensor(x) for x in xs])
        return
    for trial in range(2):  # the traced inputs, then others of the same shapes (the generated code runs)
        args = [ag.tensor(x) for x in (xs if trial == 0 else sample_inputs(spec, rng))]
        (g_c, v_c), (g_e, v_e) = compiled(*args), grad(*args)
        _close(v_c, v_e)
        for a, b in zip(g_c, g_e):
            _close(a, b)
    assert len(compiled.traces) == 1


def test_every_unsupported_name_is_a_sample():
    assert set(UNSUPPORTED) <= {s[0] for s in SAMPLES}


# -- small models --------------------------------------------------------------------------------------------------
def _mlp_data(seed=0, batch=8):
    rng = np.random.default_rng(seed)
    params = (ag.tensor(rng.standard_normal((16, 32)) / 4), ag.tensor(0.1 * rng.standard_normal(32)),
              ag.tensor(rng.standard_normal((32, 4)) / 6), ag.tensor(0.1 * rng.standard_normal(4)))
    return params, ag.tensor(rng.standard_normal((batch, 16))), ag.tensor(rng.standard_normal((batch, 4)))


def mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = ag.tanh(x @ w1 + b1)
    return ag.nn.functional.mse_loss(h @ w2 + b2, y)


def source_graph(w, b, x, y):
    """The source notebook's graph: x @ w + b, binary cross-entropy with logits, mean."""
    return ag.nn.functional.binary_cross_entropy_with_logits(ag.matmul(x, w) + b, y)


@pytest.mark.parametrize("passes", [PASSES, (), ("dce",), ("cse",), ("fold",), ("reuse",)])
def test_mlp_gradient_and_each_pass_on_or_off(passes):
    grad = func.grad_and_value(mlp_loss)
    compiled = ag.compile(grad, passes=passes)
    for seed in (0, 1, 2):
        params, x, y = _mlp_data(seed)
        (g_c, v_c), (g_e, v_e) = compiled(params, x, y), grad(params, x, y)
        _close(v_c, v_e)
        for a, b in zip(g_c, g_e):
            _close(a, b)
    assert len(compiled.traces) == 1


def test_source_graph_gradient():
    rng = np.random.default_rng(3)
    grad = func.grad(source_graph, argnums=(0, 1))
    compiled = ag.compile(grad)
    for _ in range(3):
        args = (ag.tensor(rng.standard_normal((5, 3))), ag.tensor(rng.standard_normal(3)), ag.tensor(rng.standard_normal(5)),
                ag.tensor(rng.uniform(0, 1, 3)))
        for a, b in zip(compiled(*args), grad(*args)):
            _close(a, b)


def test_jacrev_vjp_and_forward_mode_compile():
    rng = np.random.default_rng(4)
    f = lambda x: ag.tanh(x) * x.sum()
    x, v = ag.tensor(rng.standard_normal(5)), ag.tensor(rng.standard_normal(5))
    cases = [(func.jacrev(f), (x,)), (func.jacfwd(f), (x,)), (func.hessian(lambda x: (ag.tanh(x) ** 2).sum()), (x,)),
             (lambda x, v: func.vjp(f, x)[1](v)[0], (x, v)), (lambda x, v: func.jvp(f, (x,), (v,))[1], (x, v))]
    for fn, args in cases:
        compiled = ag.compile(fn)
        _close(compiled(*args), fn(*args))
        other = [ag.tensor(rng.standard_normal(5)) for _ in args]
        _close(compiled(*other), fn(*other))


# -- guards ---------------------------------------------------------------------------------------------------------
def test_a_new_shape_dtype_or_requires_grad_traces_again():
    compiled = ag.compile(func.grad(lambda x: (x * x).sum()))
    compiled(ag.ones(3, dtype=ag.float64))
    compiled(ag.ones(3, dtype=ag.float64) * 2)
    assert len(compiled.traces) == 1
    _close(compiled(ag.ones(4, dtype=ag.float64)), 2 * np.ones(4))
    compiled(ag.ones(4))  # float32
    assert len(compiled.traces) == 3
    assert "def compiled_" in compiled.code


def test_a_branch_on_a_tensor_is_guarded():
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x * 3

    compiled = ag.compile(f)
    _close(compiled(ag.tensor([1.0, 2.0])), [2.0, 4.0])
    assert "guard" in compiled.code
    _close(compiled(ag.tensor([-1.0, -2.0])), [-3.0, -6.0])  # the guard fails: traced again, other branch
    assert len(compiled.traces) == 2
    _close(compiled(ag.tensor([5.0, 1.0])), [10.0, 2.0])  # the first trace serves it
    assert len(compiled.traces) == 2


def test_a_closure_tensor_changed_in_place_traces_again():
    w = ag.tensor([1.0, 2.0])
    compiled = ag.compile(lambda x: x * w)
    _close(compiled(ag.tensor([1.0, 1.0])), [1.0, 2.0])
    with ag.no_grad():
        w.mul_(10)
    _close(compiled(ag.tensor([1.0, 1.0])), [10.0, 20.0])


# -- the documented errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,match", [
    (lambda x: x * x.sum().item(), r"`item\(\)` of a tensor at test_compile.py:\d+"),
    (lambda x: x * float(x.sum()), r"`float\(\)` of a tensor"),
    (lambda x: x + ag.randn(3), r"random numbers at test_compile.py:\d+"),
    (lambda x: x.add_(1.0), r"in-place op at test_compile.py:\d+"),
    (lambda x: x * ag.tensor(x.numpy() > 0), r"`numpy\(\)` of a tensor"),
])
def test_what_cannot_be_traced_is_a_clear_error(fn, match):
    with pytest.raises(CompileError, match=match):
        ag.compile(fn)(ag.tensor([1.0, -2.0, 3.0]))


def test_a_mask_computed_outside_the_ops_is_found():
    def f(x):
        mask = ag.tensor((x.detach()._data > 0).astype(np.float64))  # numpy on the data: invisible to the tracer
        return x * mask

    with pytest.raises(CompileError, match="depends on the inputs"):
        ag.compile(f)(ag.tensor([1.0, -2.0, 3.0, -4.0]))


def test_a_comparison_is_traced():
    f = lambda x: ag.where(x > 0, x, 0.5 * x)
    compiled = ag.compile(func.grad(lambda x: f(x).sum()))
    x = ag.tensor([1.0, -2.0, 3.0])
    _close(compiled(x), [1.0, 0.5, 1.0])
    _close(compiled(-x), [0.5, 1.0, 0.5])
    compiled = ag.compile(lambda x: ag.where(x.isnan(), 0.0, x))  # isnan is a comparison (x != x) too
    _close(compiled(x), x)
    _close(compiled(ag.tensor([1.0, float("nan"), 3.0])), [1.0, 0.0, 3.0])


_NAN = float("nan")


@pytest.mark.parametrize("fn,traced,later", [
    # ties share the gradient, a NaN takes it: the masks of max's and maximum's rules are worked out again
    (lambda x: x.max(), [1.0, 2.0, 3.0, 0.5], [[3.0, 1.0, 3.0, 3.0], [1.0, _NAN, 2.0, _NAN]]),
    (lambda x: ag.minimum(x, x[[3, 2, 1, 0]]), [1.0, 2.0, 3.0, 4.0], [[1.0, 2.0, 2.0, 1.0], [_NAN, 1.0, 0.0, 2.0]]),
    (lambda x: x.clamp(-1.0, 1.0), [0.5, -0.5, 2.0, -2.0], [[2.0, 1.0, -1.0, 0.0], [_NAN, 0.0, 3.0, -3.0]]),
    (lambda x: x.reshape(2, 2).max(1).values, [1.0, 2.0, 4.0, 3.0], [[2.0, 1.0, 3.0, 4.0], [1.0, 1.0, 5.0, 5.0]]),
    (lambda x: x.reshape(2, 2).norm(float("inf"), dim=1), [1.0, -2.0, 4.0, 3.0], [[2.0, -2.0, -4.0, 1.0]]),
    # masks that are all false for the traced values: z = 0 (norm, std) and 0 ** y
    (lambda x: x.reshape(2, 2).norm(dim=1), [1.0, 2.0, 3.0, 4.0], [[0.0, 0.0, 3.0, 4.0]]),
    (lambda x: x.reshape(2, 2).std(1), [1.0, 2.0, 3.0, 4.0], [[2.0, 2.0, 3.0, 4.0]]),
    (lambda x: x ** (x + 1.0), [1.0, 2.0, 3.0, 4.0], [[0.0, 2.0, 0.0, 4.0]]),
])
def test_masks_and_indices_in_the_rules_are_worked_out_again_for_new_values(fn, traced, later):
    weights = ag.arange(1.0, 5.0, dtype=ag.float64)[:fn(ag.tensor(traced)).numel()]  # 1, 2, ...: unequal
    grad = func.grad(lambda x: (fn(x).reshape(-1) * weights).sum())
    compiled = ag.compile(grad)
    for values in [traced, *later]:
        x = ag.tensor(values, dtype=ag.float64)
        _close(compiled(x), grad(x))
    assert len(compiled.traces) == 1


def test_the_indices_max_dim_returns_are_traced():
    compiled = ag.compile(lambda x: (tuple(x.max(1)), x.argmin(0, keepdim=True)))  # (a return_types: a tuple)
    for values in ([[1.0, 3.0, 2.0], [4.0, 0.0, 5.0]], [[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]):
        x = ag.tensor(values, dtype=ag.float64)
        (values_c, indices_c), argmin_c = compiled(x)
        (values_e, indices_e), argmin_e = x.max(1), x.argmin(0, keepdim=True)
        assert ag.equal(values_c, values_e) and ag.equal(indices_c, indices_e) and ag.equal(argmin_c, argmin_e)
        assert indices_c.dtype == ag.int64 and argmin_c.shape == (1, 3)
    assert len(compiled.traces) == 1


def test_code_is_one_line_per_op_with_a_comment():
    compiled = ag.compile(func.grad(lambda x: ag.tanh(x).sum()))
    compiled(ag.tensor([0.5, 1.0]))
    lines = compiled.code.splitlines()
    assert lines[0].startswith("def compiled_")
    assert any("np.tanh(" in line and "# Tanh" in line for line in lines)
    assert any("vjp of TanhBackward0" in line for line in lines)


def test_passes_shrink_the_code():
    grad = func.grad_and_value(mlp_loss)
    params, x, y = _mlp_data()
    plain, optimised = ag.compile(grad, passes=()), ag.compile(grad)
    plain(params, x, y)
    optimised(params, x, y)
    assert len(optimised.code.splitlines()) < len(plain.code.splitlines())
    assert "out=" in optimised.code and "out=" not in plain.code


def test_unknown_pass_is_an_error():
    with pytest.raises(ValueError, match="unknown passes"):
        ag.compile(lambda x: x, passes=("nope",))


def test_past_the_trace_limit_it_runs_eagerly():
    from autograd_lite import compiler

    def f(x):
        for k in range(20):  # x = k + 0.5 takes the k-th way out: a new path, a new trace
            if x.sum() < k + 1:
                return x * k
        return x

    compiled = ag.compile(f)
    for k in range(compiler.MAX_TRACES + 3):
        _close(compiled(ag.tensor([k + 0.5])), f(ag.tensor([k + 0.5])))
    assert len(compiled.traces) == compiler.MAX_TRACES


def test_without_the_check_trace_a_hidden_mask_is_frozen_as_documented():
    def f(x):
        return x * ag.tensor((np.asarray(x.detach()) > 0) * 1.0)

    compiled = ag.compile(f, check=False)  # trusts the trace: the mask of the first call is a constant
    _close(compiled(ag.tensor([1.0, -1.0])), [1.0, 0.0])
    _close(compiled(ag.tensor([-1.0, 1.0])), [-1.0, 0.0])  # eager would give [0, 1]: why check=True is the default


class _Softplus(ag.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ag.log1p(ag.exp(-x.abs())) + x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ag.sigmoid(x)


def test_a_custom_function_is_traced_through_its_forward_and_backward():
    f = lambda x: _Softplus.apply(x).sum()
    grad = func.grad(f)
    compiled = ag.compile(grad)
    for values in ([1.0, -2.0, 3.0], [-1.0, 2.0, -0.5]):
        x = ag.tensor(values, dtype=ag.float64)
        _close(compiled(x), grad(x))
    assert "vjp of _SoftplusBackward" in compiled.code
    assert "Log1p" not in compiled.code  # func.grad drops the value: its forward lines are dead code


def test_integer_targets_the_code_depends_on_are_guarded():
    """cross_entropy's rule turns the targets into a one-hot constant: the trace is specialised to them."""
    rng = np.random.default_rng(5)
    w = ag.tensor(rng.standard_normal((3, 4)))
    x = ag.tensor(rng.standard_normal((6, 3)))
    grad = func.grad(lambda w, x, y: ag.nn.functional.cross_entropy(x @ w, y))
    compiled = ag.compile(grad)
    for targets in ([0, 1, 2, 3, 0, 1], [0, 1, 2, 3, 0, 1], [3, 2, 1, 0, 3, 2]):
        y = ag.tensor(targets)
        _close(compiled(w, x, y), grad(w, x, y))
    assert len(compiled.traces) == 2


def test_integer_indices_the_code_reads_are_ordinary_inputs():
    rng = np.random.default_rng(6)
    grad = func.grad(lambda x, i: (x[i] ** 2).sum())
    compiled = ag.compile(grad)
    x = ag.tensor(rng.standard_normal(5))
    for index in ([0, 2], [4, 1], [3, 3]):
        i = ag.tensor(index)
        _close(compiled(x, i), grad(x, i))
    assert len(compiled.traces) == 1


def test_numpy_array_arguments_are_part_of_the_signature_by_value():
    compiled = ag.compile(lambda x, scale: x * ag.tensor(scale))
    x = ag.tensor([1.0, 1.0])
    big_a, big_b = np.zeros(2000), np.zeros(2000)
    big_b[1000] = 1.0  # same repr (numpy abbreviates), other values
    _close(compiled(x, big_a[:2]), [0.0, 0.0])
    assert compiled(ag.ones(2000, dtype=ag.float64), big_b)._data[1000] == 1.0
    assert compiled(ag.ones(2000, dtype=ag.float64), big_a)._data[1000] == 0.0


def test_keyword_arguments_are_refused_clearly():
    with pytest.raises(TypeError, match="by position"):
        ag.compile(lambda x: x)(x=ag.ones(2))
