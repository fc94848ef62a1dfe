"""Ops with several outputs, as PyTorch records them: one node for all the outputs (`split`, `chunk`,
`unbind`, `var_mean`, `std_mean`), each output an edge of its own (`output_nr`); checked against recorded
expectations always, and against PyTorch when it is installed. (Their rules are checked with every other
op's in test_ops.py.)"""
import importlib

import numpy as np
import pytest

import autograd_lite as ag


def _libs():
    libs = [ag]
    try:
        libs.append(importlib.import_module("torch"))
    except ImportError:
        pass
    return libs


LIBS = pytest.mark.parametrize("lib", _libs(), ids=lambda lib: lib.__name__)

CASES = [  # expression, node name, number of outputs, outputs are views of x
    ("x.chunk(2)", "SplitBackward0", 2, True),
    ("x.chunk(3)", "SplitBackward0", 2, True),  # 4 rows in chunks of 2: two chunks, as PyTorch
    ("x.split(3)", "SplitBackward0", 2, True),
    ("x.split([1, 3])", "SplitWithSizesBackward0", 2, True),
    ("lib.chunk(x, 3, 1)", "SplitBackward0", 3, True),
    ("x.unbind(1)", "UnbindBackward0", 3, True),
    ("lib.var_mean(x, 1)", "VarMeanBackward0", 2, False),
    ("lib.std_mean(x)", "StdMeanBackward0", 2, False),
]


@LIBS
@pytest.mark.parametrize("expression,name,n,view", CASES, ids=[c[0] for c in CASES])
def test_one_node_serves_every_output(lib, expression, name, n, view):
    x = lib.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    outs = eval(expression)
    assert type(outs) is tuple and len(outs) == n
    assert [type(o.grad_fn).__name__ for o in outs] == [name] * n
    assert all(o.grad_fn is outs[0].grad_fn for o in outs)
    assert [o.output_nr for o in outs] == list(range(n))
    assert all((o._base is x) == view for o in outs)


@LIBS
def test_an_edge_names_the_output_it_leaves_from(lib):
    x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    first, second, third = x.unbind(1)
    y = third * first
    (a, nr_a), (b, nr_b) = y.grad_fn.next_functions
    assert a is b is first.grad_fn and (nr_a, nr_b) == (2, 0)


@LIBS
def test_outputs_without_a_gradient_give_zeros_to_their_part(lib):
    x = lib.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    top, bottom = x.split(2)
    (bottom * 2).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2 + [[2.0] * 3] * 2
    v, m = lib.var_mean(x, 0)
    (g,) = lib.autograd.grad(m.sum(), x)
    np.testing.assert_allclose(np.asarray(g.tolist()), 0.25)


@LIBS
def test_hooks_and_retain_grad_see_their_own_output(lib):
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = x.chunk(2)
    seen = []
    a.register_hook(lambda g: seen.append(("a", g.tolist())))
    b.register_hook(lambda g: g * 10)  # replaces b's gradient only
    b.retain_grad()
    (a * 1.0 + b * 3.0).sum().backward()
    assert seen == [("a", [1.0, 1.0])]
    assert b.grad.tolist() == [30.0, 30.0]  # retain_grad sees the gradient after the tensor's hooks
    assert x.grad.tolist() == [1.0, 1.0, 30.0, 30.0]


@LIBS
def test_gradient_with_respect_to_one_output(lib):
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = x.chunk(2)
    (ga, gb) = lib.autograd.grad((a * b).sum(), (a, b))
    assert ga.tolist() == [3.0, 4.0] and gb.tolist() == [1.0, 2.0]


ERRORS = [
    ("x.split(0)", RuntimeError, "split_size can only be 0 if dimension size is 0, but got dimension size of 4"),
    ("x.chunk(0)", RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
    ("x.split([1, 2])", RuntimeError, "split_with_sizes expects split_sizes to sum exactly to 4 (input tensor's size "
                                      "at dimension 0), but got split_sizes=[1, 2]"),
    ("x.split([1, -1, 4])", RuntimeError, "split_with_sizes expects split_sizes have only non-negative entries, but "
                                          "got split_sizes=[1, -1, 4]"),
    ("x.unbind(2)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("lib.var_mean(lib.tensor([1, 2]))", RuntimeError, "var_mean only support floating point and complex dtypes"),
]


@LIBS
@pytest.mark.parametrize("expression,exception,message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_pytorchs(lib, expression, exception, message):
    x = lib.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    with pytest.raises(exception) as info:
        eval(expression)
    assert str(info.value) == message


@LIBS
def test_in_place_on_one_output_keeps_its_edge(lib):
    x = lib.tensor([[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]], requires_grad=True)
    var, mean = lib.var_mean(x, 1)
    mean.mul_(3)  # MulBackward0 on top of output 1 (the mean), not output 0
    assert mean.grad_fn.next_functions[0][1] == 1 and mean.output_nr == 0
    mean.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad.tolist()), 1.0)  # 3 * (1/3) for every element


# -- outputs of split / chunk / unbind whose memory is written in place (PyTorch 2.13's behaviour, recorded) -------
MULTIPLE = (" This view is the output of a function that returns multiple views. Such functions do not allow the "
            "output views to be modified inplace. You should replace the inplace operation by an out-of-place one.")
INDIRECT = "Output {} of {} is a view and its base or another view of its base has been modified inplace." + MULTIPLE
DIRECT = "Output {} of {} is a view and is being modified inplace." + MULTIPLE


def _message(call):
    with pytest.raises(RuntimeError) as info:
        call()
    return str(info.value)


def _split_of_a_result(lib):
    y = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True) * 1
    return y, y.split(2)


