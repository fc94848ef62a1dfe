"""Behaviours that code written for PyTorch relies on, checked twice: against what PyTorch 2.13 (CPU build) was
seen to do (recorded here, so these run everywhere), and against PyTorch itself when it is installed (those
tests skip without it). Each scenario is written once, as a function of the library (`lib` is either
autograd_lite or torch), and returns what happened: a value, or the error's type and message."""
import copy
import pickle

import numpy as np
import pytest

import autograd_lite as ag

VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."
NO_GRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use "
    "case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the "
    "inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if "
    "you want the inplace to be tracked)."
)


def outcome(fn, *args, **kwargs):
    """('ok', result) or (error type name, message with the library's name written as 'torch')."""
    try:
        return "ok", fn(*args, **kwargs)
    except (Exception, AssertionError) as e:  # CPU-only PyTorch raises AssertionError for CUDA
        return type(e).__name__, str(e).replace("autograd_lite", "torch")


def same_in_torch(scenario, *args, **kwargs):
    """Run `scenario(lib, *args)` with both libraries; return autograd_lite's outcome once they agree."""
    torch = pytest.importorskip("torch")
    ours, theirs = outcome(scenario, ag, *args, **kwargs), outcome(scenario, torch, *args, **kwargs)
    assert ours == theirs
    return ours


# ---------------------------------------------------------------------------------------------------
# 1. in-place ops on views of a leaf that requires grad
# ---------------------------------------------------------------------------------------------------
VIEWS = {
    "slice": lambda x: x[0],
    "slice_cols": lambda x: x[:, 1:],
    "view": lambda x: x.view(12),
    "reshape": lambda x: x.reshape(12),
    "t": lambda x: x.t(),
    "transpose": lambda x: x.transpose(0, 1),
    "permute": lambda x: x.permute(1, 0),
    "unsqueeze": lambda x: x.unsqueeze(0),
    "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
    "flatten": lambda x: x.flatten(),
    "expand": lambda x: x[0:1].expand(3, 4),
    "view_of_view": lambda x: x.t()[1:],
}
INPLACE = {
    "add_": lambda v, lib: v.add_(1),
    "sub_": lambda v, lib: v.sub_(1),
    "mul_": lambda v, lib: v.mul_(2),
    "div_": lambda v, lib: v.div_(2),
    "iadd": lambda v, lib: v.__iadd__(1),
    "zero_": lambda v, lib: v.zero_(),
    "fill_": lambda v, lib: v.fill_(3.0),
    "copy_": lambda v, lib: v.copy_(lib.zeros(v.shape)),
    "clamp_": lambda v, lib: v.clamp_(0, 0.5),
    "setitem": lambda v, lib: v.__setitem__(0, 5.0),
}


def inplace_on_view(lib, view, op, grad_enabled=True):
    x = lib.ones(3, 4, requires_grad=True)
    with lib.set_grad_enabled(grad_enabled):
        INPLACE[op](VIEWS[view](x), lib)
    return x.detach().sum().item()


@pytest.mark.parametrize("op", INPLACE)
@pytest.mark.parametrize("view", VIEWS)
def test_inplace_on_a_view_of_a_leaf_that_requires_grad_raises(view, op):
    assert outcome(inplace_on_view, ag, view, op) == ("RuntimeError", VIEW_OF_LEAF)


@pytest.mark.parametrize("op", ["add_", "zero_", "setitem", "copy_"])
@pytest.mark.parametrize("view", ["slice", "view", "t", "unsqueeze"])
def test_inplace_on_a_view_of_a_leaf_is_allowed_under_no_grad(view, op):
    kind, total = outcome(inplace_on_view, ag, view, op, False)
    assert kind == "ok" and total != 12.0  # the leaf's memory was written


@pytest.mark.parametrize("op", ["add_", "mul_", "zero_", "fill_", "copy_", "clamp_", "setitem"])
@pytest.mark.parametrize("view", ["slice", "view", "t", "unsqueeze", "expand", "view_of_view"])
def test_inplace_on_views_matches_torch(view, op):
    same_in_torch(inplace_on_view, view, op)
    if view != "expand":  # under no_grad PyTorch writes through an expanded view; autograd_lite refuses to
        same_in_torch(inplace_on_view, view, op, False)


def view_made_without_grad_then_modified(lib, of_leaf, op):
    x = lib.ones(3, 4, requires_grad=True)
    base = x if of_leaf else x * 2
    with lib.no_grad():
        v = base[0]
    INPLACE[op](v, lib)


@pytest.mark.parametrize("op", ["add_", "mul_", "zero_", "copy_"])
@pytest.mark.parametrize("of_leaf", [True, False])
def test_a_view_made_under_no_grad_cannot_be_modified_with_grad_on(of_leaf, op):
    assert outcome(view_made_without_grad_then_modified, ag, of_leaf, op) == ("RuntimeError", NO_GRAD_VIEW)
    same_in_torch(view_made_without_grad_then_modified, of_leaf, op)


