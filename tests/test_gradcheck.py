"""autograd.gradcheck / gradgradcheck: they pass correct rules and catch wrong ones, in each mode they check."""
import pytest

import autograd_lite as ag
from autograd_lite.autograd import GradcheckError, gradcheck, gradgradcheck
from autograd_lite.autograd import forward_ad as fwAD


def x64():
    return ag.tensor([0.5, -1.5, 2.0], dtype=ag.float64, requires_grad=True)


def correct(x):
    return (x.sin() * x**2, x.exp().sum())  # two outputs: every output's Jacobian is compared


def wrong_reverse(x):
    return x * x.detach()  # reverse mode sees d/dx = x; the truth is 2x


def wrong_forward(x):
    return fwAD.unpack_dual(x).primal * x  # inside a dual level, one factor loses its tangent: J u = x u, not 2x u


def wrong_second_order(x):
    h = x * 1.0
    h.register_hook(lambda g: g.detach())  # the gradient is right, but cut off from x: its derivative is 0
    return (h * h).sum()


def test_correct_rules_pass_in_every_mode():
    assert gradcheck(correct, (x64(),), check_forward_ad=True)
    assert gradgradcheck(correct, (x64(),))


@pytest.mark.parametrize("func,kwargs,how", [
    (wrong_reverse, {}, ""),
    (wrong_forward, {"check_forward_ad": True}, " computed with forward mode"),  # PyTorch's wording for each
])
def test_a_wrong_first_derivative_is_caught(func, kwargs, how):
    message = rf"(?s)^Jacobian{how} mismatch for output 0 with respect to input 0,\nnumerical:.*\nanalytical:"
    with pytest.raises(GradcheckError, match=message):
        gradcheck(func, (x64(),), **kwargs)
    assert gradcheck(func, (x64(),), raise_exception=False, **kwargs) is False


def test_wrong_forward_mode_goes_unnoticed_unless_checked():
    assert gradcheck(wrong_forward, (x64(),))  # check_forward_ad=False: only the (correct) reverse mode is compared


def test_a_wrong_second_derivative_is_caught_by_gradgradcheck_only():
    assert gradcheck(wrong_second_order, (x64(),))
    with pytest.raises(GradcheckError, match="^Jacobian mismatch"):
        gradgradcheck(wrong_second_order, (x64(),))


def test_inputs_that_do_not_require_grad_are_skipped():
    constant = ag.tensor([1.0, 2.0], dtype=ag.float64)
    assert gradcheck(wrong_reverse, (constant,)) and gradgradcheck(wrong_reverse, (constant,))
