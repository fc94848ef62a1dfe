"""autograd_lite.compile: compiled gradients equal eager ones, guards retrace, passes keep values, honest errors."""
import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import func
from autograd_lite.compiler import PASSES, CompileError

from .op_samples import SAMPLES, sample_inputs



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
    """Every op of the table compiles: masks and indices are ops (traced), in-place ops on the function's own
    values are functionalised; the code runs on the traced inputs and on others of the same shapes."""
    rng = np.random.default_rng(0)
    xs = sample_inputs(spec, rng)
    loss = _weighted_loss(fn, xs)
    grad = func.grad_and_value(loss, argnums=tuple(range(len(xs))))
    compiled = ag.compile(grad)
    for trial in range(2):  # the traced inputs, then others of the same shapes (the generated code runs)
        args = [ag.tensor(x) for x in (xs if trial == 0 else sample_inputs(spec, rng))]
        (g_c, v_c), (g_e, v_e) = compiled(*args), grad(*args)
        _close(v_c, v_e)
        for a, b in zip(g_c, g_e):
            _close(a, b)
    assert len(compiled.traces) == 1


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
    (lambda x: x.add_(1.0), r"in-place op at test_compile.py:\d+ writes into an input"),
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


# -- in-place ops: traced as values (compiler/functionalise.py) ---------------------------------------------------
def _write_into_a_view(x, y):
    b = x * 1.0
    b[1:].mul_(y[1:])  # the base's history becomes CopySlices; the code: Overwrite(b, ...)
    return b


def _view_taken_before_the_write(x, y):
    b = x * 1.0
    v = b.t()[0]
    b.mul_(y)  # v changes too (AsStridedBackward0); the code takes the view again from b's new value
    return (v * v).sum() + b[1]


def _writes_and_views_in_turn(x, y):
    b = x * 1.0
    v = b[0]
    b.mul_(2.0)
    before = v * 1.0
    v.add_(y[0])  # a view of the written base, written in turn
    b.t()[1:].sub_(x.t()[1:])  # a transposed view: its elements are not contiguous in b
    b[:, ::2].mul_(3.0)  # every other column: a strided view
    return b * (v * before).sum()


def _reads_on_either_side_of_a_write(x, y):
    b = x * y
    first = b * 2.0
    b.add_(1.0)
    second = b * 2.0  # the same op on the same tensor as `first`: CSE must not merge them
    return first + second


def _write_then_a_view_of_it(x, y):
    b = x * 1.0
    b.exp_()
    v = b.t()  # in the code a view of exp's result: buffer reuse must not write into that buffer while v lives
    w = b * 2.0
    return v.t() + w + y


def _a_buffer_filled_in_place(x, y):
    out = ag.zeros(3, 2, dtype=ag.float64)  # made inside the function: may be written into
    for i in range(3):
        out[i] = x[:, i] * y[:, i]
    out += 1.0
    return out


def _in_place_ops_of_every_kind(x, y):
    b = x * 1.0
    b.add_(y, alpha=2.0).mul_(y).div_(2.0).sub_(x)
    d = b.detach()  # the same memory: b changes with d (and backward does not see it, as in PyTorch)
    d.mul_(2.0)
    b.fill_(b[0, 1])  # a value of the written tensor itself
    c = (x * y).copy_(y[0])
    units = [ag.relu_(x * 1.0), ag.nn.functional.leaky_relu(x * 1.0, 0.1, inplace=True), (x * 1.0).tanh_(),
             (x * 1.0).exp_(), (x * 1.0).sigmoid_(), (x * 1.0).zero_()]  # each saves its result (the written x)
    return b + c + sum(units)


def _a_branch_after_a_write(x, y):
    b = x * 1.0
    b.mul_(-1.0)
    if b.sum() > 0:
        return b * y
    return b * 2.0


def _cast_by_the_write(x, y):
    b = ag.zeros(2, 3, dtype=ag.float32)
    b.add_(x * y)  # float64 into float32: the write casts
    return b.double() * y


INPLACE_PROGRAMS = [_write_into_a_view, _view_taken_before_the_write, _writes_and_views_in_turn,
                    _reads_on_either_side_of_a_write, _write_then_a_view_of_it, _a_buffer_filled_in_place,
                    _in_place_ops_of_every_kind, _a_branch_after_a_write, _cast_by_the_write]


def _same(got, want):
    got, want = (got, want) if isinstance(got, (tuple, list)) else ((got,), (want,))
    for a, b in zip(got, want):
        if isinstance(a, (tuple, list)):
            _same(a, b)
        else:
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a._data, b._data)  # to the last bit


@pytest.mark.parametrize("passes", [PASSES, (), ("dce",), ("cse",), ("fold",), ("reuse",)])
@pytest.mark.parametrize("fn", INPLACE_PROGRAMS, ids=lambda f: f.__name__.strip("_"))
def test_in_place_ops_give_eager_values_and_gradients_with_each_pass_on_or_off(fn, passes):
    rng = np.random.default_rng(7)
    weights = ag.tensor(rng.standard_normal((3, 2)) if fn is _a_buffer_filled_in_place else rng.standard_normal((2, 3)))
    for target in (fn, func.grad_and_value(lambda x, y: (fn(x, y) * weights).sum(), argnums=(0, 1))):
        compiled = ag.compile(target, passes=passes)
        for trial in range(3):  # the traced inputs, others, and others with every sign flipped (the other branch)
            x, y = (ag.tensor(rng.standard_normal((2, 3))) for _ in range(2))
            args = (-x, -y) if trial == 2 else (x, y)
            _same(compiled(*args), target(*args))
        assert len(compiled.traces) == (2 if fn is _a_branch_after_a_write else 1)