def test_inplace_through_an_element_view_writes_into_the_tensor():
    x = ag.ones(3, requires_grad=True)
    x.detach()[0].add_(1)  # x[i] of a vector is a 0-d view, as in PyTorch, not a copied number
    with ag.no_grad():
        x[1].mul_(5)
    assert x.tolist() == [2.0, 5.0, 1.0]


# ---------------------------------------------------------------------------------------------------
# 2. grad-mode decorators on generator functions
# ---------------------------------------------------------------------------------------------------
DECORATORS = {
    "no_grad()": lambda lib: lib.no_grad(),
    "no_grad": lambda lib: lib.no_grad,
    "enable_grad()": lambda lib: lib.enable_grad(),
    "enable_grad": lambda lib: lib.enable_grad,
    "set_grad_enabled(False)": lambda lib: lib.set_grad_enabled(False),
    "set_grad_enabled(True)": lambda lib: lib.set_grad_enabled(True),
    "inference_mode()": lambda lib: lib.inference_mode(),
    "inference_mode": lambda lib: lib.inference_mode,
    "inference_mode(False)": lambda lib: lib.inference_mode(False),
}
MODE_INSIDE = {"no_grad()": False, "no_grad": False, "enable_grad()": True, "enable_grad": True,
               "set_grad_enabled(False)": False, "set_grad_enabled(True)": True, "inference_mode()": False,
               "inference_mode": False, "inference_mode(False)": True}


def drive_decorated_generator(lib, name, outer):
    """The modes seen inside the body and by the caller at every step, with what was sent and returned."""
    seen = []
    prev = lib.is_grad_enabled()
    try:
        lib.set_grad_enabled(outer)

        @DECORATORS[name](lib)
        def counter(n):
            received = []
            for i in range(n):
                got = yield i, lib.is_grad_enabled()
                received.append((got, lib.is_grad_enabled()))
            return received

        seen.append(("after decorating", lib.is_grad_enabled()))
        gen = counter(2)
        seen.append((next(gen), lib.is_grad_enabled()))
        seen.append((gen.send("a"), lib.is_grad_enabled()))
        with pytest.raises(StopIteration) as stop:
            gen.send("b")
        seen.append((stop.value.value, lib.is_grad_enabled()))
    finally:
        lib.set_grad_enabled(prev)
    return seen


@pytest.mark.parametrize("outer", [True, False])
@pytest.mark.parametrize("name", DECORATORS)
def test_decorated_generator_runs_its_body_in_the_mode_and_the_caller_keeps_its_own(name, outer):
    inside = MODE_INSIDE[name]
    assert drive_decorated_generator(ag, name, outer) == [
        ("after decorating", outer),
        ((0, inside), outer),
        ((1, inside), outer),
        ([("a", inside), ("b", inside)], outer),
    ]
    assert ag.is_grad_enabled()


@pytest.mark.parametrize("outer", [True, False])
@pytest.mark.parametrize("name", DECORATORS)
def test_decorated_generator_matches_torch(name, outer):
    same_in_torch(drive_decorated_generator, name, outer)


def throw_and_close(lib):
    log = []

    @lib.no_grad()
    def body():
        try:
            yield lib.is_grad_enabled()
        except ValueError:
            log.append(("caught", lib.is_grad_enabled()))
            yield "after"
        finally:
            log.append(("finally", lib.is_grad_enabled()))

    gen = body()
    next(gen)
    log.append((gen.throw(ValueError("x")), lib.is_grad_enabled()))
    gen.close()
    log.append(("closed", lib.is_grad_enabled()))
    return log


def test_a_thrown_exception_and_close_reach_the_body_in_its_mode():
    assert throw_and_close(ag) == [("caught", False), ("after", True), ("finally", False), ("closed", True)]
    same_in_torch(throw_and_close)


def decorated_plain_function(lib, name):
    @DECORATORS[name](lib)
    def f(x):
        """doc"""
        return (x * 2).requires_grad, lib.is_grad_enabled()

    with lib.set_grad_enabled(not MODE_INSIDE[name]):
        return f(lib.ones(2, requires_grad=True)), f.__name__, f.__doc__, lib.is_grad_enabled()


@pytest.mark.parametrize("name", DECORATORS)
def test_decorated_plain_functions_still_run_in_the_mode(name):
    inside = MODE_INSIDE[name]
    assert decorated_plain_function(ag, name) == ((inside, inside), "f", "doc", not inside)
    same_in_torch(decorated_plain_function, name)


def test_set_grad_enabled_takes_bools_as_pytorch_does():
    assert outcome(ag.set_grad_enabled, "yes") == (
        "TypeError", "set_grad_enabled(): argument 'enabled' (position 1) must be bool, not str")
    assert ag.is_grad_enabled()


