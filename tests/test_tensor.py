"""The Tensor (tensor.py): factories and dtypes, attributes and conversions, memory sharing, printing
exactly as PyTorch prints, and PyTorch's type promotion.

The expected strings in REPRS were produced by running each expression in PyTorch 2.13 and replacing
`torch.` with `autograd_lite.` (this package's dtypes are named `autograd_lite.float64`, ...).
"""
import numpy as np
import pytest

import autograd_lite as ag

# expression -> PyTorch's repr (and str) of its value
REPRS = [
    ('torch.tensor(3.)',
     'tensor(3.)'),
    ('torch.tensor([1., 2.])',
     'tensor([1., 2.])'),
    ('torch.ones(5)',
     'tensor([1., 1., 1., 1., 1.])'),
    ('torch.zeros(3, dtype=torch.float64)',
     'tensor([0., 0., 0.], dtype=autograd_lite.float64)'),
    ('torch.tensor([1, 2, 3])',
     'tensor([1, 2, 3])'),
    ('torch.tensor([True, False])',
     'tensor([ True, False])'),
    ('torch.tensor([1e-5, 1.0])',
     'tensor([1.0000e-05, 1.0000e+00])'),
    ('torch.tensor([1e10, 1.])',
     'tensor([1.0000e+10, 1.0000e+00])'),
    ('torch.tensor([1.5, 2.25, 100000.])',
     'tensor([1.5000e+00, 2.2500e+00, 1.0000e+05])'),
    ('torch.tensor([[1, 2], [3, 4]]) * 1.0',
     'tensor([[1., 2.],\n'
     '        [3., 4.]])'),
    ('torch.zeros(0)',
     'tensor([])'),
    ('torch.zeros(0, 3)',
     'tensor([], size=(0, 3))'),
    ("torch.tensor(float('nan'))",
     'tensor(nan)'),
    ("torch.tensor([float('inf'), 1.5])",
     'tensor([   inf, 1.5000])'),
    ('torch.tensor([-1., 2.])',
     'tensor([-1.,  2.])'),
    ('torch.tensor([1, 2, 3]) * 1.5',
     'tensor([1.5000, 3.0000, 4.5000])'),
    ('torch.tensor(7)',
     'tensor(7)'),
    ('torch.eye(5)',
     'tensor([[1., 0., 0., 0., 0.],\n'
     '        [0., 1., 0., 0., 0.],\n'
     '        [0., 0., 1., 0., 0.],\n'
     '        [0., 0., 0., 1., 0.],\n'
     '        [0., 0., 0., 0., 1.]])'),
    ('torch.ones(3, 4, 5)',
     'tensor([[[1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.]],\n'
     '\n'
     '        [[1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.]],\n'
     '\n'
     '        [[1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.],\n'
     '         [1., 1., 1., 1., 1.]]])'),
    ('torch.nn.functional.binary_cross_entropy_with_logits(torch.zeros(1, requires_grad=True).sum(), torch.tensor(0.))',
     'tensor(0.6931, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)'),
    ('torch.tensor([[1.5410, -0.2934, -2.1788], [0.5684, -1.0845, -1.3986]], requires_grad=True)',
     'tensor([[ 1.5410, -0.2934, -2.1788],\n'
     '        [ 0.5684, -1.0845, -1.3986]], requires_grad=True)'),
    # PyTorch fits this on one line with `torch.float64`; the longer `autograd_lite.float64` pushes
    # `requires_grad=True` past 80 columns, and PyTorch's own wrapping rule moves it to the next line.
    ('torch.tensor([0.4033, 0.8380, -0.7193], dtype=torch.float64, requires_grad=True)',
     'tensor([ 0.4033,  0.8380, -0.7193], dtype=autograd_lite.float64,\n'
     '       requires_grad=True)'),
    ('torch.tensor([0.4033, 0.8380, -0.7193], dtype=torch.float64, requires_grad=True) * 2',
     'tensor([ 0.8066,  1.6760, -1.4386], dtype=autograd_lite.float64,\n'
     '       grad_fn=<MulBackward0>)'),
    ('torch.tensor([0.4033, 0.8380, -0.7193], dtype=torch.float64, requires_grad=True).sum()',
     'tensor(0.5220, dtype=autograd_lite.float64, grad_fn=<SumBackward0>)'),
    ('torch.tensor(0.6931, requires_grad=True)',
     'tensor(0.6931, requires_grad=True)'),
    ('torch.tensor(2., requires_grad=True) * 3',
     'tensor(6., grad_fn=<MulBackward0>)'),
    ('torch.ones(2, dtype=torch.float16, requires_grad=True)',
     'tensor([1., 1.], dtype=autograd_lite.float16, requires_grad=True)'),
    ('torch.ones(2, dtype=torch.float16, requires_grad=True) * 2',
     'tensor([2., 2.], dtype=autograd_lite.float16, grad_fn=<MulBackward0>)'),
    ('torch.tensor([0.4033, 0.8380, -0.7193], dtype=torch.float64).detach()',
     'tensor([ 0.4033,  0.8380, -0.7193], dtype=autograd_lite.float64)'),
    ('torch.tensor([0.4033, 0.8380, -0.7193], dtype=torch.float64).max(0)[1]',
     'tensor(1)'),
    ('torch.zeros(0, requires_grad=True)',
     'tensor([], requires_grad=True)'),
    ('torch.zeros(0, requires_grad=True) * 2',
     'tensor([], grad_fn=<MulBackward0>)'),
    ('torch.zeros(0, dtype=torch.float64)',
     'tensor([], dtype=autograd_lite.float64)'),
    ('torch.zeros(0, dtype=torch.int64)',
     'tensor([], dtype=autograd_lite.int64)'),
    ('torch.zeros(2, 0, dtype=torch.float64)',
     'tensor([], size=(2, 0), dtype=autograd_lite.float64)'),
    ('torch.ones(2, 2, dtype=torch.float64, requires_grad=True)',
     'tensor([[1., 1.],\n'
     '        [1., 1.]], dtype=autograd_lite.float64, requires_grad=True)'),
    ('torch.tensor([1., 2.5])',
     'tensor([1.0000, 2.5000])'),
    ('torch.tensor([0.1, 0.2])',
     'tensor([0.1000, 0.2000])'),
    ('torch.tensor([1/3])',
     'tensor([0.3333])'),
    ('torch.tensor([100., 2.5])',
     'tensor([100.0000,   2.5000])'),
    ('torch.tensor([1000., 2.5])',
     'tensor([1000.0000,    2.5000])'),
    ('torch.tensor([1e3, 1.])',
     'tensor([1000.,    1.])'),
    ('torch.tensor([1234.5678, 1.])',
     'tensor([1.2346e+03, 1.0000e+00])'),
    ('torch.tensor([1e4, 1.])',
     'tensor([1.0000e+04, 1.0000e+00])'),
    ('torch.tensor([12345.6, 1.])',
     'tensor([1.2346e+04, 1.0000e+00])'),
    ('torch.tensor([99999., 1.5])',
     'tensor([9.9999e+04, 1.5000e+00])'),
    ('torch.tensor([1e5, 1.5])',
     'tensor([1.0000e+05, 1.5000e+00])'),
    ('torch.tensor([1e5, 1.])',
     'tensor([1.0000e+05, 1.0000e+00])'),
    ('torch.tensor([1e7, 1.])',
     'tensor([1.0000e+07, 1.0000e+00])'),
    ('torch.tensor([1e8, 1.])',
     'tensor([1.0000e+08, 1.0000e+00])'),
    ('torch.tensor([1e9, 1.])',
     'tensor([1.0000e+09, 1.0000e+00])'),
    ('torch.tensor([1e8, 2.5])',
     'tensor([1.0000e+08, 2.5000e+00])'),
    ('torch.tensor([1e-3, 1.])',
     'tensor([0.0010, 1.0000])'),
    ('torch.tensor([1e-4, 1.])',
     'tensor([1.0000e-04, 1.0000e+00])'),
    ('torch.tensor([1.5e-4, 1.])',
     'tensor([1.5000e-04, 1.0000e+00])'),
    ('torch.tensor([1e-4, 1e-3])',
     'tensor([1.0000e-04, 1.0000e-03])'),
    ('torch.tensor([0.0001])',
     'tensor([1.0000e-04])'),
    ('torch.tensor([0.00012])',
     'tensor([0.0001])'),
    ('torch.tensor([0.001])',
     'tensor([0.0010])'),
    ('torch.tensor([1e-5])',
     'tensor([1.0000e-05])'),
    ('torch.tensor([1e-10])',
     'tensor([1.0000e-10])'),
    ('torch.tensor([0., 0.])',
     'tensor([0., 0.])'),
    ('torch.tensor([-0., 0.])',
     'tensor([-0., 0.])'),
    ('torch.tensor([-0.5, 0.5])',
     'tensor([-0.5000,  0.5000])'),
    ('torch.tensor([123456789.])',
     'tensor([1.2346e+08])'),
    ('torch.tensor([1e-5, 0.])',
     'tensor([1.0000e-05, 0.0000e+00])'),
    ('torch.tensor([5e-5, 1.0])',
     'tensor([5.0000e-05, 1.0000e+00])'),
    ('torch.tensor([0.12345678])',
     'tensor([0.1235])'),
    ('torch.tensor([-1e-5, 1.])',
     'tensor([-1.0000e-05,  1.0000e+00])'),
    ("torch.tensor([float('nan'), 1.])",
     'tensor([nan, 1.])'),
    ("torch.tensor([float('nan'), 1.5])",
     'tensor([   nan, 1.5000])'),
    ("torch.tensor([float('inf'), float('-inf'), 0.])",
     'tensor([inf, -inf, 0.])'),
    ("torch.tensor([float('nan'), 1e-5])",
     'tensor([       nan, 1.0000e-05])'),
    ("torch.tensor([float('inf'), 1e10])",
     'tensor([       inf, 1.0000e+10])'),
    ('torch.tensor([1e20, 1.])',
     'tensor([1.0000e+20, 1.0000e+00])'),
    ('torch.tensor([3.0e38])',
     'tensor([3.0000e+38])'),
    ('torch.tensor([1e-38])',
     'tensor([1.0000e-38])'),
    ('torch.tensor([1e-45])',
     'tensor([1.4013e-45])'),
    ('torch.tensor(0.5)',
     'tensor(0.5000)'),
    ('torch.tensor(1/3)',
     'tensor(0.3333)'),
    ('torch.tensor(1e-5)',
     'tensor(1.0000e-05)'),
    ('torch.tensor(1e10)',
     'tensor(1.0000e+10)'),
    ('torch.tensor(123456.7)',
     'tensor(123456.7031)'),
    ('torch.tensor(-0.0)',
     'tensor(-0.)'),
    ("torch.tensor(float('inf'))",
     'tensor(inf)'),
    ('torch.tensor(100000.)',
     'tensor(100000.)'),
    ('torch.tensor(99999.)',
     'tensor(99999.)'),
    ('torch.tensor(-7)',
     'tensor(-7)'),
    ('torch.tensor(True)',
     'tensor(True)'),
    ('torch.tensor(3., dtype=torch.float64)',
     'tensor(3., dtype=autograd_lite.float64)'),
    ('torch.tensor(3, dtype=torch.int32)',
     'tensor(3, dtype=autograd_lite.int32)'),
    ('torch.tensor([1., 2.]).sum()',
     'tensor(3.)'),
    ('torch.tensor([1., 2.], dtype=torch.float64)',
     'tensor([1., 2.], dtype=autograd_lite.float64)'),
    ('torch.tensor([0.1, 0.2], dtype=torch.float64)',
     'tensor([0.1000, 0.2000], dtype=autograd_lite.float64)'),
    ('torch.tensor([1e-5, 1.], dtype=torch.float64)',
     'tensor([1.0000e-05, 1.0000e+00], dtype=autograd_lite.float64)'),
    ('torch.tensor([1.5, 2.], dtype=torch.float16)',
     'tensor([1.5000, 2.0000], dtype=autograd_lite.float16)'),
    ('torch.tensor([1, 2], dtype=torch.int32)',
     'tensor([1, 2], dtype=autograd_lite.int32)'),
    ('torch.tensor([1, 2], dtype=torch.int16)',
     'tensor([1, 2], dtype=autograd_lite.int16)'),
    ('torch.tensor([1, 2], dtype=torch.int8)',
     'tensor([1, 2], dtype=autograd_lite.int8)'),
    ('torch.tensor([1, 2], dtype=torch.uint8)',
     'tensor([1, 2], dtype=autograd_lite.uint8)'),
    ('torch.tensor([-1, 10, 1000000])',
     'tensor([     -1,      10, 1000000])'),
    ('torch.tensor([2**40, 1])',
     'tensor([1099511627776,             1])'),
    ('torch.tensor([[True, False], [False, True]])',
     'tensor([[ True, False],\n'
     '        [False,  True]])'),
    ('torch.arange(5)',
     'tensor([0, 1, 2, 3, 4])'),
    ('torch.arange(5.)',
     'tensor([0., 1., 2., 3., 4.])'),
    ('torch.arange(0, 1, 0.25)',
     'tensor([0.0000, 0.2500, 0.5000, 0.7500])'),
    ('torch.linspace(0, 1, 5)',
     'tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])'),
    ('torch.tensor(np.array([1., 2.]))',
     'tensor([1., 2.], dtype=autograd_lite.float64)'),
    ('torch.from_numpy(np.arange(3))',
     'tensor([0, 1, 2])'),
    ('torch.from_numpy(np.ones(2, dtype=np.float32))',
     'tensor([1., 1.])'),
    ('torch.arange(2000.)',
     'tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n'
     '        1.9990e+03])'),
    ('torch.arange(1001.)',
     'tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.])'),
    ('torch.arange(2000)',
     'tensor([   0,    1,    2,  ..., 1997, 1998, 1999])'),
    ('torch.arange(2000.).reshape(40, 50)',
     'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n'
     '         4.9000e+01],\n'
     '        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n'
     '         9.9000e+01],\n'
     '        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n'
     '         1.4900e+02],\n'
     '        ...,\n'
     '        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n'
     '         1.8990e+03],\n'
     '        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n'
     '         1.9490e+03],\n'
     '        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n'
     '         1.9990e+03]])'),
    ('torch.arange(20.) * 1.1',
     'tensor([ 0.0000,  1.1000,  2.2000,  3.3000,  4.4000,  5.5000,  6.6000,  7.7000,\n'
     '         8.8000,  9.9000, 11.0000, 12.1000, 13.2000, 14.3000, 15.4000, 16.5000,\n'
     '        17.6000, 18.7000, 19.8000, 20.9000])'),
    ('torch.arange(30)',
     'tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n'
     '        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])'),
    ('torch.ones(2, 2, 2)',
     'tensor([[[1., 1.],\n'
     '         [1., 1.]],\n'
     '\n'
     '        [[1., 1.],\n'
     '         [1., 1.]]])'),
    ('torch.arange(24.).reshape(2, 3, 4)',
     'tensor([[[ 0.,  1.,  2.,  3.],\n'
     '         [ 4.,  5.,  6.,  7.],\n'
     '         [ 8.,  9., 10., 11.]],\n'
     '\n'
     '        [[12., 13., 14., 15.],\n'
     '         [16., 17., 18., 19.],\n'
     '         [20., 21., 22., 23.]]])'),
    ('torch.ones(1, 1, 1, 2)',
     'tensor([[[[1., 1.]]]])'),
    ('torch.zeros(2, 0, 3)',
     'tensor([], size=(2, 0, 3))'),
    ('torch.tensor([[1., -2.], [30., 4.5]])',
     'tensor([[ 1.0000, -2.0000],\n'
     '        [30.0000,  4.5000]])'),
    ('torch.tensor([[1e-5, 1.], [2., 3.]])',
     'tensor([[1.0000e-05, 1.0000e+00],\n'
     '        [2.0000e+00, 3.0000e+00]])'),
    ('torch.tensor([[1, -20], [300, 4]])',
     'tensor([[  1, -20],\n'
     '        [300,   4]])'),
    ('[torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)[0], torch.tensor(1)]',
     '[tensor([1., 2., 3.], grad_fn=<SelectBackward0>), tensor(1)]'),
    ('(torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True).sum(), torch.tensor([[1., 2., 3.], [4., 5., 6.]]).max(1)[1])',
     '(tensor(21., grad_fn=<SumBackward0>), tensor([2, 2]))'),
    ('{"a": torch.ones(2)}',
     "{'a': tensor([1., 1.])}"),
    ('torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True).t()',
     'tensor([[1., 4.],\n'
     '        [2., 5.],\n'
     '        [3., 6.]], grad_fn=<TBackward0>)'),
    ('torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)[:, 1]',
     'tensor([2., 5.], grad_fn=<SelectBackward0>)'),
    ('torch.ones(2).to("cpu")',
     'tensor([1., 1.])'),
    ('torch.tensor([[1., 3., 3.], [2., 2., 2.]]).max(1)',
     'autograd_lite.return_types.max(\n'
     'values=tensor([3., 2.]),\n'
     'indices=tensor([1, 0]))'),
    ('torch.arange(12.).reshape(3, 4) * 1.5 - 4',
     'tensor([[-4.0000, -2.5000, -1.0000,  0.5000],\n'
     '        [ 2.0000,  3.5000,  5.0000,  6.5000],\n'
     '        [ 8.0000,  9.5000, 11.0000, 12.5000]])'),
    ('torch.arange(6, dtype=torch.float64).reshape(2, 3) / 3',
     'tensor([[0.0000, 0.3333, 0.6667],\n'
     '        [1.0000, 1.3333, 1.6667]], dtype=autograd_lite.float64)'),
    ('torch.tensor([1e-3, 2e-3], requires_grad=True) * 1',
     'tensor([0.0010, 0.0020], grad_fn=<MulBackward0>)'),
    ('torch.tensor([[0.5, -1.25, 3.0]], dtype=torch.float64, requires_grad=True).exp()',
     'tensor([[ 1.6487,  0.2865, 20.0855]], dtype=autograd_lite.float64,\n'
     '       grad_fn=<ExpBackward0>)'),
]


