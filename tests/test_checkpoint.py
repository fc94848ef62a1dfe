"""utils.checkpoint: gradients as without checkpointing (and as PyTorch's), the random state replayed, no_grad,
PyTorch's warnings and errors, and the memory it saves (measured with tracemalloc; timings are never asserted)."""
import gc
import tracemalloc
import warnings

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.utils.checkpoint import checkpoint, checkpoint_sequential, set_checkpoint_early_stop

MODES = [True, False]


def _chain(n=6, d=5, seed=0, lib=ag):
    rng = np.random.default_rng(seed)
    ws = [lib.tensor(rng.standard_normal((d, d)) / np.sqrt(d), dtype=lib.float64, requires_grad=True)
          for _ in range(n)]
    x = lib.tensor(rng.standard_normal((3, d)), dtype=lib.float64, requires_grad=True)
    layers = [lambda h, w=w, lib=lib: lib.tanh(h @ w) * (h.sin() + 1.5) for w in ws]
    return ws, x, layers


def _grads(ws, x, out):
    (out ** 2).sum().backward()
    return [t.grad.detach().numpy().copy() for t in ws + [x]]


def _plain(layers, x):
    h = x
    for f in layers:
        h = f(h)
    return h


@pytest.mark.parametrize("use_reentrant", MODES)
@pytest.mark.parametrize("segments", [1, 2, 3, 6])
def test_checkpoint_sequential_gives_the_gradients_of_the_plain_chain(use_reentrant, segments):
    ws, x, layers = _chain()
    ref = _grads(ws, x, _plain(layers, x))
    ws, x, layers = _chain()
    got = _grads(ws, x, checkpoint_sequential(layers, segments, x, use_reentrant=use_reentrant))
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


@pytest.mark.parametrize("use_reentrant", MODES)
def test_checkpoint_of_a_function_with_several_inputs_and_an_nn_sequential(use_reentrant):
    ag.manual_seed(0)
    model = ag.nn.Sequential(ag.nn.Linear(4, 6), ag.nn.Tanh(), ag.nn.Linear(6, 6), ag.nn.Tanh(), ag.nn.Linear(6, 1))
    model = model.double()
    x = ag.randn(5, 4, dtype=ag.float64, requires_grad=True)
    model(x).sum().backward()
    ref = [p.grad.clone() for p in model.parameters()] + [x.grad.clone()]
    model.zero_grad()
    x.grad = None
    checkpoint_sequential(model, 2, x, use_reentrant=use_reentrant).sum().backward()
    for a, p in zip(ref, list(model.parameters()) + [x]):
        assert ag.allclose(p.grad, a, rtol=0, atol=1e-12)

    a = ag.randn(3, dtype=ag.float64, requires_grad=True)
    b = ag.randn(3, dtype=ag.float64, requires_grad=True)
    out = checkpoint(lambda u, v, k: (u * v).exp() * k, a, b, 2.0, use_reentrant=use_reentrant)
    ga, gb = ag.autograd.grad(out.sum(), (a, b)) if not use_reentrant else (None, None)
    if use_reentrant:
        out.sum().backward()
        ga, gb = a.grad, b.grad
    assert ag.allclose(ga, 2 * b * (a * b).exp(), atol=1e-12)
    assert ag.allclose(gb, 2 * a * (a * b).exp(), atol=1e-12)


@pytest.mark.parametrize("use_reentrant", MODES)
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_gradients_match_pytorch_checkpointing(use_reentrant, segments):
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint_sequential as torch_sequential
    ws, x, layers = _chain()
    got = _grads(ws, x, checkpoint_sequential(layers, segments, x, use_reentrant=use_reentrant))
    tws, tx, tlayers = _chain(lib=torch)
    ref = _grads(tws, tx, torch_sequential(tlayers, segments, tx, use_reentrant=use_reentrant))
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


def _dropout(h, p=0.5):
    return h * (ag.rand(*h.shape, dtype=h.dtype) > p) / (1 - p)


@pytest.mark.parametrize("use_reentrant", MODES)
def test_the_random_state_is_replayed_and_restored(use_reentrant):
    x = ag.randn(50, dtype=ag.float64, requires_grad=True)
    ag.manual_seed(3)
    y = checkpoint(_dropout, x, use_reentrant=use_reentrant)
    y.sum().backward()
    mask = (y.detach() != 0).double() * 2
    assert ag.equal(x.grad, mask)  # the recomputation drew the same mask
    after_checkpointed = ag.rand(4)
    ag.manual_seed(3)
    _dropout(x).sum().backward()
    assert ag.equal(ag.rand(4), after_checkpointed)  # and backward left the random stream where it was


@pytest.mark.parametrize("use_reentrant", MODES)
def test_without_preserve_rng_state_the_recomputation_draws_new_numbers(use_reentrant):
    x = ag.randn(200, dtype=ag.float64, requires_grad=True)
    y = checkpoint(_dropout, x, use_reentrant=use_reentrant, preserve_rng_state=False)
    y.sum().backward()
    assert not ag.equal(x.grad, (y.detach() != 0).double() * 2)


def test_rng_state_functions_behave_as_pytorchs():
    state = ag.get_rng_state()
    assert state.dtype == ag.uint8 and state.dim() == 1
    a = ag.randn(3)
    ag.set_rng_state(state)
    assert ag.equal(ag.randn(3), a)
    with ag.random.fork_rng():
        ag.randn(10)
    assert ag.equal(ag.randn(2), (ag.set_rng_state(state), ag.randn(5))[1][3:])
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        ag.set_rng_state(ag.zeros(3))
    with pytest.raises(TypeError, match="expected a torch.ByteTensor, but got list"):
        ag.set_rng_state([1, 2])
    with pytest.raises(RuntimeError, match="input RNG state size to be 3"):
        ag.set_rng_state(ag.zeros(3, dtype=ag.uint8))