# ---------------------------------------------------------------------------------------------------
# 5. gradcheck of a custom Function that has only a forward-mode rule
# ---------------------------------------------------------------------------------------------------
def forward_only_functions(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x ** 3

        @staticmethod
        def jvp(ctx, x_t):
            return 3 * ctx.x ** 2 * x_t

    class WrongCube(Cube):
        @staticmethod
        def jvp(ctx, x_t):
            return 2 * ctx.x ** 2 * x_t

    return Cube, WrongCube


def gradcheck_forward_only(lib, which, **options):
    fn = forward_only_functions(lib)[which]
    x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
    return lib.autograd.gradcheck(fn.apply, (x,), **options)


FORWARD_ONLY = {"check_forward_ad": True, "check_backward_ad": False}


def test_gradcheck_of_a_forward_only_function_checks_its_jvp_without_running_backward():
    assert gradcheck_forward_only(ag, 0, **FORWARD_ONLY) is True
    assert gradcheck_forward_only(ag, 1, raise_exception=False, **FORWARD_ONLY) is False
    kind, message = outcome(gradcheck_forward_only, ag, 1, **FORWARD_ONLY)
    assert kind == "GradcheckError"
    assert message.startswith("Jacobian computed with forward mode mismatch for output 0 with respect to input 0,\n")
    assert outcome(gradcheck_forward_only, ag, 0) == ("NotImplementedError", (
        "You must implement either the backward or vjp method for your custom autograd.Function to use it with "
        "backward mode AD."))
    assert outcome(gradcheck_forward_only, ag, 0, check_backward_ad=False) == (
        "AssertionError", "Expected at least one of check_forward_ad or check_backward_ad to be True")


def test_gradcheck_of_a_forward_only_function_matches_torch():
    torch = pytest.importorskip("torch")
    assert same_in_torch(gradcheck_forward_only, 0, **FORWARD_ONLY) == ("ok", True)
    same_in_torch(gradcheck_forward_only, 1, raise_exception=False, **FORWARD_ONLY)
    same_in_torch(gradcheck_forward_only, 0)
    same_in_torch(gradcheck_forward_only, 0, check_backward_ad=False)
    ours = outcome(gradcheck_forward_only, ag, 1, **FORWARD_ONLY)[1].split("\n")[0]
    theirs = outcome(gradcheck_forward_only, torch, 1, **FORWARD_ONLY)[1].split("\n")[0]
    assert ours == theirs  # the first line; the matrices print as each library prints arrays


# ---------------------------------------------------------------------------------------------------
# 3. numpy() of a tensor that requires grad
# ---------------------------------------------------------------------------------------------------
NUMPY_NEEDS_DETACH = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."


def numpy_of_grad_tensor(lib, mode, via):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    context = {"grad": lib.enable_grad, "no_grad": lib.no_grad, "inference": lib.inference_mode}[mode]
    with context():
        return [(np.asarray(t) if via == "asarray" else t.numpy()).tolist() for t in (x, y)]


@pytest.mark.parametrize("via", ["numpy", "asarray"])
@pytest.mark.parametrize("mode", ["grad", "no_grad", "inference"])
def test_numpy_of_a_tensor_that_requires_grad_works_without_grad_mode_only(mode, via):
    expected = ("RuntimeError", NUMPY_NEEDS_DETACH) if mode == "grad" else ("ok", [[1.0, 2.0], [3.0, 6.0]])
    assert outcome(numpy_of_grad_tensor, ag, mode, via) == expected
    same_in_torch(numpy_of_grad_tensor, mode, via)


def test_numpy_under_no_grad_shares_memory():
    x = ag.ones(2, requires_grad=True)
    with ag.no_grad():
        x.numpy()[0] = 5.0
    assert x.tolist() == [5.0, 1.0]


# ---------------------------------------------------------------------------------------------------
# 4. del x.grad, pickle, copy and deepcopy
# ---------------------------------------------------------------------------------------------------
def delete_attribute(lib, name):
    x = lib.ones(2, requires_grad=True)
    x.grad = lib.ones(2)
    delattr(x, name)
    return x.grad, x.requires_grad


def test_del_grad_sets_it_to_none_and_other_attributes_refuse():
    assert outcome(delete_attribute, ag, "grad") == ("ok", (None, True))
    assert outcome(delete_attribute, ag, "data") == (
        "RuntimeError", "Deleting tensor data is not allowed. Delete tensor instead!")
    assert outcome(delete_attribute, ag, "requires_grad") == ("RuntimeError", "requires_grad must be a bool")
    for name in ("grad", "data", "requires_grad"):
        same_in_torch(delete_attribute, name)


def describe(t):
    return t.tolist(), str(t.dtype).split(".")[-1], t.requires_grad, t.is_leaf, t.grad_fn is None, t._version


def pickled(lib, what, protocol):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    x.grad = lib.tensor([3.0, 4.0])
    with lib.no_grad():
        x.add_(1)
    t = {"leaf": x, "non-leaf": x * 2, "int": lib.arange(3), "float64": lib.ones(2, dtype=lib.float64),
         "view": lib.arange(6.0).view(2, 3).t()}[what]
    back = pickle.loads(pickle.dumps(t, protocol))
    return describe(back), back.grad if back.is_leaf else "non-leaf"


PICKLED = {  # every copy is at version 1, whatever the original's version
    "leaf": (([2.0, -1.0], "float32", True, True, True, 1), None),  # .grad is not pickled
    "non-leaf": (([4.0, -2.0], "float32", True, True, True, 1), None),  # comes back as a leaf
    "int": (([0, 1, 2], "int64", False, True, True, 1), None),
    "float64": (([1.0, 1.0], "float64", False, True, True, 1), None),
    "view": (([[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]], "float32", False, True, True, 1), None),
}


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("what", PICKLED)
def test_pickle_keeps_values_dtype_and_requires_grad(what, protocol):
    assert outcome(pickled, ag, what, protocol) == ("ok", PICKLED[what])
    same_in_torch(pickled, what, protocol)


def deep_copied(lib, what):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    x.grad = lib.tensor([3.0, 4.0])
    t = x if what == "leaf" else x * 2
    if what == "retained":
        t.retain_grad()
        t.sum().backward()
    new = copy.deepcopy(t)
    x.grad.add_(10)  # the copy's .grad is its own
    return describe(new), new.grad.tolist(), new is not t


DEEPCOPY_NON_LEAF = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.  If "
    "you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, see "
    "https://github.com/pytorch/pytorch/pull/103001"
)


