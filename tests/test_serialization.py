"""save / load as PyTorch's torch.save / torch.load: what comes back (values, dtype, requires_grad, no history,
no .grad, Parameters stay Parameters), file names and file objects, weights_only. Checked side by side with
torch's own round trip when it is installed."""
import collections
import io
import pickle

import numpy as np
import pytest

import autograd_lite as ag


def _roundtrip(lib, obj, **load_kwargs):
    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return lib.load(buffer, **load_kwargs)


def _describe(value):
    """What a loaded object is, in terms that both libraries share."""
    if hasattr(value, "requires_grad"):
        return (type(value).__name__, value.detach().numpy().tolist(), str(value.dtype).split(".")[-1],
                value.requires_grad, value.grad_fn is None, value.grad is None)
    if isinstance(value, dict):
        return (type(value).__name__, [(k, _describe(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)) and type(value).__name__ != "Size":
        return (type(value).__name__, [_describe(v) for v in value])
    return (type(value).__name__, str(value).split(".")[-1])


def _objects(lib):
    x = lib.ones(2, requires_grad=True)
    x.grad = lib.ones(2)
    return [lib.tensor([1.0, 2.0]), x, x * 2, {"w": lib.nn.Parameter(lib.zeros(1))},
            [lib.arange(3), (1, "s", 2.5, None, True)], collections.OrderedDict(a=lib.eye(2)), lib.float64,
            lib.tensor(3), lib.tensor([True, False]), lib.tensor([1.5], dtype=lib.float64)]


EXPECTED = [  # recorded from torch 2.13
    ("Tensor", [1.0, 2.0], "float32", False, True, True),
    ("Tensor", [1.0, 1.0], "float32", True, True, True),  # .grad is not saved
    ("Tensor", [2.0, 2.0], "float32", True, True, True),  # a non-leaf comes back as a leaf that requires grad
    ("dict", [("w", ("Parameter", [0.0], "float32", True, True, True))]),
    ("list", [("Tensor", [0, 1, 2], "int64", False, True, True),
              ("tuple", [("int", "1"), ("str", "s"), ("float", "5"), ("NoneType", "None"), ("bool", "True")])]),
    ("OrderedDict", [("a", ("Tensor", [[1.0, 0.0], [0.0, 1.0]], "float32", False, True, True))]),
    ("dtype", "float64"),
    ("Tensor", 3, "int64", False, True, True),
    ("Tensor", [True, False], "bool", False, True, True),
    ("Tensor", [1.5], "float64", False, True, True),
]


@pytest.mark.parametrize("i", range(len(EXPECTED)))
def test_what_comes_back_from_save_and_load(i):
    assert _describe(_roundtrip(ag, _objects(ag)[i])) == EXPECTED[i]


@pytest.mark.parametrize("i", range(len(EXPECTED)))
def test_what_comes_back_is_what_torch_gives_back(i):
    torch = pytest.importorskip("torch")
    assert _describe(_roundtrip(ag, _objects(ag)[i])) == _describe(_roundtrip(torch, _objects(torch)[i]))


def test_a_file_name_and_a_state_dict_restore_a_model_and_its_optimizer(tmp_path):
    ag.manual_seed(0)
    model = ag.nn.Linear(3, 2)
    opt = ag.optim.Adam(model.parameters(), lr=0.1)
    model(ag.ones(4, 3)).sum().backward()
    opt.step()
    ag.save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "ckpt.pt")
    ag.save(model.weight, str(tmp_path / "w.pt"))
    other = ag.nn.Linear(3, 2)
    other_opt = ag.optim.Adam(other.parameters(), lr=0.1)
    checkpoint = ag.load(tmp_path / "ckpt.pt", weights_only=True)
    other.load_state_dict(checkpoint["model"])
    other_opt.load_state_dict(checkpoint["optim"])
    assert ag.equal(other.weight, model.weight) and ag.equal(ag.load(str(tmp_path / "w.pt")), model.weight)
    assert other_opt.state_dict()["state"][0]["exp_avg"].tolist() == opt.state_dict()["state"][0]["exp_avg"].tolist()


class _NotAWeight:
    pass


def test_weights_only_refuses_other_classes_unless_turned_off():
    buffer = io.BytesIO()
    ag.save({"a": _NotAWeight()}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)^Weights only load failed.*Unsupported global: GLOBAL "
                                                     r"\S*test_serialization._NotAWeight was not an allowed global"):
        ag.load(buffer)
    buffer.seek(0)
    assert isinstance(ag.load(buffer, weights_only=False)["a"], _NotAWeight)


def test_loaded_tensors_own_their_values():
    base = ag.arange(4.0)
    view = base[1:3]
    loaded_base, loaded_view = _roundtrip(ag, [base, view])
    loaded_view.add_(10)  # the view came back as a copy (PyTorch would keep the storage shared)
    assert loaded_base.tolist() == [0.0, 1.0, 2.0, 3.0] and np.shares_memory(base.numpy(), view.numpy())


def test_default_device_is_the_cpu_only():
    assert ag.get_default_device() == ag.device("cpu")
    ag.set_default_device("cpu")
    ag.set_default_device(None)
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        ag.set_default_device("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        ag.set_default_device("mps")
    assert ag.ones(1).device == ag.device("cpu")