@pytest.mark.parametrize("use_reentrant", MODES)
def test_under_no_grad_the_function_simply_runs(use_reentrant):
    calls = []
    x = ag.randn(3, requires_grad=True)

    def f(h):
        calls.append(1)
        return h.sin()

    with ag.no_grad():
        y = checkpoint(f, x, use_reentrant=use_reentrant)
    assert not y.requires_grad and y.grad_fn is None and len(calls) == 1
    assert ag.equal(y, x.detach().sin())


def _torch_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught]


def test_use_reentrant_must_be_passed_warns_as_pytorch_does():
    x = ag.randn(3, requires_grad=True)
    messages = _torch_warnings(lambda: checkpoint(ag.sin, x))
    assert len(messages) == 1 and "use_reentrant parameter should be passed explicitly" in messages[0]
    seq = _torch_warnings(lambda: checkpoint_sequential([ag.sin, ag.cos], 2, x))
    assert len(seq) == 1 and seq[0].startswith("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant")
    assert _torch_warnings(lambda: checkpoint(ag.sin, x, use_reentrant=False)) == []
    torch = pytest.importorskip("torch")
    from torch.utils import checkpoint as tc
    tx = torch.randn(3, requires_grad=True)
    assert _torch_warnings(lambda: tc.checkpoint(torch.sin, tx)) == messages
    assert _torch_warnings(lambda: tc.checkpoint_sequential([torch.sin, torch.cos], 2, tx)) == seq
    # reentrant, no input requires grad
    ours = _torch_warnings(lambda: checkpoint(ag.sin, x.detach(), use_reentrant=True))
    assert ours == _torch_warnings(lambda: tc.checkpoint(torch.sin, tx.detach(), use_reentrant=True))


def test_parameters_inside_the_function_get_gradients_only_without_reentrant():
    w = ag.randn(3, requires_grad=True)
    x = ag.randn(3)
    y = checkpoint(lambda h: h * w, x, use_reentrant=False)
    y.sum().backward()
    assert ag.equal(w.grad, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(lambda h: h * w, x, use_reentrant=True)
    assert not y.requires_grad


def _errors(lib, checkpoint_fn):
    """The same misuses, run on either library; returns each error's type and first line."""
    x = lib.randn(3, dtype=lib.float64, requires_grad=True)
    calls = []

    def shrinks(h):
        calls.append(1)
        return h.exp().sin() if len(calls) == 1 else h[:2].exp().sin()

    def fewer(h):
        calls.append(1)
        return h.sin().sin() if len(calls) % 2 else h.sin()

    cases = [lambda: checkpoint_fn(lib.sin, x, use_reentrant=True, foo=1),
             lambda: checkpoint_fn(lib.sin, x, use_reentrant=True, debug=True),
             lambda: checkpoint_fn(lib.sin, x, use_reentrant=False, determinism_check="all"),
             lambda: lib.autograd.grad(checkpoint_fn(lib.sin, x, use_reentrant=True).sum(), x),
             lambda: checkpoint_fn(lib.sin, x, use_reentrant=True).sum().backward(inputs=[x]),
             lambda: checkpoint_fn(shrinks, x, use_reentrant=False).sum().backward(),
             lambda: checkpoint_fn(fewer, x, use_reentrant=False).sum().backward()]
    out = []
    for case in cases:
        calls.clear()
        with pytest.raises(Exception) as info:
            case()
        out.append((info.type.__name__, str(info.value).splitlines()[0]))
    return out


def test_errors_are_pytorchs():
    ours = _errors(ag, checkpoint)
    assert ours[0] == ("ValueError", "Unexpected keyword arguments: foo")
    assert ours[5][0] == ours[6][0] == "CheckpointError"
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as torch_checkpoint
    assert ours == _errors(torch, torch_checkpoint)


def test_the_determinism_check_can_be_switched_off_and_kwargs_reach_the_function():
    x = ag.randn(3, dtype=ag.float64, requires_grad=True)
    y = checkpoint(lambda h, scale: (h * scale).sin(), x, use_reentrant=False, scale=3.0, determinism_check="none")
    y.sum().backward()
    assert ag.allclose(x.grad, 3 * (3 * x.detach()).cos())


@pytest.mark.parametrize("early_stop", [True, False])
def test_backward_twice_with_retain_graph_recomputes_again(early_stop):
    calls = []
    x = ag.randn(4, dtype=ag.float64, requires_grad=True)

    def f(h):
        calls.append(1)
        return h.exp().sin()

    with set_checkpoint_early_stop(early_stop):
        y = checkpoint(f, x, use_reentrant=False)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
    ref = 2 * x.detach().exp().cos() * x.detach().exp()
    assert ag.allclose(x.grad, ref) and len(calls) == 3


def _extra_peak(step):
    step()  # the .grad buffers exist before measuring
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_sqrt_n_checkpointing_lowers_the_peak_memory_of_a_deep_chain_at_least_fourfold():
    rng = np.random.default_rng(0)
    depth, width = 256, 64
    ws = [ag.tensor(rng.standard_normal((width, width)) / np.sqrt(width), requires_grad=True) for _ in range(depth)]
    layers = [lambda h, w=w: ag.tanh(h @ w) for w in ws]
    x = ag.tensor(rng.standard_normal((64, width)))

    def plain():
        _plain(layers, x).sum().backward()

    def checkpointed():
        checkpoint_sequential(layers, 16, x, use_reentrant=False).sum().backward()

    without, with_ = _extra_peak(plain), _extra_peak(checkpointed)
    assert without >= 4 * with_, (without, with_)