@pytest.mark.parametrize("what", ["leaf", "non-leaf", "retained"])
def test_deepcopy_copies_leaves_with_their_grad_and_refuses_non_leaves(what):
    expected = ("ok", (([1.0, -2.0], "float32", True, True, True, 1), [3.0, 4.0], True)) if what == "leaf" else (
        "RuntimeError", DEEPCOPY_NON_LEAF)
    assert outcome(deep_copied, ag, what) == expected
    same_in_torch(deep_copied, what)


def copies_of_views(lib, how):
    base = lib.zeros(2, 3)
    view = base.t()
    new_base, new_view = how([base, view])
    new_view[0].add_(1)
    return base.tolist(), new_base.tolist()


@pytest.mark.parametrize("how", [copy.deepcopy, copy.copy, lambda obj: pickle.loads(pickle.dumps(obj))],
                         ids=["deepcopy", "copy", "pickle"])
def test_copies_of_a_tensor_and_its_view(how):
    """deepcopy keeps the two sharing memory (but not with the originals); copy.copy shares the originals'
    memory; pickling makes independent tensors. Each as PyTorch does."""
    expected = {"deepcopy": ([[0.0] * 3] * 2, [[1.0, 0.0, 0.0]] * 2),
                "copy": ([[1.0, 0.0, 0.0]] * 2, [[1.0, 0.0, 0.0]] * 2),
                "pickle": ([[0.0] * 3] * 2, [[0.0] * 3] * 2)}
    kind, result = outcome(copies_of_views, ag, how)
    assert (kind, result) in [("ok", e) for e in expected.values()]
    assert same_in_torch(copies_of_views, how) == (kind, result)


def test_each_copy_of_a_view_lands_where_pytorch_puts_it():
    ok = [outcome(copies_of_views, ag, how)[1] for how in (copy.deepcopy, copy.copy)]
    assert ok == [([[0.0] * 3] * 2, [[1.0, 0.0, 0.0]] * 2), ([[1.0, 0.0, 0.0]] * 2, [[1.0, 0.0, 0.0]] * 2)]


def module_copies(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh(), lib.nn.Linear(2, 1))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.arange(float(p.numel())).reshape(p.shape) / (i + 2))
    model(lib.ones(1, 2)).sum().backward()
    x = lib.ones(3, 2)
    results = []
    for new in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        results.append((new(x).tolist(), [p.grad for p in new.parameters()],
                        all(a is not b for a, b in zip(new.parameters(), model.parameters()))))
    return results


def test_modules_deepcopy_and_pickle():
    kind, results = outcome(module_copies, ag)
    assert kind == "ok" and results[0] == results[1]
    assert results[0][1:] == ([None] * 4, True)
    same_in_torch(module_copies)


# ---------------------------------------------------------------------------------------------------
# 6. names that tutorials and older code use: device, cuda, Variable, legacy constructors, size=, functional_call
# ---------------------------------------------------------------------------------------------------
def make_device(lib, *args, **kwargs):
    d = lib.device(*args, **kwargs)
    return repr(d), str(d), d.type, d.index, d == lib.device(str(d)), hash(d) == hash(lib.device(str(d)))


DEVICES = {  # arguments -> what PyTorch 2.13 gives
    ("cpu",): ("device(type='cpu')", "cpu", "cpu", None, True, True),
    ("cpu", 0): ("device(type='cpu', index=0)", "cpu:0", "cpu", 0, True, True),
    ("cpu:1",): ("device(type='cpu', index=1)", "cpu:1", "cpu", 1, True, True),
    ("cuda",): ("device(type='cuda')", "cuda", "cuda", None, True, True),
    ("cuda", 1): ("device(type='cuda', index=1)", "cuda:1", "cuda", 1, True, True),
    ("mps",): ("device(type='mps')", "mps", "mps", None, True, True),
}
BAD_DEVICES = {
    ("foo",): ("RuntimeError", "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, "
                               "maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of "
                               "device string: foo"),
    ("cpu:x",): ("RuntimeError", "Invalid device string: 'cpu:x'"),
    ("cuda:-1",): ("RuntimeError", "Invalid device string: 'cuda:-1'"),
    ("cpu", -1): ("RuntimeError", "Device index must not be negative"),
    ("cpu", "0"): ("TypeError", "device(): argument 'index' (position 2) must be int, not str"),
    ("cpu:0", 1): ("RuntimeError", "type (string) must not include an index because index was passed explicitly: "
                                   "cpu:0"),
    (0,): ("RuntimeError", "Cannot access accelerator device when none is available."),
}