@pytest.mark.parametrize("expression,expected", REPRS, ids=[e for e, _ in REPRS])
def test_repr_and_str_are_pytorchs(expression, expected):
    value = eval(expression, {"torch": ag, "np": np})  # (our own table)
    assert repr(value) == expected
    if isinstance(value, ag.Tensor):
        assert str(value) == repr(value)


def test_format_of_0d_tensors_gives_the_python_number():
    assert (f"{ag.tensor(1.5)}", f"{ag.tensor([1.5, 2.])}", str(ag.tensor(1.5))) == (
        "1.5", "tensor([1.5000, 2.0000])", "tensor(1.5000)")
    loss = (ag.tensor([0.5, 0.25], requires_grad=True) * 2).sum()
    assert (f"loss={loss}", f"{loss!s}", "%s" % loss, "{}".format(loss), f"{loss.item()}") == (  # noqa: UP031, UP032
        "loss=1.5", "tensor(1.5000, grad_fn=<SumBackward0>)", "tensor(1.5000, grad_fn=<SumBackward0>)", "1.5", "1.5")
    assert (f"{ag.tensor(1 / 3)}", f"{ag.tensor(7)}", f"{ag.tensor(True)}", f"{ag.tensor(1 / 3, dtype=ag.float64)}") == (
        "0.3333333432674408", "7", "True", "0.3333333333333333")
    assert f"{ag.tensor(1.5):.2f}" == "1.50" and format(ag.tensor(1.5), ".3f") == "1.500"
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(ag.tensor([1.5, 2.0]), ".2f")


