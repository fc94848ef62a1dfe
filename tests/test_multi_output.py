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