@pytest.mark.parametrize("args", list(DEVICES) + list(BAD_DEVICES), ids=str)
def test_device_objects(args):
    expected = ("ok", DEVICES[args]) if args in DEVICES else BAD_DEVICES[args]
    assert outcome(make_device, ag, *args) == expected
    same_in_torch(make_device, *args)


def device_facts(lib):
    x = lib.ones(2)
    d = lib.device(type="cpu")
    return (x.device == d, x.device == "cpu", lib.device("cpu") == lib.device("cpu", 0), lib.device(d) == d,
            x.is_cuda, lib.cuda.is_available(), lib.cuda.device_count(), lib.backends.mps.is_available(),
            pickle.loads(pickle.dumps(lib.device("cuda", 1))) == lib.device("cuda:1"), str(x.device))


def test_device_facts_of_a_cpu_only_build():
    assert device_facts(ag) == (True, False, False, True, False, False, 0, False, True, "cpu")
    same_in_torch(device_facts)


MOVES = {
    "to('cpu')": lambda lib, x: x.to("cpu") is x,
    "to(device)": lambda lib, x: x.to(lib.device("cpu")) is x,
    "to('cpu:0')": lambda lib, x: (x.to("cpu:0") is x, describe(x.to("cpu:0"))),  # an index: a copy
    "cpu()": lambda lib, x: x.cpu() is x,
    "to(device, dtype)": lambda lib, x: describe(x.to(lib.device("cpu"), lib.float64)),
    "to('cpu', dtype)": lambda lib, x: describe(x.to("cpu", lib.float64)),
    "to(device=, dtype=)": lambda lib, x: describe(x.to(device="cpu", dtype=lib.float64)),
    "to(other)": lambda lib, x: describe(x.to(lib.zeros(1, dtype=lib.float64))),
    "to(dtype)": lambda lib, x: describe(x.to(lib.float64)),
    "to(copy=True)": lambda lib, x: (x.to("cpu", copy=True) is x, describe(x.to("cpu", copy=True))),
    "to(non_blocking)": lambda lib, x: x.to("cpu", non_blocking=True) is x,
    "to('cuda')": lambda lib, x: x.to("cuda"),
    "to('cuda:1')": lambda lib, x: x.to("cuda:1"),
    "to(cuda device)": lambda lib, x: x.to(lib.device("cuda")),
    "cuda()": lambda lib, x: x.cuda(),
    "to('mps')": lambda lib, x: x.to("mps"),
    "to('xpu')": lambda lib, x: x.to("xpu"),
    "to(0)": lambda lib, x: x.to(0),
    "to('foo')": lambda lib, x: x.to("foo"),
}


def move(lib, how):
    return MOVES[how](lib, lib.tensor([1.0, 2.0], requires_grad=True))


@pytest.mark.parametrize("how", MOVES)
def test_moving_tensors_between_devices(how):
    result = same_in_torch(move, how)
    if how.startswith(("to('cuda", "to(cuda", "cuda(")):
        assert result == ("AssertionError", "Torch not compiled with CUDA enabled")
    if how == "to('cpu', dtype)":
        assert result == ("ok", ([1.0, 2.0], "float64", True, False, False, 0))


def test_moving_tensors_between_devices_without_torch():
    assert outcome(move, ag, "to('cuda')") == ("AssertionError", "Torch not compiled with CUDA enabled")
    assert outcome(move, ag, "to('mps')") == ("RuntimeError", "PyTorch is not linked with support for mps devices")
    assert outcome(move, ag, "to(0)") == ("RuntimeError", "Cannot access accelerator device when none is available.")
    assert outcome(move, ag, "to(copy=True)") == ("ok", (False, ([1.0, 2.0], "float32", True, False, False, 0)))
    assert outcome(move, ag, "to('cpu:0')") == ("ok", (False, ([1.0, 2.0], "float32", True, False, False, 0)))
    for how in ("to('cpu')", "to(device)", "cpu()", "to(non_blocking)"):
        assert outcome(move, ag, how) == ("ok", True)