def test_set_printoptions_sci_mode_and_precision_as_pytorch():
    try:
        ag.set_printoptions(sci_mode=False)
        assert repr(ag.tensor([1e-5, 1.0])) == "tensor([0.0000, 1.0000])"
        assert repr(ag.tensor([1e9, 1.0])) == "tensor([1000000000.,          1.])"
        ag.set_printoptions(sci_mode=True)
        assert repr(ag.tensor([1.0, 2.0])) == "tensor([1.0000e+00, 2.0000e+00])"
        ag.set_printoptions(precision=2)  # leaving sci_mode out sets it back to automatic, as in PyTorch
        assert repr(ag.tensor([1.5, 2.0])) == "tensor([1.50, 2.00])"
    finally:
        ag.set_printoptions(profile="default")
    assert repr(ag.tensor([1e-5, 1.0])) == "tensor([1.0000e-05, 1.0000e+00])"


def test_grad_fn_and_misc_reprs():
    x = ag.ones(2, requires_grad=True)
    assert repr((x * 2).grad_fn).startswith("<MulBackward0 object at 0x")
    assert repr(ag.randn(2, 3).grad_fn) == "None"
    assert repr(ag.Size([2, 3])) == str(ag.Size([2, 3])) == "autograd_lite.Size([2, 3])"
    assert (repr(ag.float32), repr(ag.float64), repr(ag.int64), repr(ag.bool)) == (
        "autograd_lite.float32", "autograd_lite.float64", "autograd_lite.int64", "autograd_lite.bool")
    assert [ag.tensor([1.0]).type(), ag.tensor([1], dtype=ag.float64).type(), ag.tensor([1]).type(),
            ag.tensor([True]).type()] == ["autograd_lite.FloatTensor", "autograd_lite.DoubleTensor",
                                         "autograd_lite.LongTensor", "autograd_lite.BoolTensor"]