def test_in_place_code_reads_as_values():
    compiled = ag.compile(_write_into_a_view)
    compiled(ag.ones(3, 2, dtype=ag.float64), ag.ones(3, 2, dtype=ag.float64))
    assert "= Overwrite(t0, t3, at=slice(2, 6, 1))" in compiled.code  # b with its elements 2..5 replaced
    assert ".copy()" not in compiled.code  # the old values that eager copies for backward are the same name
    compiled = ag.compile(_view_taken_before_the_write)
    compiled(ag.ones(2, 3, dtype=ag.float64), ag.ones(2, 3, dtype=ag.float64))
    assert ".T" in compiled.code and "(the view again, after the write)" in compiled.code  # the view op again


def test_views_that_died_cost_nothing_at_later_writes():
    def f(x):
        b = x * 1.0
        for _ in range(100):
            b[0:2].mul_(0.5)  # a new view each time: the old ones are never read again
            b.add_(x)
        return b

    compiled = ag.compile(func.grad(lambda x: f(x).sum()), passes=())
    x = ag.tensor(np.linspace(-1.0, 1.0, 4))
    _same(compiled(x), func.grad(lambda x: f(x).sum())(x))
    assert len(compiled.code.splitlines()) < 15 * 100  # a few lines per write, not one per view ever made


def test_in_place_forward_mode_through_a_view():
    x, v = ag.tensor(np.linspace(-1.0, 1.0, 5)), ag.tensor(np.linspace(0.5, 2.0, 5))

    def f(x):
        b = x * 1.0
        b[1:].mul_(x[:4])  # the base's tangent changes at the view's positions (views.write_tangent)
        return b

    fn = lambda x, v: func.jvp(f, (x,), (v,))
    _same(ag.compile(fn)(x, v), fn(x, v))


def test_in_place_on_an_input_or_a_view_of_one_is_a_clear_error():
    for fn in (lambda x: x.mul_(2.0), lambda x: x[1:].zero_(), lambda x: x.t().add_(1.0)):
        with pytest.raises(CompileError, match=r"in-place op at test_compile.py:\d+ writes into an input"):
            ag.compile(fn)(ag.ones(2, 2))
    x = ag.ones(2, 2, requires_grad=True)  # under a gradient transform, eager's own error comes first
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        ag.compile(func.grad(lambda x: x.mul_(2.0).sum()))(x)


def test_in_place_on_a_tensor_from_outside_is_a_clear_error():
    state = ag.zeros(3)
    with pytest.raises(CompileError, match=r"in-place op at test_compile.py:\d+ writes into a tensor the compiled"):
        ag.compile(lambda x: state.add_(x))(ag.ones(3))
    assert np.array_equal(state._data, np.zeros(3))  # and nothing was written: the error came before the write
    with pytest.raises(CompileError, match="did not create"):
        ag.compile(lambda x: state[1:].mul_(x[1:]))(ag.ones(3))


def test_a_training_step_inside_the_function_is_a_clear_error():
    w = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, requires_grad=True)
    opt = ag.optim.SGD([w], lr=0.1)

    def step(x):  # .grad and the optimizer's write are side effects the generated code would not repeat
        opt.zero_grad()
        loss = ((w * x) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    with pytest.raises(CompileError, match=r"backward\(\) at test_compile.py:\d+ fills .grad of a tensor"):
        ag.compile(step)(ag.ones(3, dtype=ag.float64))
    y = ag.ones(3, dtype=ag.float64, requires_grad=True)  # an input's .grad too
    with pytest.raises(CompileError, match="fills .grad"):
        ag.compile(lambda y: (y * y).sum().backward())(y)

    def inner(x):  # a leaf made inside: its .grad is a value the function returns, which compiles
        y = x.clone().requires_grad_()
        (y * y).sum().backward()
        return y.grad

    compiled = ag.compile(inner)
    _close(compiled(ag.tensor([1.0, 2.0])), [2.0, 4.0])
    _close(compiled(ag.tensor([3.0, 5.0])), [6.0, 10.0])


def test_a_write_the_tracer_does_not_see_is_a_clear_error():
    w = ag.ones(3, dtype=ag.float64)

    def f(x):
        y = w * x
        ag.nn.init.constant_(w, 2.0)  # writes w's numpy array directly (and bumps its version)
        return y

    with pytest.raises(CompileError, match=r"read at test_compile.py:\d+\) was changed during the call"):
        ag.compile(f)(ag.ones(3, dtype=ag.float64))
    with pytest.raises(CompileError, match=r"random numbers at test_compile.py:\d+"):  # nn.init's draws, too
        ag.compile(lambda x: ag.nn.Linear(3, 2).double()(x))(ag.ones(3, dtype=ag.float64))


def test_a_write_into_a_saved_tensor_raises_eager_version_error():
    def f(x):
        y = x.exp()  # ExpBackward0 saves its result
        y.add_(1.0)
        return y.sum()

    with pytest.raises(RuntimeError, match="modified by an inplace operation") as eager:
        func.grad(f)(ag.ones(3))
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as compiled:
        ag.compile(func.grad(f))(ag.ones(3))
    assert str(compiled.value) == str(eager.value)


def test_merged_values_keep_their_views_safe_from_buffer_reuse():
    def f(x):
        a = x * 2.0
        b = x * 2.0  # merged with `a` by CSE
        v = b.t()  # so a view of `a`'s buffer in the code
        c = a + 1.0  # a's last read: its buffer must not take c while v is still to be read
        return v.t() * c

    x = ag.tensor(np.arange(6.0).reshape(2, 3))
    _same(ag.compile(f)(x), f(x))