FACTORIES = {
    "tensor": lambda lib, **kw: lib.tensor([1.0, 2.0], **kw),
    "as_tensor": lambda lib, **kw: lib.as_tensor([1.0, 2.0], **kw),
    "zeros": lambda lib, **kw: lib.zeros(2, 3, **kw),
    "ones": lambda lib, **kw: lib.ones((2, 3), **kw),
    "empty": lambda lib, **kw: lib.empty(2, **kw),
    "full": lambda lib, **kw: lib.full((2,), 1.5, **kw),
    "eye": lambda lib, **kw: lib.eye(2, **kw),
    "arange": lambda lib, **kw: lib.arange(3, **kw),
    "linspace": lambda lib, **kw: lib.linspace(0, 1, 3, **kw),
    "randn": lambda lib, **kw: lib.randn(2, **kw),
    "rand": lambda lib, **kw: lib.rand(2, **kw),
    "randint": lambda lib, **kw: lib.randint(0, 5, (2,), **kw),
    "zeros_like": lambda lib, **kw: lib.zeros_like(lib.ones(2), **kw),
    "ones_like": lambda lib, **kw: lib.ones_like(lib.ones(2), **kw),
    "full_like": lambda lib, **kw: lib.full_like(lib.ones(2), 3.0, **kw),
    "empty_like": lambda lib, **kw: lib.empty_like(lib.ones(2), **kw),
    "new_zeros": lambda lib, **kw: lib.ones(2).new_zeros(3, **kw),
    "new_ones": lambda lib, **kw: lib.ones(2).new_ones((3,), **kw),
    "new_full": lambda lib, **kw: lib.ones(2).new_full((3,), 2.0, **kw),
    "new_empty": lambda lib, **kw: lib.ones(2).new_empty(3, **kw),
    "new_tensor": lambda lib, **kw: lib.ones(2).new_tensor([4.0], **kw),
}


def factory_on(lib, name, where):
    t = FACTORIES[name](lib, device=where)
    return t.device == lib.device("cpu"), tuple(t.shape)


@pytest.mark.parametrize("where", ["cpu", "cpu:0", "device", "cuda", "mps", 0])
@pytest.mark.parametrize("name", FACTORIES)
def test_every_factory_takes_device(name, where):
    def scenario(lib):
        return factory_on(lib, name, lib.device("cpu") if where == "device" else where)
    kind, result = outcome(scenario, ag)
    assert kind == ("ok" if where in ("cpu", "cpu:0", "device") else
                    "AssertionError" if where == "cuda" else "RuntimeError")
    assert kind != "ok" or result[0] is True
    if where != "mps" or name in ("tensor", "as_tensor", "new_tensor"):  # PyTorch's other factories raise a
        same_in_torch(scenario)  # NotImplementedError listing its dispatch table for mps; here the message of .to


SIZES = {
    "zeros(size=)": lambda lib: lib.zeros(size=(2, 3)),
    "ones(size=list)": lambda lib: lib.ones(size=[2, 3]),
    "empty(size=)": lambda lib: lib.empty(size=(2,)),
    "rand(size=)": lambda lib: lib.rand(size=(2, 3)),
    "randn(size=)": lambda lib: lib.randn(size=(2, 3)),
    "full(size=, fill_value=)": lambda lib: lib.full(size=(2, 3), fill_value=1.5),
    "randint(low, high, size=)": lambda lib: lib.randint(0, 5, size=(2, 3)),
    "randint(high, size=)": lambda lib: lib.randint(5, size=(2, 3)),
    "randint(high=, size=)": lambda lib: lib.randint(high=5, size=(2,)),
    "zeros(2, size=)": lambda lib: lib.zeros(2, size=(2, 3)),
    "ones(size=int)": lambda lib: lib.ones(size=2),
    "zeros()": lambda lib: lib.zeros(),
    "empty(size=int)": lambda lib: lib.empty(size=2),
}


def sized(lib, name):
    t = SIZES[name](lib)
    return tuple(t.shape), str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("name", SIZES)
def test_size_keyword(name):
    kind, result = outcome(sized, ag, name)
    recorded = {"zeros(2, size=)": ("TypeError", "zeros() got multiple values for argument 'size'"),
                "ones(size=int)": ("TypeError", "ones(): argument 'size' must be tuple of ints, not int"),
                "zeros()": ("TypeError", 'zeros() missing 1 required positional arguments: "size"'),
                "empty(size=int)": ("TypeError", "empty(): argument 'size' must be tuple of ints, not int")}
    assert (kind, result) == recorded.get(name, ("ok", result)) and (kind != "ok" or result[0] in ((2, 3), (2,)))
    same_in_torch(sized, name)


def variable(lib, how):
    Variable = lib.autograd.Variable
    t = lib.tensor([1.0, 2.0])
    v = {"t": lambda: Variable(t), "rg": lambda: Variable(t, requires_grad=True),
         "rg=False": lambda: Variable(t, False),
         "data=": lambda: Variable(data=t), "empty": lambda: Variable(),
         "non-leaf": lambda: Variable(lib.ones(2, requires_grad=True) * 2),
         "list": lambda: Variable([1.0, 2.0]), "int rg": lambda: Variable(lib.arange(2), requires_grad=True)}[how]()
    shares = v.numel() > 0 and v.data_ptr() == t.data_ptr() if hasattr(v, "data_ptr") else None
    return (describe(v), type(v) is lib.Tensor, v is t, isinstance(t, Variable), isinstance(v, lib.Tensor),
            shares if how in ("t", "rg") else None)