# --------------------------------------------------------------------------------------------------
# factories and dtypes
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,dtype", [
    (lambda: ag.tensor(1.5), ag.float32),
    (lambda: ag.tensor([1, 2.5]), ag.float32),
    (lambda: ag.tensor(1), ag.int64),
    (lambda: ag.tensor([1, 2]), ag.int64),
    (lambda: ag.tensor([True, False]), ag.bool),
    (lambda: ag.tensor(np.float64(1.5)), ag.float64),
    (lambda: ag.tensor(np.float32(1.5)), ag.float32),
    (lambda: ag.tensor(np.array([1.0, 2.0])), ag.float64),
    (lambda: ag.as_tensor(np.array([1.0, 2.0])), ag.float64),
    (lambda: ag.tensor([1, 2], dtype=ag.float64), ag.float64),
    (lambda: ag.ones(2), ag.float32),
    (lambda: ag.zeros(2, 3), ag.float32),
    (lambda: ag.full((2,), 1), ag.int64),
    (lambda: ag.full((2,), 1.0), ag.float32),
    (lambda: ag.full((2,), True), ag.bool),
    (lambda: ag.eye(2), ag.float32),
    (lambda: ag.arange(3), ag.int64),
    (lambda: ag.arange(3.0), ag.float32),
    (lambda: ag.arange(0, 1, 0.5), ag.float32),
    (lambda: ag.linspace(0, 1, 3), ag.float32),
    (lambda: ag.randn(2), ag.float32),
    (lambda: ag.rand(2), ag.float32),
    (lambda: ag.randint(0, 3, (2,)), ag.int64),
    (lambda: ag.ones_like(ag.tensor([1, 2])), ag.int64),
    (lambda: ag.zeros_like(ag.ones(2, dtype=ag.int64), dtype=ag.float32), ag.float32),
    (lambda: ag.from_numpy(np.arange(3)), ag.int64),
    # Python types as dtypes mean what they mean in PyTorch: float is float64 (not the default dtype)
    (lambda: ag.zeros(2, dtype=float), ag.float64),
    (lambda: ag.tensor([1.5], dtype=float), ag.float64),
    (lambda: ag.ones(2).to(float), ag.float64),
    (lambda: ag.tensor([1.5], dtype=int), ag.int64),
    (lambda: ag.tensor([0, 1], dtype=bool), ag.bool),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_factory_dtypes(make, dtype):
    assert make().dtype is dtype


