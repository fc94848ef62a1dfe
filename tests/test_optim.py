"""optim: SGD, Adam and RMSprop against their update formulas written out in numpy, over several steps, in float64;
bookkeeping (param groups, zero_grad, closures, state_dict); errors; training runs that reduce the loss.

The numpy references follow the formulas as PyTorch's code applies them (e.g. `maximize` negates the
gradient *before* weight decay is added). Where real torch is importable, the same steps are also run
through it (skipped otherwise).
"""
import copy
import itertools
import pickle

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import nn, optim

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

STEPS = 6


def _problem(seed=0, shape=(3, 4)):
    """A starting value and a fixed sequence of gradients (the same for every implementation)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), [rng.standard_normal(shape) for _ in range(STEPS)]


def _run(lib, opt_class, kwargs, p0, grads, dtype=None):
    """Take one optimizer step per gradient; return the parameter after each step."""
    dtype = dtype or lib.float64
    p = lib.nn.Parameter(lib.tensor(p0, dtype=dtype))
    opt = getattr(lib.optim, opt_class)([p], **kwargs)
    history = []
    for g in grads:
        p.grad = lib.tensor(g, dtype=dtype)
        opt.step()
        history.append(np.array(p.detach().numpy(), dtype=np.float64))
    return history


def sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    p, buf, history = p.copy(), None, []
    for t, g in enumerate(grads):
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if t == 0 else momentum * buf + (1 - dampening) * g  # b_1 = g_1: no dampening
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        history.append(p)
    return history


def adam_reference(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   maximize=False, decoupled=False):
    beta1, beta2 = betas
    p = p.copy()
    m, v, v_max, history = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p)
    return history


def rmsprop_reference(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                      maximize=False):
    p = p.copy()
    v, g_avg, buf, history = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        g_avg = alpha * g_avg + (1 - alpha) * g
        denom = np.sqrt(v - g_avg * g_avg if centered else v) + eps
        buf = momentum * buf + g / denom
        p = p - lr * (buf if momentum else g / denom)
        history.append(p)
    return history


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.01},
    {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1, "maximize": True},
]
ADAM_CASES = [
    {"lr": 0.1},
    {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6},
    {"lr": 0.1, "amsgrad": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.1, "amsgrad": True, "weight_decay": 0.05, "maximize": True},
]

RMSPROP_CASES = [
    {},
    {"lr": 0.1, "alpha": 0.9, "eps": 1e-4},
    {"lr": 0.01, "momentum": 0.9},
    {"lr": 0.01, "centered": True},
    {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
    {"lr": 0.05, "weight_decay": 0.01, "maximize": True},
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_follows_its_formula_over_several_steps(kwargs):
    p0, grads = _problem()
    ours = _run(ag, "SGD", kwargs, p0, grads)
    for step, (a, b) in enumerate(zip(ours, sgd_reference(p0, grads, **kwargs))):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_follows_its_formula_over_several_steps(kwargs):
    p0, grads = _problem()
    ours = _run(ag, "Adam", kwargs, p0, grads)
    for step, (a, b) in enumerate(zip(ours, adam_reference(p0, grads, **kwargs))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=str)
def test_rmsprop_follows_its_formula_over_several_steps(kwargs):
    p0, grads = _problem(seed=3)
    for ours, ref in zip(_run(ag, "RMSprop", kwargs, p0, grads), rmsprop_reference(p0, grads, **kwargs)):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)


def test_rmsprops_first_step_is_ten_learning_rates_with_the_defaults():
    w = nn.Parameter(ag.ones(2))  # the reproducer R5: one step on (w*w).sum() from ones, as torch 2.13 gives it
    opt = optim.RMSprop([w], lr=1e-3)
    (w * w).sum().backward()
    opt.step()
    assert w.tolist() == pytest.approx([0.99, 0.99], abs=1e-7)
    assert sorted(opt.state[w]) == ["square_avg", "step"] and opt.state[w]["step"].item() == 1.0
    opt = optim.RMSprop([w], momentum=0.9, centered=True)
    assert opt.defaults == {"lr": 0.01, "momentum": 0.9, "alpha": 0.99, "eps": 1e-08, "centered": True,
                            "weight_decay": 0, "capturable": False, "foreach": None, "maximize": False,
                            "differentiable": False}
    w.grad = ag.ones(2)
    opt.step()
    assert sorted(opt.state[w]) == ["grad_avg", "momentum_buffer", "square_avg", "step"]


def test_adamw_decays_the_weights_directly():
    p0, grads = _problem()
    ours = _run(ag, "AdamW", {"lr": 0.1, "weight_decay": 0.1}, p0, grads)
    expected = adam_reference(p0, grads, lr=0.1, weight_decay=0.1, decoupled=True)
    np.testing.assert_allclose(ours[-1], expected[-1], rtol=1e-12, atol=1e-14)
    not_decoupled = adam_reference(p0, grads, lr=0.1, weight_decay=0.1)
    assert not np.allclose(expected[-1], not_decoupled[-1])  # the two weight decays really differ


def test_adams_first_step_moves_each_entry_by_the_learning_rate():
    """At t=1 the bias-corrected m/sqrt(v) is g/|g|: every entry moves by about lr against its gradient,
    exactly by lr·g/(|g| + eps) -- so a tiny gradient moves a little less."""
    p = nn.Parameter(ag.tensor([1.0, -2.0, 3.0], dtype=ag.float64))
    opt = optim.Adam([p], lr=0.5)
    g = np.array([10.0, -0.001, 3.0])
    p.grad = ag.tensor(g, dtype=ag.float64)
    opt.step()
    np.testing.assert_allclose(p._data, [1.0, -2.0, 3.0] - 0.5 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    assert p._data[1] == pytest.approx(-1.5, abs=1e-5)


def test_sgd_momentum_buffer_starts_as_the_gradient_even_with_dampening():
    p = nn.Parameter(ag.tensor([0.0], dtype=ag.float64))
    opt = optim.SGD([p], lr=1.0, momentum=0.5, dampening=0.9)
    for expected in ([-2.0], [-2.0 - (0.5 * 2.0 + 0.1 * 2.0)]):
        p.grad = ag.tensor([2.0], dtype=ag.float64)
        opt.step()
        assert p.tolist() == pytest.approx(expected)
    assert opt.state[p]["momentum_buffer"].tolist() == pytest.approx([1.2])


@pytest.mark.parametrize("opt_class,kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01})])
def test_float32_parameters_stay_float32_and_agree_with_float64(opt_class, kwargs):
    p0, grads = _problem()
    ours = _run(ag, opt_class, kwargs, p0, grads, dtype=ag.float32)
    exact = _run(ag, opt_class, kwargs, p0, grads)
    np.testing.assert_allclose(ours[-1], exact[-1], rtol=1e-5, atol=1e-6)
    p = nn.Parameter(ag.ones(2))
    p.grad = ag.ones(2)
    getattr(optim, opt_class)([p], **kwargs).step()
    assert p.dtype is ag.float32


@needs_torch
@pytest.mark.parametrize("opt_class,kwargs", [("SGD", k) for k in SGD_CASES] + [("Adam", k) for k in ADAM_CASES]
                         + [("AdamW", {"lr": 0.1, "amsgrad": True})] + [("RMSprop", k) for k in RMSPROP_CASES],
                         ids=str)
def test_steps_match_pytorch(opt_class, kwargs):
    p0, grads = _problem(seed=5)
    for a, b in zip(_run(ag, opt_class, kwargs, p0, grads), _run(torch, opt_class, kwargs, p0, grads)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# -- bookkeeping ----------------------------------------------------------------------------------------------
def test_parameters_without_a_gradient_are_left_alone():
    a, b = nn.Parameter(ag.ones(2)), nn.Parameter(ag.ones(2))
    a.grad = ag.ones(2)
    for opt in (optim.SGD([a, b], lr=0.1, momentum=0.9), optim.Adam([a, b], lr=0.1)):
        opt.step()
        assert b.tolist() == [1.0, 1.0] and b._vc[0] == 0
        assert b not in opt.state and len(opt.state) == 1


def test_step_bumps_the_version_so_a_stale_graph_refuses_backward():
    w = nn.Parameter(ag.tensor([1.0, 2.0]))
    loss = (w * w).sum()  # saves w
    w.grad = ag.ones(2)
    optim.SGD([w], lr=0.1).step()
    assert w.grad_fn is None and w.is_leaf and w.requires_grad  # updated outside autograd
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_zero_grad_sets_none_by_default_and_zeros_on_request():
    p = nn.Parameter(ag.ones(2))
    opt = optim.SGD([p], lr=0.1)
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("owner", ["optimizer", "module"])
def test_zero_grad_to_zeros_cuts_a_create_graph_gradient_from_its_graph(owner):
    model = nn.Module()
    model.p = nn.Parameter(ag.tensor([1.0, 2.0]))
    (model.p**3).sum().backward(create_graph=True)  # the gradient 3p² is itself recorded
    grad = model.p.grad
    assert grad.grad_fn is not None
    (optim.SGD(model.parameters(), lr=0.1) if owner == "optimizer" else model).zero_grad(set_to_none=False)
    assert model.p.grad is grad  # zeroed in place, as PyTorch does
    assert grad.grad_fn is None and not grad.requires_grad and grad.tolist() == [0.0, 0.0]


def test_closure_is_evaluated_with_grad_enabled_and_its_loss_returned():
    p = nn.Parameter(ag.tensor([3.0], dtype=ag.float64))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and p.item() == pytest.approx(3.0 - 0.25 * 6.0)


def test_parameter_groups_have_their_own_settings():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    opt = optim.SGD([{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 1.0}],
                    lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert [g["momentum"] for g in opt.param_groups] == [0.5, 0.5]
    for p in model.parameters():
        p.grad = ag.ones_like(p)
    before = [p._data.copy() for p in model.parameters()]
    opt.step()
    moves = [float(np.max(np.abs(p._data - b))) for p, b in zip(model.parameters(), before)]
    assert moves == pytest.approx([0.1, 0.1, 1.0, 1.0])
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter group$"):
        opt.add_param_group({"params": model[0].weight})


def test_named_parameters_are_accepted_and_kept_as_names():
    model = nn.Linear(2, 1)
    opt = optim.Adam(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_an_optimizer_keeps_working_after_model_double():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.double()
    model(ag.ones(1, 2, dtype=ag.float64)).sum().backward()
    opt.step()
    assert model.weight.dtype is ag.float64


@pytest.mark.parametrize("make,message", [
    (lambda ps: optim.SGD(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda ps: optim.Adam(ps, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda ps: optim.Adam(ps, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda ps: optim.Adam(ps, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda ps: optim.RMSprop(ps, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda ps: optim.RMSprop(ps, alpha=-1), "Invalid alpha value: -1"),
    (lambda ps: optim.RMSprop(ps, momentum=-1), "Invalid momentum value: -1"),
    (lambda ps: optim.RMSprop(ps, eps=-1), "Invalid epsilon value: -1"),
    (lambda ps: optim.RMSprop(ps, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda ps: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
    (lambda ps: optim.SGD([ps[0] * 2], lr=0.1), "can't optimize a non-leaf Tensor"),
])
def test_invalid_settings_raise_pytorchs_value_errors(make, message):
    with pytest.raises(ValueError) as info:
        make([nn.Parameter(ag.ones(2))])
    assert str(info.value) == message


def test_invalid_params_raise_pytorchs_type_errors():
    with pytest.raises(TypeError) as info:
        optim.SGD(nn.Parameter(ag.ones(2)), lr=0.1)
    assert str(info.value) == ("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                               "but got autograd_lite.FloatTensor")
    with pytest.raises(TypeError) as info:
        optim.SGD([1.0], lr=0.1)
    assert str(info.value) == "optimizer can only optimize Tensors, but one of the params is float"
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {nn.Parameter(ag.ones(2))}}], lr=0.1)


def test_optimizer_repr_lists_each_group_sorted_as_pytorch():
    opt = optim.SGD([nn.Parameter(ag.ones(1))], lr=0.1)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n"
                         "    fused: None\n    lr: 0.1\n    maximize: False\n    momentum: 0\n    nesterov: False\n"
                         "    weight_decay: 0\n)")
    adam = repr(optim.Adam([nn.Parameter(ag.ones(1))]))
    assert adam.splitlines()[2:6] == ["    amsgrad: False", "    betas: (0.9, 0.999)", "    capturable: False",
                                      "    decoupled_weight_decay: False"]


# -- state_dict --------------------------------------------------------------------------------------------
def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return ag.tensor(x, dtype=ag.float64), ag.tensor(y)


def _train(model, opt, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("make_opt", [lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
                                      lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                                      lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True)],
                         ids=["Adam", "SGD", "RMSprop"])
def test_state_dict_round_trip_resumes_training_exactly(make_opt):
    x, y = _data()
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8, dtype=ag.float64), nn.Tanh(), nn.Linear(8, 2, dtype=ag.float64))
    opt = make_opt(model.parameters())
    _train(model, opt, x, y, 3)
    saved = pickle.loads(pickle.dumps((model.state_dict(), opt.state_dict())))  # a real copy, as on disk

    _train(model, opt, x, y, 3)  # the run we want to reproduce

    ag.manual_seed(123)  # different starting values: everything must come from the saved state
    clone = nn.Sequential(nn.Linear(2, 8, dtype=ag.float64), nn.Tanh(), nn.Linear(8, 2, dtype=ag.float64))
    clone_opt = make_opt(clone.parameters())
    clone.load_state_dict(saved[0])
    clone_opt.load_state_dict(saved[1])
    _train(clone, clone_opt, x, y, 3)
    for (name, p), q in zip(model.named_parameters(), clone.parameters()):
        assert ag.equal(p, q), name


def test_optimizer_state_dict_refers_to_parameters_by_position():
    a, b = nn.Parameter(ag.ones(2)), nn.Parameter(ag.ones(3))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    a.grad, b.grad = ag.ones(2), ag.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sorted(sd["state"]) == [0, 1] and sd["state"][1]["momentum_buffer"].shape == (3,)
    other = optim.SGD([nn.Parameter(ag.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="^loaded state dict has a different number of parameter groups$"):
        other.load_state_dict(sd)
    copy.deepcopy(sd)  # plain data: copyable


# -- training --------------------------------------------------------------------------------------------
def test_gradient_descent_on_least_squares_decreases_the_loss_at_every_step():
    """Full-batch GD on a convex quadratic with lr below 1/L decreases the loss at every step (a theorem:
    f(p - lr·∇f) <= f(p) - lr/2·|∇f|²), until rounding hides the difference, and converges to the
    least-squares solution."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3))
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.standard_normal((50, 1))
    design = np.hstack([x, np.ones((50, 1))])
    smoothness = 2 * np.linalg.eigvalsh(design.T @ design / 50).max()  # L of the mean squared error
    model = nn.Linear(3, 1, dtype=ag.float64)
    opt = optim.SGD(model.parameters(), lr=0.9 / smoothness)
    xt, yt = ag.tensor(x), ag.tensor(y)
    losses = []
    for _ in range(300):
        opt.zero_grad()
        loss = nn.MSELoss()(model(xt), yt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    final = losses[-1]
    visible = [loss for loss in losses if loss - final > 1e-10]  # before rounding error dominates
    assert len(visible) > 20
    assert all(later < earlier for earlier, later in itertools.pairwise(visible))
    assert final < 0.01 * losses[0]
    solution = np.linalg.lstsq(design, y, rcond=None)[0].ravel()
    np.testing.assert_allclose(np.append(model.weight._data, model.bias._data), solution, atol=1e-6)


def test_a_small_mlp_learns_a_nonlinear_boundary():
    x, y = _data(n=200, seed=1)
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).double()
    opt = optim.Adam(model.parameters(), lr=0.05)
    criterion = nn.CrossEntropyLoss()
    with ag.no_grad():
        start = criterion(model(x), y).item()
    _train(model, opt, x, y, 200)
    with ag.no_grad():
        logits = model(x)
        end = criterion(logits, y).item()
        accuracy = (logits.argmax(1) == y).float().mean().item()
    assert end < 0.2 * start and accuracy > 0.95