@pytest.mark.parametrize("how", ["t", "rg", "rg=False", "data=", "empty", "non-leaf", "list", "int rg"])
def test_variable_is_the_deprecated_alias_that_gives_a_tensor(how):
    kind, result = outcome(variable, ag, how)
    if how == "rg":
        assert (kind, result[0]) == ("ok", ([1.0, 2.0], "float32", True, True, True, 0))
    if how == "list":
        assert (kind, result) == ("TypeError", "Variable data has to be a tensor, but got list")
    theirs = same_in_torch(variable, how) if how not in ("t", "rg") else None
    assert theirs is None or theirs == (kind, result)


def test_variable_shares_the_tensors_values():
    from autograd_lite.autograd import Variable
    t = ag.tensor([1.0, 2.0])
    v = Variable(t, requires_grad=True)
    assert v is not t and type(v) is ag.Tensor and v.requires_grad and not t.requires_grad
    with ag.no_grad():
        v.add_(1)
    assert t.tolist() == [2.0, 3.0] and isinstance(t, Variable) and ag.autograd.Variable is Variable


def test_variable_shares_values_in_torch_too():
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.0, 2.0])
    v = torch.autograd.Variable(t, requires_grad=True)
    with torch.no_grad():
        v.add_(1)
    assert t.tolist() == [2.0, 3.0]


LEGACY = {
    "Tensor(2, 3)": lambda lib: lib.Tensor(2, 3),
    "Tensor([2, 3])": lambda lib: lib.Tensor([2, 3]),
    "Tensor((2, 3))": lambda lib: lib.Tensor((2, 3)),
    "Tensor(Size)": lambda lib: lib.Tensor(lib.ones(2, 3).shape),
    "Tensor()": lambda lib: lib.Tensor(),
    "Tensor(0)": lambda lib: lib.Tensor(0),
    "Tensor(array)": lambda lib: lib.Tensor(np.arange(3)),
    "Tensor(float64 tensor)": lambda lib: lib.Tensor(lib.ones(2, dtype=lib.float64)),
    "Tensor(2.5)": lambda lib: lib.Tensor(2.5),
    "Tensor(2, 3.0)": lambda lib: lib.Tensor(2, 3.0),
    "Tensor(-1)": lambda lib: lib.Tensor(-1),
    "Tensor(2, device=)": lambda lib: lib.Tensor(2, device="cpu"),
    "FloatTensor(2, 3)": lambda lib: lib.FloatTensor(2, 3),
    "FloatTensor([2, 3])": lambda lib: lib.FloatTensor([2, 3]),
    "FloatTensor(float64 tensor)": lambda lib: lib.FloatTensor(lib.ones(2, dtype=lib.float64)),
    "DoubleTensor(2)": lambda lib: lib.DoubleTensor(2),
    "DoubleTensor([2.5])": lambda lib: lib.DoubleTensor([2.5]),
    "DoubleTensor(float64 tensor)": lambda lib: lib.DoubleTensor(lib.ones(2, dtype=lib.float64)),
    "LongTensor(2, 3)": lambda lib: lib.LongTensor(2, 3),
    "LongTensor([2.5, 3])": lambda lib: lib.LongTensor([2.5, 3]),
    "LongTensor(-1)": lambda lib: lib.LongTensor(-1),
    "LongTensor(2.5)": lambda lib: lib.LongTensor(2.5),
    "LongTensor(float tensor)": lambda lib: lib.LongTensor(lib.ones(1)),
}


def legacy(lib, name):
    t = LEGACY[name](lib)
    return describe(t), type(t) is lib.Tensor


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors(name):
    kind, result = outcome(legacy, ag, name)
    recorded = {
        "Tensor(2, 3)": ("ok", (([[0.0] * 3] * 2, "float32", False, True, True, 0), True)),
        "Tensor([2, 3])": ("ok", (([2.0, 3.0], "float32", False, True, True, 0), True)),
        "Tensor((2, 3))": ("ok", (([2.0, 3.0], "float32", False, True, True, 0), True)),
        "LongTensor([2.5, 3])": ("ok", (([2, 3], "int64", False, True, True, 0), True)),
        "Tensor(2.5)": ("TypeError", "new(): data must be a sequence (got float)"),
        "Tensor(-1)": ("RuntimeError", "Trying to create tensor with negative dimension -1: [-1]"),
    }
    assert name not in recorded or (kind, result) == recorded[name]
    torch = pytest.importorskip("torch")
    theirs = outcome(legacy, torch, name)
    if kind == "ok" and result[0][0] and np.all(np.asarray(result[0][0]) == 0):  # a size: PyTorch leaves the
        # values uninitialized; here they are zeros
        assert (theirs[0], theirs[1][0][1:], theirs[1][1]) == (kind, result[0][1:], result[1])
    else:
        assert (kind, result) == theirs