def test_factories_values_and_shapes():
    assert ag.zeros(2, 3).shape == (2, 3) and ag.zeros((2, 3)).shape == (2, 3)
    assert ag.ones(2).tolist() == [1.0, 1.0]
    assert ag.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert ag.eye(3).tolist() == np.eye(3).tolist()
    assert ag.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert ag.zeros_like(ag.ones(2, 2)).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert ag.ones_like(ag.zeros(3)).tolist() == [1.0, 1.0, 1.0]
    w = ag.zeros(3, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.grad is None and w.grad_fn is None


def test_manual_seed_makes_random_factories_repeatable():
    ag.manual_seed(0)
    a = ag.randn(2, 3)
    ag.manual_seed(0)
    b = ag.randn(2, 3)
    assert a.tolist() == b.tolist()
    assert ag.rand(100).numpy().min() >= 0 and ag.rand(100).numpy().max() < 1


def test_tensor_copies_its_data_and_from_numpy_shares_it():
    arr = np.array([1.0, 2.0])
    t = ag.tensor(arr)
    arr[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    shared = ag.from_numpy(arr)
    arr[1] = -1.0
    assert shared.tolist() == [100.0, -1.0]
    assert ag.as_tensor(arr).numpy() is arr or np.shares_memory(ag.as_tensor(arr).numpy(), arr)


# --------------------------------------------------------------------------------------------------
# attributes and conversions
# --------------------------------------------------------------------------------------------------
def test_shape_size_numel_dim():
    x = ag.randn(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and isinstance(x.shape, tuple) and x.shape != [2, 3]
    assert type(x.shape) is ag.Size and x.size() == x.shape
    assert x.size(1) == 3 and type(x.size(1)) is int and x.size(-1) == 3
    assert (x.ndim, x.dim(), x.numel(), len(x)) == (2, 2, 6, 2)
    assert x.shape + (4,) == (2, 3, 4) and ag.Size([2, 3]).numel() == 6
    assert ag.tensor(3.0).shape == () and ag.tensor(3.0).dim() == 0 and ag.tensor(3.0).numel() == 1
    assert (x.requires_grad, x.is_leaf, x.grad, x.grad_fn) == (True, True, None, None)
    assert x.dtype is ag.float32


def test_item_and_tolist():
    assert ag.tensor(2.5).item() == 2.5 and type(ag.tensor(2.5).item()) is float
    assert ag.tensor(7).item() == 7 and type(ag.tensor(7).item()) is int
    assert ag.tensor(True).item() is True
    assert ag.tensor([[4.0]]).item() == 4.0  # one element of any shape
    assert ag.tensor([1.0, 2.0]).tolist() == [1.0, 2.0] and ag.tensor(3.0).tolist() == 3.0
    assert ag.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert (float(ag.tensor(2.5)), int(ag.tensor(2.7)), bool(ag.tensor(0.0))) == (2.5, 2, False)
    assert list(ag.tensor([1.0, 2.0]))[1].item() == 2.0


def test_numpy_shares_memory_both_ways():
    t = ag.tensor([1.0, 2.0, 3.0])
    a = t.numpy()
    assert a.dtype == np.float32
    a[0] = 10.0
    assert t.tolist() == [10.0, 2.0, 3.0]
    t.add_(1)
    assert a.tolist() == [11.0, 3.0, 4.0]


def test_numpy_refuses_when_grad_is_required_and_detach_allows_it():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^Can't call numpy\(\) on Tensor that requires grad\. "
                                           r"Use tensor\.detach\(\)\.numpy\(\) instead\.$"):
        x.numpy()
    with pytest.raises(RuntimeError, match=r"^Can't call numpy\(\)"):
        (x * 2).numpy()
    with pytest.raises(RuntimeError, match=r"^Can't call numpy\(\)"):
        np.asarray(x)
    assert np.shares_memory(x.detach().numpy(), x.detach().numpy())
    assert x.tolist() == [1.0, 2.0]  # tolist is allowed


def test_T_and_t():
    x = ag.arange(6.0).reshape(2, 3)
    assert x.T.shape == (3, 2) and x.t().tolist() == x.T.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    with pytest.warns(UserWarning, match=r"^The use of `x.T` on tensors of dimension other than 2 .* deprecated") as w:
        assert ag.randn(3).T.shape == (3,) and ag.randn(2, 3, 4).T.shape == (4, 3, 2)
    assert len(w) == 2 and w[0].filename == __file__  # PyTorch's UserWarning, at the user's line
    with pytest.warns(UserWarning, match=r"^Tensor.T is deprecated on 0-D tensors. This function is the identity"):
        assert ag.tensor(1.0).T.item() == 1.0
    assert ag.randn(3).t().shape == (3,)
    x = ag.ones(2, 3, requires_grad=True)
    assert x.T.grad_fn.name() == "PermuteBackward0" and x.t().grad_fn.name() == "TBackward0"
    assert x.mT.grad_fn.name() == "TransposeBackward0"


def test_requires_grad_():
    t = ag.ones(2)
    assert t.requires_grad_() is t and t.requires_grad and t.is_leaf
    t.requires_grad_(False)
    assert not t.requires_grad
    t.requires_grad = True
    assert t.requires_grad
    assert ag.ones(2, dtype=ag.int64).requires_grad_(False).requires_grad is False
    y = ag.ones(2, requires_grad=True) * 2
    assert y.requires_grad_(True) is y  # allowed on a non-leaf when it changes nothing


def test_detach_shares_memory_and_version_counter():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), x.detach().numpy())
    d[0] = 100.0
    assert x.tolist()[0] == 100.0
    assert x._vc[0] == d._vc[0] == 1  # one counter: an in-place change through d is seen by x's users
    y = x * x
    d.add_(1)
    with pytest.raises(RuntimeError, match=r"is at version 2; expected version 1 instead"):
        y.sum().backward()


