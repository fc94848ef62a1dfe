"""autograd_lite.autograd.functional: PyTorch's jacobian / hessian / vjp / jvp / hvp / vhp and their structures."""
import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp
from autograd_lite.func import jacrev

from .test_func import FUNCTIONS, numeric_jacobian, t64


def f(x):
    return ag.stack([x[0] * x[1], x[2] ** 2])


X = ag.tensor([1.0, 2.0, 3.0])


@pytest.mark.parametrize("name,fn,shape", FUNCTIONS, ids=[fn[0] for fn in FUNCTIONS])
def test_jacobian_in_both_strategies_matches_finite_differences(name, fn, shape):
    x = t64(np.random.default_rng(7).standard_normal(shape))
    expected = numeric_jacobian(fn, x)
    np.testing.assert_allclose(jacobian(fn, x).numpy(), expected, rtol=1e-6, atol=1e-8)
    forward = jacobian(fn, x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(forward.numpy(), jacrev(fn)(x).numpy(), rtol=1e-12, atol=1e-12)


def test_jacobian_structures_follow_inputs_and_outputs():
    a, b = ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])
    J = jacobian(f, X)
    assert J.tolist() == [[2.0, 1.0, 0.0], [0.0, 0.0, 6.0]] and not J.requires_grad
    ja, jb = jacobian(lambda a, b: a * b, (a, b))
    assert ja.tolist() == [[3.0, 0.0], [0.0, 4.0]] and jb.tolist() == [[1.0, 0.0], [0.0, 2.0]]
    nested = jacobian(lambda a, b: (a * b, a + b), (a, b))
    assert type(nested) is tuple and type(nested[1]) is tuple and nested[1][1].tolist() == [[1.0, 0.0], [0.0, 1.0]]
    two, one = jacobian(lambda a: (a * 2, a.sum()), a)
    assert two.tolist() == [[2.0, 0.0], [0.0, 2.0]] and one.tolist() == [1.0, 1.0]
    assert jacobian(lambda a: a.sum(), a).tolist() == [1.0, 1.0]
    assert jacobian(lambda a: a @ a.T, ag.ones(2, 3)).shape == (2, 2, 2, 3)
    # as PyTorch, the forward-mode path returns lists for tuple outputs
    forward = jacobian(lambda a, b: (a * b, a + b), (a, b), vectorize=True, strategy="forward-mode")
    assert type(forward) is list and type(forward[0]) is list
    assert forward[0][1].tolist() == [[1.0, 0.0], [0.0, 2.0]]


def test_jacobian_with_create_graph_can_be_differentiated():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    J = jacobian(lambda a: a**3, x, create_graph=True)  # diag(3x²)
    J.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_products():
    out, v = vjp(f, X, ag.ones(2))
    assert out.tolist() == [2.0, 9.0] and v.tolist() == [2.0, 1.0, 6.0]
    out, u = jvp(f, X, ag.ones(3))
    assert out.tolist() == [2.0, 9.0] and u.tolist() == [3.0, 6.0]
    g = lambda a: (a**3).sum() + a[0] * a[1]  # H = diag(6a) + [[0,1,0],[1,0,0],[0,0,0]]
    for product in (hvp, vhp):
        value, hv = product(g, X, ag.tensor([1.0, 0.0, 0.0]))
        assert value.item() == 38.0 and hv.tolist() == [6.0, 1.0, 0.0]
    _ones, grads = vjp(lambda a, b: 2 * a + 3 * b, (ag.rand(2), ag.rand(2)), ag.ones(2))
    assert [t.tolist() for t in grads] == [[2.0, 2.0], [3.0, 3.0]]
    assert vjp(lambda a: a * 5, ag.tensor([2.0]))[1].tolist() == [5.0]  # v may be omitted for one element


def test_hessian_analytic_in_both_outer_strategies():
    a = np.random.default_rng(8).standard_normal((3, 3))
    quad = lambda x: x @ (t64(a) @ x)
    x = t64([0.5, -1.0, 2.0])
    np.testing.assert_allclose(hessian(quad, x).numpy(), a + a.T, rtol=1e-12)
    cubic = lambda x: (x**3).sum()
    assert hessian(cubic, ag.tensor([1.0, 2.0])).tolist() == [[6.0, 0.0], [0.0, 12.0]]
    forward = hessian(cubic, ag.tensor([1.0, 2.0]), vectorize=True, outer_jacobian_strategy="forward-mode")
    assert forward.tolist() == [[6.0, 0.0], [0.0, 12.0]]
    blocks = hessian(lambda a, b: (a * a * b).sum(), (ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])))
    assert blocks[0][0].tolist() == [[6.0, 0.0], [0.0, 8.0]] and blocks[0][1].tolist() == [[2.0, 0.0], [0.0, 4.0]]
    assert blocks[1][1].tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_unused_input_gives_zeros_or_a_strict_error():
    a, b = ag.tensor([1.0, 2.0]), ag.tensor([3.0])
    _ja, jb = jacobian(lambda a, b: a * 2, (a, b))
    assert jb.tolist() == [[0.0], [0.0]]
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1. This "
                                           "is not allowed in strict mode."):
        jacobian(lambda a, b: a * 2, (a, b), strict=True)


@pytest.mark.parametrize("call,error,message", [
    (lambda: jacobian(f, [X]), TypeError, ("The inputs given to jacobian must be either a Tensor or a tuple of Tensors "
     "but the given inputs has type <class 'list'>.")),
    (lambda: vjp(f, X), RuntimeError, ("The vector v can only be None if the user-provided function returns a single "
     "Tensor with a single element.")),
    (lambda: vjp(f, X, ag.ones(3)), RuntimeError, ("v has invalid size: should be autograd_lite.Size([2]) but got "
     "autograd_lite.Size([3]).")),
    (lambda: hessian(f, X), RuntimeError, ("The Tensor returned by the function given to hessian should contain a single "
     "element")),
    (lambda: jacobian(f, X, strategy="forward-mode"), NotImplementedError, ("Computing Jacobian using forward-AD or "
     "forward-over-reverse Hessian is only implemented for `vectorize=True`.")),
])
def test_errors_use_pytorch_wording(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_vectorized_jacobian_and_hessian_equal_the_pass_by_pass_ones(strategy):
    """vectorize=True batches the passes with vmap (one pass for all rows or columns): the same numbers."""
    rng = np.random.default_rng(0)
    a, b = ag.tensor(rng.standard_normal((3, 4))), ag.tensor(rng.standard_normal(4))

    def fn(x, y):
        return ag.tanh(a @ (x * y)), (x * y).sum()

    def scalar(x, y):
        return (ag.sin(x) * y).sum() + (x * x * y).sum()

    one_by_one = jacobian(fn, (b, b + 1))
    batched = jacobian(fn, (b, b + 1), vectorize=True, strategy=strategy)
    for rows, rows_b in zip(one_by_one, batched):
        for block, block_b in zip(rows, rows_b):
            np.testing.assert_allclose(block_b.numpy(), block.numpy(), rtol=1e-12, atol=1e-12)
    h, h_b = hessian(scalar, (b, b + 1)), hessian(scalar, (b, b + 1), vectorize=True, outer_jacobian_strategy=strategy)
    for rows, rows_b in zip(h, h_b):
        for block, block_b in zip(rows, rows_b):
            np.testing.assert_allclose(block_b.numpy(), block.numpy(), rtol=1e-12, atol=1e-12)
