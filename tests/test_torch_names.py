"""Names and calling conventions that PyTorch's tutorials use: keyword names of the top-level functions,
all / any, reductions of a 0-d tensor over dim 0 or -1. Expectations recorded from torch 2.13; compared with
torch side by side when it is installed."""
import numpy as np
import pytest

import autograd_lite as ag

# Each call uses PyTorch's keyword names for every argument (checked against torch 2.13).
KEYWORD_CALLS = {
    "add": lambda L, x, m: L.add(input=x, other=x, alpha=2), "sub": lambda L, x, m: L.sub(input=x, other=x, alpha=2),
    "mul": lambda L, x, m: L.mul(input=x, other=x), "div": lambda L, x, m: L.div(input=x, other=x),
    "matmul": lambda L, x, m: L.matmul(input=x, other=x), "mm": lambda L, x, m: L.mm(input=m, mat2=m),
    "dot": lambda L, x, m: L.dot(input=x, tensor=x), "outer": lambda L, x, m: L.outer(input=x, vec2=x),
    "pow": lambda L, x, m: L.pow(input=x, exponent=2), "maximum": lambda L, x, m: L.maximum(input=x, other=-x),
    "minimum": lambda L, x, m: L.minimum(input=x, other=-x),
    "sum": lambda L, x, m: L.sum(input=m, dim=0, keepdim=True, dtype=L.float64),
    "mean": lambda L, x, m: L.mean(input=m, dim=0, keepdim=True), "prod": lambda L, x, m: L.prod(input=m, dim=0),
    "max": lambda L, x, m: L.max(input=m, dim=0, keepdim=True)[0], "min": lambda L, x, m: L.min(input=m, dim=1)[1],
    "exp": lambda L, x, m: L.exp(input=x),
    "log": lambda L, x, m: L.log(input=x), "tanh": lambda L, x, m: L.tanh(input=x),
    "sigmoid": lambda L, x, m: L.sigmoid(input=x), "relu": lambda L, x, m: L.relu(input=x - 2),
    "abs": lambda L, x, m: L.abs(input=-x), "sqrt": lambda L, x, m: L.sqrt(input=x),
    "argmax": lambda L, x, m: L.argmax(input=m, dim=0, keepdim=False),
    "clamp": lambda L, x, m: L.clamp(input=x, min=1.5, max=2.5),
    "where": lambda L, x, m: L.where(condition=x > 2, input=x, other=-x),
    "transpose": lambda L, x, m: L.transpose(input=m, dim0=0, dim1=1),
    "reshape": lambda L, x, m: L.reshape(input=m, shape=(4,)),
    "std": lambda L, x, m: L.std(input=m, dim=0, keepdim=True), "var": lambda L, x, m: L.var(input=m, dim=1),
    "allclose": lambda L, x, m: L.tensor(L.allclose(input=x, other=x)),
    "equal": lambda L, x, m: L.tensor(L.equal(input=x, other=x)),
    "flatten": lambda L, x, m: L.flatten(input=m, start_dim=0, end_dim=-1),
    "permute": lambda L, x, m: L.permute(input=m, dims=(1, 0)),
    "logsumexp": lambda L, x, m: L.logsumexp(input=x, dim=0),
    "all": lambda L, x, m: L.all(input=m, dim=1, keepdim=True), "any": lambda L, x, m: L.any(input=x > 2, dim=0),
    "remainder": lambda L, x, m: L.remainder(input=x, other=2),
    "unsqueeze": lambda L, x, m: L.unsqueeze(input=x, dim=0),
    "narrow": lambda L, x, m: L.narrow(input=x, dim=0, start=1, length=2),
    "movedim": lambda L, x, m: L.movedim(input=m, source=0, destination=1),
    "chunk": lambda L, x, m: L.chunk(input=x, chunks=3, dim=0)[1],
    "split": lambda L, x, m: L.split(tensor=x, split_size_or_sections=1, dim=0)[2],
}
EXPECTED = {  # recorded from torch 2.13 with x = [1, 2, 3], m = [[1, 2], [3, 4]]
    "add": [3.0, 6.0, 9.0], "matmul": 14.0, "mm": [[7.0, 10.0], [15.0, 22.0]], "dot": 14.0, "sum": [[4.0, 6.0]],
    "max": [[3.0, 4.0]], "min": [0, 0], "clamp": [1.5, 2.0, 2.5], "where": [-1.0, -2.0, 3.0],
    "all": [[True], [True]], "any": True, "split": [3.0], "remainder": [1.0, 0.0, 1.0],
}


def _args(L):
    return L.tensor([1.0, 2.0, 3.0]), L.tensor([[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("name", sorted(KEYWORD_CALLS))
def test_top_level_functions_take_pytorchs_keyword_names(name):
    result = KEYWORD_CALLS[name](ag, *_args(ag))
    assert isinstance(result, ag.Tensor)
    if name in EXPECTED:
        assert result.tolist() == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(KEYWORD_CALLS))
def test_keyword_calls_give_what_torch_gives(name):
    torch = pytest.importorskip("torch")
    mine, theirs = KEYWORD_CALLS[name](ag, *_args(ag)), KEYWORD_CALLS[name](torch, *_args(torch))
    assert mine.shape == tuple(theirs.shape) and str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)


def test_all_and_any_as_pytorch():
    m = ag.tensor([[1.0, 0.0], [2.0, 3.0]])
    assert ag.all(m).item() is False and ag.any(m).item() is True and ag.all(m).dtype == ag.bool
    assert m.all(1).tolist() == [False, True] and m.any(0, keepdim=True).tolist() == [[True, True]]
    assert m.all((0, 1)).item() is False and m.all(dim=[]).tolist() == [[True, False], [True, True]]
    assert ag.all(m, keepdim=True).shape == (1, 1) and m.any(-1).tolist() == [True, True]
    assert ag.zeros(0).all().item() is True and ag.zeros(0).any().item() is False
    u = ag.tensor([[1, 0], [2, 3]], dtype=ag.uint8)
    assert u.all().dtype == ag.uint8 and u.any(1).tolist() == [1, 1]
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        m.all(2)


@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "logsumexp", "all", "any"])
@pytest.mark.parametrize("dim", [0, -1, (0,)])
def test_a_0d_tensor_reduces_over_dim_0_or_minus_1_to_itself(reduce, dim):
    if reduce == "prod" and isinstance(dim, tuple):
        return  # prod takes one dim only, in PyTorch too
    x = ag.tensor(3.0, requires_grad=True)
    y = getattr(x, reduce)(dim)
    assert y.shape == () and y.item() == (True if reduce in ("all", "any") else 3.0)
    if reduce not in ("all", "any"):
        (g,) = ag.autograd.grad(y, x)
        assert g.item() == 1.0 and y.grad_fn.name().endswith("Backward1" if reduce != "logsumexp" else "Backward0")
        assert getattr(x, reduce)(dim, keepdim=True).shape == ()
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        getattr(x, reduce)(1)
