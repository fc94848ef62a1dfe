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