def legacy_types(lib):
    f32, f64, i64 = lib.ones(2), lib.ones(2, dtype=lib.float64), lib.arange(2)
    return [[isinstance(t, c) for t in (f32, f64, i64)] for c in (lib.FloatTensor, lib.DoubleTensor, lib.LongTensor)]


def test_isinstance_of_the_legacy_types_checks_the_dtype():
    assert legacy_types(ag) == [[True, False, False], [False, True, False], [False, False, True]]
    same_in_torch(legacy_types)


def legacy_tensor_shares(lib):
    t = lib.ones(2)
    alias = lib.Tensor(t)
    alias.add_(1)
    return alias is t, t.tolist()


def test_tensor_of_a_tensor_shares_its_values():
    assert legacy_tensor_shares(ag) == (False, [2.0, 2.0])
    same_in_torch(legacy_tensor_shares)


class TwoLayers:
    """A module built the same way in both libraries, with a tied weight and a buffer."""

    @staticmethod
    def build(lib, tied):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.first = lib.nn.Linear(2, 2, bias=False)
                self.second = lib.nn.Linear(2, 2)
                if tied:
                    self.tied = self.first  # the same weight under two names
                self.register_buffer("scale", lib.tensor(2.0))

            def forward(self, x, shift=0.0):
                if shift == "boom":
                    raise ValueError("boom")
                return self.second(self.first(x)) * self.scale + shift

        net = Net()
        with lib.no_grad():
            for i, p in enumerate(net.parameters()):
                p.copy_(lib.arange(float(p.numel())).reshape(p.shape) - i)
        return net


TIED = ("tied name", "untied", "strict")


def functional_call_of(lib, how):
    net = TwoLayers.build(lib, how in TIED)
    originals = [(name, p) for name, p in net.named_parameters()]
    w = lib.eye(2, requires_grad=True)
    b = lib.tensor([0.5, -0.5], requires_grad=True)
    x = lib.tensor([[1.0, 2.0]])
    call = lib.func.functional_call
    cases = {
        "params": lambda: call(net, {"first.weight": w, "second.bias": b}, (x,)),
        "single arg": lambda: call(net, {"second.bias": b}, x),
        "kwargs": lambda: call(net, {"second.bias": b}, (x,), {"shift": 1.0}),
        "buffer": lambda: call(net, {"scale": lib.tensor(-1.0)}, (x,)),
        "tied name": lambda: call(net, {"tied.weight": w}, (x,)),
        "untied": lambda: call(net, {"tied.weight": w}, (x,), tie_weights=False),
        "two dicts": lambda: call(net, ({"first.weight": w}, {"second.bias": b}), (x,)),
        "same key twice": lambda: call(net, ({"second.bias": b}, {"second.bias": b}), (x,)),
        "not a tensor": lambda: call(net, {"second.bias": [1.0, 2.0]}, (x,)),
        "strict": lambda: call(net, {"second.bias": b, "extra": b}, (x,), strict=True),
        "raises": lambda: call(net, {"first.weight": w}, (x,), {"shift": "boom"}),
    }
    try:
        out = cases[how]()
        out.sum().backward()
        grads = [None if t.grad is None else t.grad.tolist() for t in (w, b)]
        return out.tolist(), grads, [name for name, p in originals if p.grad is not None]
    finally:  # the module's own parameters and buffer are back, whatever happened
        restored = all(p is q for (_, p), (_, q) in zip(net.named_parameters(), originals))
        restored = restored and all(type(p) is lib.nn.Parameter for _, p in net.named_parameters())
        RESTORED[lib.__name__] = restored and net.scale.item() == 2.0


RESTORED = {}


FUNCTIONAL_CALLS = ["params", "single arg", "kwargs", "buffer", "tied name", "untied", "two dicts", "same key twice",
                    "not a tensor", "strict", "raises"]


@pytest.mark.parametrize("how", FUNCTIONAL_CALLS)
def test_functional_call(how):
    kind, result = outcome(functional_call_of, ag, how)
    recorded = {
        "params": ("ok", ([[-1.0, 9.0]], [[[0.0, 0.0], [4.0, 8.0]], [2.0, 2.0]], ["second.weight"])),
        "same key twice": ("ValueError", "['second.bias'] appeared in multiple dictionaries; behavior of functional "
                                         "call is ambiguous"),
        "not a tensor": ("TypeError", "[1.0, 2.0] is not an instance of torch.Tensor"),
        "strict": ("RuntimeError", "Error(s) in reparametrizing for Net:\n\tUnexpected key(s): 'extra'.\n\tMissing "
                                   "key(s): 'first.weight', 'scale', 'second.weight', 'tied.weight'."),
        "raises": ("ValueError", "boom"),
    }
    assert (kind, result) == recorded.get(how, ("ok", result)) and RESTORED.pop("autograd_lite") is True
    same_in_torch(functional_call_of, how)
    # with tie_weights, PyTorch 2.13 leaves a replacement behind when a submodule is registered twice (self.tied =
    # self.first); autograd_lite puts the module's own parameter back there too
    assert RESTORED.pop("torch") is (how != "tied name")