def test_data_shares_memory_with_a_new_version_counter():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    dd = x.data
    assert not dd.requires_grad and dd.is_leaf
    dd[0] = 100.0
    assert x.tolist()[0] == 100.0
    assert x._vc[0] == 0  # changes through .data are invisible to autograd (PyTorch's behaviour)
    y2 = (x * x).sum()
    x.data.mul_(0)
    y2.backward()  # no error: the silently wrong gradient PyTorch also gives
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_data_setter_replaces_values_keeping_the_tensor():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x.data = ag.tensor([5.0, 6.0])
    assert x.tolist() == [5.0, 6.0] and x.requires_grad and x.is_leaf


def test_detach_in_place():
    x = ag.ones(2, requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_clone_copies_and_stays_in_the_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0" and not c.is_leaf and c.requires_grad
    c.detach()[0] = 50.0
    assert x.tolist() == [1.0, 2.0]  # a copy, not a view
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_is_leaf_and_requires_grad_propagation():
    x = ag.ones(2, requires_grad=True)
    c = ag.randn(2)
    r = x * c
    assert (r.requires_grad, r.is_leaf) == (True, False)
    assert ((c * 2).requires_grad, (c * 2).is_leaf) == (False, True)
    assert (x.detach().is_leaf, x.clone().is_leaf, x[0].is_leaf) == (True, False, False)
    assert (x.detach().requires_grad, x.clone().requires_grad, x.data.requires_grad) == (False, True, False)
    assert x.to(ag.float64).is_leaf is False and x.float() is x


# --------------------------------------------------------------------------------------------------
# type promotion (PyTorch's rules, which differ from numpy's)
# --------------------------------------------------------------------------------------------------
f32, f64, i64, b = ag.float32, ag.float64, ag.int64, ag.bool
PROMOTION = [
    ("ones(2) + 1.5", f32), ("ones(2) + 1", f32), ("ones(2, dtype=long) + 1.5", f32),
    ("ones(2, dtype=long) + 1", i64), ("tensor([1, 2]) / 2", f32), ("tensor([1, 2]) / tensor([2, 2])", f32),
    ("tensor([1, 2]) * 2.0", f32), ("tensor([1, 2]) ** 2", i64), ("tensor([1, 2]) ** 0.5", f32),
    ("ones(2) + ones(2, dtype=float64)", f64), ("ones(2) + ones(2, dtype=long)", f32),
    ("ones(2, dtype=float64) + ones(2, dtype=long)", f64),
    ("ones(2) * np.float64(2.0)", f32),  # numpy scalars act as Python numbers
    ("np.float64(2.0) * ones(2)", f32), ("ones(2) * np.float32(2.0)", f32),
    ("ones(2, dtype=long) * np.float64(2.0)", f32), ("ones(2) * np.int64(2)", f32),
    ("ones(2, dtype=long) * np.int64(2)", i64),
    ("ones(2) + np.ones(2)", f64), ("ones(2) + np.ones(2, dtype=np.float32)", f32),
    ("tensor(3) + ones(2)", f32), ("tensor(3.) + ones(2, dtype=long)", f32),
    # a 0-d tensor does not promote a tensor with dimensions of the same category...
    ("tensor(3., dtype=float64) + ones(2)", f32), ("ones(2) * tensor(3., dtype=float64)", f32),
    # ...but a 1-element tensor with a dimension does, and a 0-d float promotes integer tensors
    ("tensor([3.], dtype=float64) + ones(2)", f64), ("tensor([1, 2]) + tensor(3., dtype=float64)", f64),
    ("tensor([True, False]) + 1", i64), ("tensor([True, False]) + 1.5", f32),
    ("tensor([True, False]) * ones(2)", f32), ("tensor([True]) + tensor([True])", b),
    ("tensor([1, 2]).sum()", i64), ("tensor([1, 2], dtype=int32).sum()", i64), ("tensor([True]).sum()", i64),
    ("ones(2, dtype=float16) + 1.5", ag.float16), ("ones(2, dtype=float16) + ones(2)", f32),
    ("ones(2) > 0", b), ("where(ones(2) > 0, 1., 0.)", f32),
    ("where(tensor([True, False]), ones(2), zeros(2, dtype=float64))", f64),
    ("where(tensor([True, False]), ones(2), 0)", f32),
    ("1 - tensor([1, 2])", i64), ("2 / tensor([1, 2])", f32),
    # an explicit dtype is what you get
    ("ones(2).double()", f64), ("ones(2).to(float64)", f64), ("tensor([1, 2]).to(float64)", f64),
    ("ones(2).sum(dtype=float64)", f64), ("ones(2).mean(dtype=float64)", f64),
    ("tensor([1, 2]).mean(dtype=float32)", f32), ("ones(2, dtype=float64).float()", f32),
    ("cat([ones(2), ones(2, dtype=float64)])", f64),
]


@pytest.mark.parametrize("expression,dtype", PROMOTION, ids=[e for e, _ in PROMOTION])
def test_type_promotion_follows_pytorch(expression, dtype):
    names = {name: getattr(ag, name) for name in ("ones", "zeros", "tensor", "where", "cat", "float64", "float32",
                                                  "float16", "long", "int32")}
    assert eval(expression, {"np": np, **names}).dtype is dtype


def test_promoted_gradients_come_back_in_each_leafs_dtype():
    x = ag.ones(3, requires_grad=True)
    s = ag.tensor(2.0, dtype=ag.float64, requires_grad=True)
    y = x * s
    assert y.dtype is ag.float32
    y.sum().backward()
    assert x.grad.dtype is ag.float32 and x.grad.tolist() == [2.0, 2.0, 2.0]
    assert s.grad.dtype is ag.float64 and s.grad.item() == 3.0
    z = ag.ones(3, requires_grad=True)
    (z + ag.ones(3, dtype=ag.float64)).sum().backward()
    assert z.grad.dtype is ag.float32
    d = ag.ones(2, requires_grad=True)
    (d.double() * 3).sum().backward()
    assert d.grad.dtype is ag.float32 and d.grad.tolist() == [3.0, 3.0]


# -- grad_fn: read through a check, as PyTorch's is ---------------------------------------------------------------
def _written_split_output(lib):
    """Output 0 of y.split(2), whose memory was written (under no_grad) after it was made: PyTorch 2.13 refuses to
    give its grad_fn (ops/multi_output.py, tests/test_multi_output.py)."""
    y = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True) * 1
    a, _ = y.split(2)
    with lib.no_grad():
        y.mul_(2)
    return a