WRITES = {  # each writes the memory of `a` (output 0 of y.split(2)) after it was made
    "the base under no_grad": lambda lib, y, a, b: _under_no_grad(lib, lambda: y.mul_(2)),
    "the base with grad on": lambda lib, y, a, b: y.mul_(2),
    "another view of the base": lambda lib, y, a, b: y[1:].mul_(2),
    "the output itself under no_grad": lambda lib, y, a, b: _under_no_grad(lib, lambda: a.mul_(2)),
}


def _under_no_grad(lib, write):
    with lib.no_grad():
        write()


@LIBS
@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_an_output_written_since_it_was_made_refuses_its_history(lib, write):
    y, (a, b) = _split_of_a_result(lib)
    WRITES[write](lib, y, a, b)
    assert _message(lambda: a.grad_fn) == INDIRECT.format(0, "Split")  # every output: they share the memory
    assert _message(lambda: b.is_leaf) == INDIRECT.format(1, "Split")
    assert _message(lambda: a * 2) == INDIRECT.format(0, "Split")  # an op that records reads it too
    assert _message(lambda: lib.autograd.grad(y.sum(), [b])) == INDIRECT.format(1, "Split")
    with lib.no_grad():
        assert (a * 2).tolist() == (a.detach() * 2).tolist()  # what records nothing may use it
    assert a.requires_grad and a.detach().grad_fn is None
    y.sum().backward()  # the base's own history is untouched


@LIBS
def test_a_backward_that_reads_a_saved_output_written_since_names_it(lib):
    y, (a, _) = _split_of_a_result(lib)
    z = a * a  # saves a
    with lib.no_grad():
        y.mul_(2)
    assert _message(lambda: z.sum().backward()) == INDIRECT.format(0, "Split")


DIRECT_CASES = [  # an in-place op with grad on, on an output or on a view of one: PyTorch names the view's node
    ("x.split(2)[0].mul_(2)", DIRECT.format(0, "Split")),
    ("x.split([1, 3])[1].mul_(2)", DIRECT.format(1, "SplitWithSizes")),
    ("x.chunk(2)[1].add_(1)", DIRECT.format(1, "Split")),
    ("x.view(2, 2).unbind(1)[1].zero_()", DIRECT.format(1, "Unbind")),
    ("x.split(2)[0][0:1].mul_(2)", DIRECT.format(0, "Slice")),
    ("x.view(2, 2).unbind()[0].unsqueeze(0).squeeze(0).mul_(2)", DIRECT.format(0, "Squeeze1")),
    ("x.view(2, 2).split(1)[1].t().mul_(2)", DIRECT.format(0, "T")),
    ("x.split(2)[1].__setitem__(0, 5.0)", DIRECT.format(0, "Select")),  # x[i] = v writes through the view x[i]
    ("x.split(2)[1].__setitem__(x.split(2)[1] > 0, 5.0)", DIRECT.format(1, "Split")),  # index_put_ on the output
    ("lib.zeros(4).split(2)[0].add_(x[:2])", "A view was created in no_grad mode and is being modified inplace with "
                                             "grad mode enabled." + MULTIPLE),  # made when nothing required grad
]


@LIBS
@pytest.mark.parametrize("expression,message", DIRECT_CASES, ids=[c[0] for c in DIRECT_CASES])
def test_an_in_place_op_on_an_output_is_refused(lib, expression, message):
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True) * 1
    assert _message(lambda: eval(expression, {"x": x, "lib": lib})) == message


@LIBS
def test_a_view_of_an_output_and_an_output_made_before_anything_required_grad_are_refused_too(lib):
    _, (a, b) = _split_of_a_result(lib)
    v = a[1:]
    with lib.no_grad():
        b.mul_(2)
    assert _message(lambda: v.grad_fn) == INDIRECT.format(0, "Slice")
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    z = lib.zeros(4)
    c, _ = z.split(2)
    assert c.grad_fn is None
    z.add_(x)  # now z requires grad: c, made where it did not, is refused as a view made in no_grad mode
    assert _message(lambda: c.grad_fn) == ("A view was created in no_grad mode and its base or another view of its base "
                                           "has been modified inplace with grad mode enabled." + MULTIPLE)


@LIBS
def test_outputs_are_free_to_change_where_nothing_requires_grad_or_they_are_not_views(lib):
    z = lib.zeros(4)
    c, _ = z.split(2)
    z.add_(1.0)
    c.mul_(3)
    assert c.grad_fn is None and z.tolist() == [3.0, 3.0, 1.0, 1.0]
    with lib.no_grad():  # made under no_grad: PyTorch's rule for views made there, not this one
        e, _ = (lib.ones(4, requires_grad=True) * 1).split(2)
    assert e.grad_fn is None
    x = lib.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    var, _ = lib.var_mean(x, 1)  # new tensors, not views
    var.mul_(2)
    assert type(var.grad_fn).__name__ == "MulBackward0"


def test_written_outputs_behave_as_in_pytorch():
    """The same scenarios in both libraries, compared with each other (skipped without PyTorch)."""
    torch = pytest.importorskip("torch")

    reads = (lambda y, a, b: a.grad_fn, lambda y, a, b: b.grad_fn, lambda y, a, b: a + 1,
             lambda y, a, b: b.retain_grad(), lambda y, a, b: b.register_hook(print), lambda y, a, b: y.mul_(2),
             lambda y, a, b: b.mul_(2))

    def scenarios(lib):
        seen = []
        for write in WRITES.values():
            y, (a, b) = _split_of_a_result(lib)
            write(lib, y, a, b)
            for read in reads:
                try:
                    seen.append(type(read(y, a, b)).__name__)
                except RuntimeError as e:
                    seen.append(str(e))
        return seen

    assert scenarios(ag) == scenarios(torch)
