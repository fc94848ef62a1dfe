"""nn: Parameter, Module bookkeeping, Linear (values and gradients against finite differences), init,
containers, loss modules, state_dict round trips, reprs and error messages.

Expected strings were taken from PyTorch 2; where real torch is importable, the same checks also run
against it (and are skipped otherwise), so an expectation here cannot drift away from PyTorch's.
"""
import collections
import copy
import math
import pickle

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import nn
from autograd_lite.nn import functional as F

try:
    import torch
except ImportError:  # the comparisons with PyTorch are optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
LIBS = [ag, pytest.param(torch, marks=needs_torch, id="torch")] if torch is not None else [ag]


def _name(lib):
    return "torch" if lib is torch else "autograd_lite"


class Net(nn.Module):
    """A small model with a parameter of its own, a nested container and a child layer."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4, bias=False), nn.ReLU())
        self.head = nn.Linear(4, 2)
        self.scale = nn.Parameter(ag.ones(1))
        self.note = "not registered"

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


# -- Parameter --------------------------------------------------------------------------------------------
def test_parameter_is_a_leaf_tensor_that_requires_grad_and_shares_values():
    t = ag.ones(2)
    p = nn.Parameter(t)
    assert isinstance(p, ag.Tensor) and p.is_leaf and p.requires_grad
    t.add_(1)  # same memory, as in PyTorch
    assert p.tolist() == [2.0, 2.0]
    assert not nn.Parameter(ag.ones(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_from_a_computed_tensor_is_a_leaf():
    x = ag.ones(2, requires_grad=True)
    p = nn.Parameter(x * 3)
    assert p.is_leaf and p.grad_fn is None and p.tolist() == [3.0, 3.0]


def test_operations_on_parameters_give_plain_tensors_and_gradients_reach_the_parameter():
    p = nn.Parameter(ag.tensor([1.0, 2.0]))
    y = p * p
    assert type(y) is ag.Tensor and y.grad_fn.name() == "MulBackward0"
    assert type(p.detach()) is ag.Tensor and type(p.clone()) is ag.Tensor
    y.sum().backward()
    assert p.grad.tolist() == [2.0, 4.0]
    assert type(p.grad) is ag.Tensor


@pytest.mark.parametrize("lib", LIBS)
def test_parameter_repr_and_integer_error(lib):
    assert repr(lib.nn.Parameter(lib.ones(2))) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert repr(lib.nn.Parameter(lib.ones(2), requires_grad=False)) == "Parameter containing:\ntensor([1., 1.])"
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype can require gradients$"):
        lib.nn.Parameter(lib.tensor([1, 2]))


def test_parameter_deepcopy_and_pickle_give_new_parameters_with_equal_values():
    p = nn.Parameter(ag.tensor([1.0, 2.0]))
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.Parameter and q is not p and q.requires_grad
        assert q.tolist() == [1.0, 2.0]
        assert not np.shares_memory(q._data, p._data)


# -- Module bookkeeping -----------------------------------------------------------------------------------
def test_attributes_are_registered_by_kind():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["body", "head"]
    assert net.note == "not registered" and "note" not in net._parameters
    assert [name for name, _ in net.named_parameters()] == ["scale", "body.0.weight", "head.weight", "head.bias"]
    assert [p.shape for p in net.parameters()] == [(1,), (4, 3), (2, 4), (2,)]
    assert list(net.children()) == [net.body, net.head]
    assert [name for name, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "head"]
    assert len(list(net.modules())) == 5
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_a_shared_layer_is_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # state_dict keeps both names


def test_reassigning_and_deleting_attributes_updates_the_registries():
    net = Net()
    net.head = nn.Identity()
    assert isinstance(net.head, nn.Identity) and "head.weight" not in dict(net.named_parameters())
    net.scale = None  # a registered parameter may be set to None (and is then skipped)
    assert "scale" not in dict(net.named_parameters())
    del net.body
    assert "body" not in net._modules
    with pytest.raises(AttributeError, match="^'Net' object has no attribute 'body'$"):
        net.body  # noqa: B018


@pytest.mark.parametrize("kind", ["parameter", "buffer"])
@pytest.mark.parametrize("lib", LIBS)
def test_names_given_to_register_parameter_and_register_buffer_are_checked_as_pytorch_does(lib, kind):
    m = lib.nn.Module()
    m.x = 1
    register = getattr(m, f"register_{kind}")
    for name, error, message in [("a.b", KeyError, f'{kind} name can\'t contain "."'),
                                 ("", KeyError, f'{kind} name can\'t be empty string ""'),
                                 (3, TypeError, f"{kind} name should be a string. Got int"),
                                 ("x", KeyError, "attribute 'x' already exists")]:
        with pytest.raises(error) as info:
            register(name, None)
        assert info.value.args[0] == message
    with pytest.raises(AttributeError, match=rf"^cannot assign {kind} before Module.__init__\(\) call$"):
        getattr(lib.nn.Module.__new__(lib.nn.Module), f"register_{kind}")("p", None)


@pytest.mark.parametrize("lib", LIBS)
def test_registration_errors_use_pytorchs_wording(lib):
    name = _name(lib)

    class Forgot(lib.nn.Module):
        def __init__(self):
            self.w = lib.nn.Parameter(lib.ones(1))

    with pytest.raises(AttributeError, match=r"^cannot assign parameters before Module.__init__\(\) call$"):
        Forgot()
    m = lib.nn.Linear(2, 3)
    with pytest.raises(TypeError) as info:
        m.weight = lib.ones(3, 2)
    assert str(info.value) == (f"cannot assign '{name}.FloatTensor' as parameter 'weight' "
                               f"({name}.nn.Parameter or None expected)")
    seq = lib.nn.Sequential(m)
    with pytest.raises(TypeError) as info:
        setattr(seq, "0", lib.ones(2))
    assert str(info.value) == (f"cannot assign '{name}.FloatTensor' as child module '0' "
                               f"({name}.nn.Module or None expected)")
    with pytest.raises(KeyError, match="parameter name can"):
        m.register_parameter("a.b", None)
    with pytest.raises(AttributeError, match="^'Linear' object has no attribute 'nothing'$"):
        m.nothing  # noqa: B018
    with pytest.raises(NotImplementedError, match='^Module \\[Module\\] is missing the required "forward" function$'):
        lib.nn.Module()(1)


def test_a_computed_tensor_cannot_be_registered_as_a_parameter():
    m = nn.Module()
    p = nn.Parameter(ag.ones(1))
    p._grad_fn = (ag.ones(1, requires_grad=True) * 2).grad_fn  # a non-leaf Parameter (cannot happen by accident)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        m.w = p


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert net.training and net.body[1].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="^training mode is expected to be boolean$"):
        net.train("yes")


def test_eval_does_not_turn_off_gradient_recording():
    net = Net().eval()
    assert net(ag.ones(1, 3)).requires_grad


def test_zero_grad_sets_gradients_to_none_by_default_or_to_zeros():
    net = Net()
    net(ag.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad._data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_gradients_accumulate_until_zero_grad():
    lin = nn.Linear(2, 1)
    x = ag.tensor([[1.0, 2.0]])
    lin(x).sum().backward()
    first = lin.weight.grad.tolist()
    lin(x).sum().backward()
    assert lin.weight.grad.tolist() == [[2 * v for v in first[0]]]


def test_requires_grad_false_freezes_parameters():
    net = Net()
    net.body.requires_grad_(False)
    out = net(ag.ones(2, 3)).sum()
    out.backward()
    assert net.body[0].weight.grad is None and net.head.weight.grad is not None


def test_apply_visits_children_before_parents():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Sequential", "Linear", "Net"]


def test_to_double_converts_parameters_in_place_and_keeps_them_registered():
    net = Net()
    before = list(net.parameters())
    net.double()
    after = list(net.parameters())
    assert all(a is b for a, b in zip(before, after))
    assert all(p.dtype is ag.float64 for p in after)
    assert net(ag.ones(1, 3, dtype=ag.float64)).dtype is ag.float64
    net.to(ag.float32)
    assert all(p.dtype is ag.float32 for p in net.parameters())
    net.float()
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes, but got desired dtype"):
        net.to(ag.int64)


def test_deepcopy_of_a_model_is_independent():
    net = Net()
    twin = copy.deepcopy(net)
    x = ag.ones(2, 3)
    assert ag.equal(net(x), twin(x))
    with ag.no_grad():
        twin.head.bias.add_(1.0)
    assert not ag.equal(net(x), twin(x))


# -- state_dict ----------------------------------------------------------------------------------------------
def test_state_dict_holds_detached_tensors_sharing_memory_with_the_model():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "body.0.weight", "head.weight", "head.bias"]
    assert isinstance(sd, collections.OrderedDict)
    assert all(not v.requires_grad and type(v) is ag.Tensor for v in sd.values())
    assert np.shares_memory(sd["head.weight"]._data, net.head.weight._data)
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight


def test_state_dict_round_trip_restores_the_outputs():
    ag.manual_seed(0)
    a = Net()
    ag.manual_seed(1)
    b = Net()
    x = ag.randn(5, 3)
    assert not ag.allclose(a(x), b(x))
    saved = {k: v.clone() for k, v in a.state_dict().items()}
    result = b.load_state_dict(saved)
    assert repr(result) == "<All keys matched successfully>"
    assert ag.equal(a(x), b(x))
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and pa is not pb and ag.equal(pa, pb)
    assert b.head.weight._vc[0] > 0  # loading is an in-place write


def test_state_dict_survives_pickling():
    a, b = Net(), Net()
    b.load_state_dict(pickle.loads(pickle.dumps(a.state_dict())))
    assert all(ag.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("lib", LIBS)
def test_load_state_dict_errors_list_every_problem_as_pytorch_does(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 16), lib.nn.Tanh(), lib.nn.Linear(16, 1))
    sd = model.state_dict()
    sd["0.weight"] = lib.zeros(3, 3)
    sd["x"] = lib.ones(1)
    del sd["2.bias"]
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(sd)
    size = f"{_name(lib)}.Size"
    assert str(info.value) == (
        "Error(s) in loading state_dict for Sequential:\n"
        '\tMissing key(s) in state_dict: "2.bias". \n'
        '\tUnexpected key(s) in state_dict: "x". \n'
        f"\tsize mismatch for 0.weight: copying a param with shape {size}([3, 3]) from checkpoint, the shape in "
        f"current model is {size}([16, 2])."
    )
    sd = model.state_dict()
    del sd["2.bias"]
    sd["3.weight"] = lib.ones(1)
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["3.weight"]
    assert repr(result) == "_IncompatibleKeys(missing_keys=['2.bias'], unexpected_keys=['3.weight'])"


@pytest.mark.parametrize("lib", LIBS)
def test_a_one_element_checkpoint_entry_loads_into_a_0d_parameter(lib):
    model = lib.nn.Module()
    model.scale = lib.nn.Parameter(lib.tensor(1.0))
    assert repr(model.load_state_dict({"scale": lib.tensor([5.0])})) == "<All keys matched successfully>"
    assert model.scale.shape == () and model.scale.item() == 5.0


def test_load_state_dict_with_assign_replaces_the_parameters():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.load_state_dict(a.state_dict(), assign=True)
    assert type(b.weight) is nn.Parameter and b.weight.requires_grad
    assert np.shares_memory(b.weight._data, a.weight._data)


def test_buffers_are_saved_unless_non_persistent():
    loss = nn.BCEWithLogitsLoss(pos_weight=ag.ones(3))
    assert list(loss.state_dict()) == ["pos_weight"]  # weight=None is not saved
    m = nn.Module()
    m.register_buffer("running", ag.zeros(2))
    m.register_buffer("scratch", ag.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["running"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert list(m.parameters()) == []


# -- reprs -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", LIBS)
def test_module_reprs_match_pytorch(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 16), lib.nn.Tanh(), lib.nn.Linear(16, 1, bias=False))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=16, bias=True)\n"
        "  (1): Tanh()\n"
        "  (2): Linear(in_features=16, out_features=1, bias=False)\n"
        ")"
    )

    class Outer(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU())
            self.head = lib.nn.Identity()

    assert repr(Outer()) == (
        "Outer(\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (head): Identity()\n"
        ")"
    )
    assert repr(lib.nn.Sequential()) == "Sequential()"
    reprs = [repr(m) for m in (lib.nn.ReLU(inplace=True), lib.nn.LeakyReLU(), lib.nn.Softmax(dim=1),
                               lib.nn.Flatten(), lib.nn.Sigmoid(), lib.nn.CrossEntropyLoss(), lib.nn.MSELoss())]
    assert reprs == ["ReLU(inplace=True)", "LeakyReLU(negative_slope=0.01)", "Softmax(dim=1)",
                     "Flatten(start_dim=1, end_dim=-1)", "Sigmoid()", "CrossEntropyLoss()", "MSELoss()"]


# -- Linear ------------------------------------------------------------------------------------------------
def test_linear_computes_x_times_weight_transposed_plus_bias():
    lin = nn.Linear(3, 2, dtype=ag.float64)
    x = np.random.default_rng(0).standard_normal((4, 3))
    out = lin(ag.tensor(x))
    expected = x @ lin.weight._data.T + lin.bias._data
    np.testing.assert_allclose(out._data, expected, rtol=1e-14)
    assert out.dtype is ag.float64 and out.grad_fn.name() == "AddmmBackward0"
    assert lin(ag.tensor(x[0])).shape == (2,)  # a single sample, no batch dimension
    assert nn.Linear(3, 2, bias=False)(ag.ones(4, 3)).grad_fn.name() == "MmBackward0"


def test_linear_default_initialisation_is_pytorchs_uniform_interval():
    ag.manual_seed(0)
    lin = nn.Linear(50, 400)
    bound = 1 / math.sqrt(50)
    for p in (lin.weight, lin.bias):
        values = p._data
        assert values.dtype == np.float32 and np.all(np.abs(values) <= bound)
    # 20,000 uniform samples: the extremes come close to the bound and the spread is bound²/3
    assert np.abs(lin.weight._data).max() > 0.99 * bound
    assert np.isclose(lin.weight._data.var(), bound**2 / 3, rtol=0.05)
    ag.manual_seed(0)
    assert ag.equal(nn.Linear(50, 400).weight, lin.weight)  # reproducible from the seed
    assert lin.weight.is_leaf and lin.weight.requires_grad and lin.weight._vc[0] == 1


def _finite_difference_grad(f, array, eps=1e-6):
    """Central differences of the scalar f with respect to every entry of `array` (changed in place)."""
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + eps
        up = f()
        array[idx] = old - eps
        down = f()
        array[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("batch_shape", [(5,), (), (2, 3)])
def test_linear_gradients_match_finite_differences(batch_shape):
    ag.manual_seed(3)
    lin = nn.Linear(4, 3, dtype=ag.float64)
    x = ag.randn(*batch_shape, 4, dtype=ag.float64, requires_grad=True)
    w_out = np.random.default_rng(1).standard_normal((*batch_shape, 3))

    def objective():
        with ag.no_grad():
            return float(np.sum(lin(x)._data * w_out))

    (lin(x) * ag.tensor(w_out)).sum().backward()
    for tensor in (lin.weight, lin.bias, x):
        numeric = _finite_difference_grad(objective, tensor._data)
        np.testing.assert_allclose(tensor.grad._data, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape,rows", [((4, 3), 4), ((3,), 1), ((2, 4, 3), 8), ((4, 0), 4), ((2, 3, 0), 6)])
def test_linear_with_a_wrong_input_size_raises_pytorchs_error(shape, rows):
    cols = shape[-1]
    with pytest.raises(RuntimeError, match=rf"^mat1 and mat2 shapes cannot be multiplied \({rows}x{cols} and 2x5\)$"):
        nn.Linear(2, 5)(ag.ones(*shape))


# -- init --------------------------------------------------------------------------------------------------
def test_calculate_gain_values_and_errors():
    assert nn.init.calculate_gain("linear") == 1 and nn.init.calculate_gain("sigmoid") == 1
    assert nn.init.calculate_gain("tanh") == 5.0 / 3
    assert nn.init.calculate_gain("relu") == math.sqrt(2.0)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    with pytest.raises(ValueError, match="^Unsupported nonlinearity foo$"):
        nn.init.calculate_gain("foo")
    with pytest.raises(ValueError, match="^negative_slope True not a valid number$"):
        nn.init.calculate_gain("leaky_relu", True)


def test_init_functions_fill_in_place_without_recording_and_bump_the_version():
    p = nn.Parameter(ag.empty(30, 20))
    assert nn.init.uniform_(p, -2.0, 3.0) is p
    assert p.grad_fn is None and p.is_leaf and p._data.min() >= -2 and p._data.max() < 3
    nn.init.constant_(p, 0.5)
    assert np.all(p._data == 0.5) and p._data.dtype == np.float32
    nn.init.zeros_(p)
    assert not p._data.any()
    nn.init.ones_(p)
    assert np.all(p._data == 1)
    nn.init.eye_(p)
    assert np.array_equal(p._data, np.eye(30, 20))
    assert p._vc[0] == 5
    with pytest.raises(ValueError, match="^Only tensors with 2 dimensions are supported$"):
        nn.init.eye_(ag.empty(3))


def test_init_of_a_value_saved_for_backward_makes_backward_refuse():
    w = nn.Parameter(ag.ones(2, 2))
    y = (w * w).sum()  # MulBackward0 saved w
    nn.init.normal_(w)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_kaiming_and_xavier_bounds():
    ag.manual_seed(0)
    w = ag.empty(300, 200)
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 200)
    assert np.abs(w._data).max() <= bound and np.abs(w._data).max() > 0.99 * bound
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 300)
    assert 0.99 * bound < np.abs(w._data).max() <= bound  # both sides: a bound ignored is caught too
    nn.init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / 500)
    assert 0.99 * bound < np.abs(w._data).max() <= bound
    nn.init.kaiming_normal_(w)
    assert np.isclose(w._data.std(), nn.init.calculate_gain("leaky_relu") / math.sqrt(200), rtol=0.05)
    nn.init.xavier_normal_(w, gain=2.0)
    assert np.isclose(w._data.std(), 2.0 * math.sqrt(2.0 / 500), rtol=0.05)
    with pytest.raises(ValueError, match="^Fan in and fan out can not be computed for tensor with fewer than 2"):
        nn.init.xavier_uniform_(ag.empty(3))
    with pytest.raises(ValueError, match=r"^Mode fan_up not supported, please use one of \['fan_in', 'fan_out'\]$"):
        nn.init.kaiming_uniform_(w, mode="fan_up")


def test_init_uses_the_generator_it_is_given():
    g1, g2 = ag.Generator().manual_seed(7), ag.Generator().manual_seed(7)
    a, b = nn.init.normal_(ag.empty(5), generator=g1), nn.init.normal_(ag.empty(5), generator=g2)
    assert ag.equal(a, b)


# -- containers and activations --------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_names():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear) and model[1] is list(model)[1]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    with pytest.raises(IndexError, match="^index 3 is out of range$"):
        model[3]
    model.append(nn.Sigmoid())
    assert list(model._modules) == ["0", "1", "2", "3"]
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and isinstance(model[1], nn.Linear)
    named = nn.Sequential(collections.OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["hidden.weight", "hidden.bias"]
    x = ag.randn(4, 2)
    assert ag.equal(named(x), F.relu(named.hidden(x)))


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert layers[-1] is list(layers)[2] and isinstance(layers[1:], nn.ModuleList) and layers[1:][0] is layers[1]
    layers[-2] = nn.Tanh()
    assert isinstance(layers[1], nn.Tanh) and len(list(layers.parameters())) == 4
    with pytest.raises(IndexError, match="^index -4 is out of range$"):
        layers[-4]


def test_activation_modules_match_the_functions():
    x = ag.tensor([-2.0, -0.5, 0.0, 1.5])
    assert nn.ReLU()(x).tolist() == [0.0, 0.0, 0.0, 1.5]
    assert ag.allclose(nn.Tanh()(x), ag.tanh(x)) and ag.allclose(nn.Sigmoid()(x), ag.sigmoid(x))
    assert nn.LeakyReLU(0.1)(x).tolist() == pytest.approx([-0.2, -0.05, 0.0, 1.5])
    assert nn.Identity(54, unused="ignored")(x) is x
    assert nn.Flatten()(ag.ones(2, 3, 4)).shape == (2, 12)
    assert ag.allclose(nn.Softmax(dim=0)(x).sum(), ag.tensor(1.0))
    assert ag.allclose(nn.LogSoftmax(dim=0)(x).exp(), nn.Softmax(dim=0)(x))


@pytest.mark.parametrize("call,name", [
    (lambda x: F.softmax(x), "softmax"),
    (lambda x: F.log_softmax(x), "log_softmax"),
    (lambda x: nn.Softmax()(x), "softmax"),
    (lambda x: nn.LogSoftmax()(x), "log_softmax"),
])
def test_softmax_without_dim_picks_pytorchs_dim_and_warns_at_the_callers_line(call, name):
    x = ag.tensor([[1.0, 2.0], [3.0, 5.0]])  # 2-D: the legacy choice is dim=1
    with pytest.warns(UserWarning, match=f"^Implicit dimension choice for {name} has been deprecated") as record:
        out = call(x)
    assert record[0].filename == __file__  # the user's line, not autograd_lite's
    expected = F.softmax(x, 1) if name == "softmax" else F.log_softmax(x, 1)
    assert out.tolist() == expected.tolist()


def test_leaky_relu_gradient_matches_finite_differences():
    x = ag.tensor([-2.0, -0.5, 0.7, 1.5], dtype=ag.float64, requires_grad=True)
    assert ag.autograd.gradcheck(lambda t: F.leaky_relu(t, 0.2), (x,))
    zero = ag.zeros(1, requires_grad=True)
    F.leaky_relu(zero, 0.2).sum().backward()
    assert zero.grad.tolist() == pytest.approx([0.2])  # PyTorch's choice at 0: the negative slope


# -- loss modules -------------------------------------------------------------------------------------------
def test_loss_modules_compute_the_textbook_formulas():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    t = rng.random((6, 3))
    zt, yt, tt = ag.tensor(z, dtype=ag.float64), ag.tensor(y), ag.tensor(t, dtype=ag.float64)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    assert nn.CrossEntropyLoss()(zt, yt).item() == pytest.approx(-logp[np.arange(6), y].mean(), rel=1e-12)
    assert nn.CrossEntropyLoss(reduction="sum")(zt, yt).item() == pytest.approx(-logp[np.arange(6), y].sum())
    assert nn.CrossEntropyLoss(reduction="none")(zt, yt).shape == (6,)
    assert nn.NLLLoss()(ag.tensor(logp), yt).item() == pytest.approx(-logp[np.arange(6), y].mean())
    assert nn.MSELoss()(zt, tt).item() == pytest.approx(((z - t) ** 2).mean(), rel=1e-12)
    assert nn.MSELoss(reduction="sum")(zt, tt).item() == pytest.approx(((z - t) ** 2).sum(), rel=1e-12)
    sig = 1 / (1 + np.exp(-z))
    bce = -(t * np.log(sig) + (1 - t) * np.log(1 - sig))
    assert nn.BCEWithLogitsLoss()(zt, tt).item() == pytest.approx(bce.mean(), rel=1e-12)
    assert nn.BCELoss()(ag.tensor(sig), tt).item() == pytest.approx(bce.mean(), rel=1e-12)
    w = ag.tensor([1.0, 2.0, 0.5], dtype=ag.float64)
    weighted = nn.CrossEntropyLoss(weight=w)(zt, yt).item()
    wy = w._data[y]
    assert weighted == pytest.approx(-(wy * logp[np.arange(6), y]).sum() / wy.sum(), rel=1e-12)
    with pytest.raises(ValueError, match="^foo is not a valid value for reduction$"):
        nn.MSELoss(reduction="foo")(zt, tt)


def test_label_smoothing_gives_pytorchs_values():
    z = ag.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], dtype=ag.float64)
    classes = ag.tensor([2, 0])
    probabilities = ag.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]], dtype=ag.float64)
    # values printed by PyTorch 2.13 for the same calls
    assert F.cross_entropy(z, classes, label_smoothing=0.1).item() == pytest.approx(2.4042381682008847, rel=1e-12)
    assert nn.CrossEntropyLoss(label_smoothing=0.1)(z, classes).item() == pytest.approx(2.4042381682008847, rel=1e-12)
    per_sample = F.cross_entropy(z, classes, label_smoothing=0.1, reduction="none").tolist()
    assert per_sample == pytest.approx([1.8977021174, 2.9107742190], rel=1e-9)
    assert F.cross_entropy(z, probabilities, label_smoothing=0.2).item() == pytest.approx(2.1209048348675514, rel=1e-12)
    # class weights weigh the smoothing term too, and ignored targets take no part in it
    w = ag.tensor([1.0, 2.0, 0.5], dtype=ag.float64)
    assert F.cross_entropy(z, classes, w, label_smoothing=0.1).item() == pytest.approx(2.6945085112917786, rel=1e-12)
    weighted = F.cross_entropy(z, classes, w, label_smoothing=0.1, reduction="none").tolist()
    assert weighted == pytest.approx([0.9964756443278355, 3.0452871226098326], rel=1e-12)
    ignoring = F.cross_entropy(z, classes, ignore_index=0, label_smoothing=0.1, reduction="none").tolist()
    assert ignoring == pytest.approx([1.8977021174412783, 0.0], rel=1e-12)
    assert F.cross_entropy(z, classes, ignore_index=0, label_smoothing=0.1).item() == pytest.approx(1.8977021174412783)


def test_loss_module_gradient_flows_to_a_linear_layer():
    ag.manual_seed(0)
    lin = nn.Linear(3, 2, dtype=ag.float64)
    x, y = ag.randn(4, 3, dtype=ag.float64), ag.tensor([0, 1, 1, 0])

    def objective():
        with ag.no_grad():
            return nn.CrossEntropyLoss()(lin(x), y).item()

    nn.CrossEntropyLoss()(lin(x), y).backward()
    np.testing.assert_allclose(lin.weight.grad._data, _finite_difference_grad(objective, lin.weight._data),
                               rtol=1e-6, atol=1e-9)


def test_data_parallel_on_the_cpu_calls_its_module():
    inner = ag.nn.Linear(2, 1)
    net = ag.nn.DataParallel(inner)
    x = ag.ones(3, 2)
    assert net.device_ids == [] and net.module is inner
    assert net(x).tolist() == inner(x).tolist()
    assert [name for name, _ in net.named_parameters()] == ["module.weight", "module.bias"]
    assert repr(net).startswith("DataParallel(\n  (module): Linear(in_features=2, out_features=1, bias=True)")