def _face_of_a_written_output(lib):
    import copy
    import warnings

    a, seen = _written_split_output(lib), []
    for read in (lambda: a.grad_fn, lambda: a.is_leaf, lambda: a.requires_grad, lambda: a.output_nr, lambda: repr(a),
                 lambda: a.grad, lambda: a.retain_grad(), lambda: a.register_hook(print), lambda: copy.deepcopy(a),
                 lambda: a.requires_grad_(False), lambda: a.detach().tolist()):
        try:
            with warnings.catch_warnings(record=True) as warned:
                warnings.simplefilter("always")
                value = read()
            seen.append((value, [type(w.message).__name__ for w in warned]))
        except RuntimeError as e:
            seen.append(str(e).split(".")[0])
    return seen


FACE = [  # what PyTorch 2.13 gives, in the order read above
    "Output 0 of Split is a view and its base or another view of its base has been modified inplace",  # grad_fn
    "Output 0 of Split is a view and its base or another view of its base has been modified inplace",  # is_leaf
    (True, []), (0, []), ("tensor([2., 4.], grad_fn=<Invalid>)", []),  # requires_grad, output_nr, repr
    (None, ["UserWarning"]),  # .grad: a non-leaf's, with the usual warning
    "Output 0 of Split is a view and its base or another view of its base has been modified inplace",  # retain_grad
    "Output 0 of Split is a view and its base or another view of its base has been modified inplace",  # register_hook
    "Output 0 of Split is a view and its base or another view of its base has been modified inplace",  # deepcopy
    "you can only change requires_grad flags of leaf variables",  # requires_grad_(False): reads no grad_fn
    ([2.0, 4.0], []),
]


def test_a_split_output_written_since_shows_pytorchs_face():
    assert _face_of_a_written_output(ag) == FACE


def test_a_split_output_written_since_shows_the_same_face_in_pytorch():
    torch = pytest.importorskip("torch")
    assert _face_of_a_written_output(torch) == FACE


def test_grad_fn_cannot_be_assigned():
    y = ag.ones(2, requires_grad=True) * 2
    with pytest.raises(AttributeError):
        y.grad_fn = None
