"""Anomaly detection (autograd/anomaly_mode.py): a NaN produced in backward names the node that made it
and shows the line of the user's code where its forward op ran."""
import inspect
import warnings

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.autograd import anomaly_mode


@pytest.fixture(autouse=True)
def quiet_numpy_and_anomaly_off():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "invalid value" while making the NaN
        yield
    assert not ag.autograd.is_anomaly_enabled(), "a test left anomaly detection on"


def _line_of(marker):
    """The line number of the line in this file that contains `marker`."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return 1 + next(i for i, line in enumerate(lines) if marker in line and "_line_of" not in line)


def test_nan_in_backward_names_the_node_and_the_forward_line():
    x = ag.tensor([-1.0, 4.0], requires_grad=True)
    with ag.autograd.detect_anomaly():
        y = x.sqrt()  # FORWARD-SQRT
        z = ag.where(x > 0, y, ag.zeros(2))  # the trap: the masked branch's gradient is 0 * nan
        with pytest.raises(RuntimeError) as info:
            z.sum().backward()
    message = str(info.value)
    first, second, *trace = message.splitlines()
    assert first == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert second == "Error detected in SqrtBackward0. Traceback of forward call that caused the error:"
    assert f'File "{__file__}", line {_line_of("FORWARD-SQRT")}, in test_nan_in_backward_names' in message
    assert trace[-1].strip() == "y = x.sqrt()  # FORWARD-SQRT"  # the user's line is last, no internals after it
    assert x.grad is None  # the failed backward changed nothing


def test_trace_ends_at_the_users_line_for_ops_reached_through_several_functions():
    w = ag.tensor([[0.0], [0.0]], requires_grad=True)
    x = ag.ones(1, 2)
    with ag.autograd.detect_anomaly():
        h = (x @ w).sqrt() * 0  # FORWARD-MATMUL-SQRT
        with pytest.raises(RuntimeError) as info:
            h.sum().backward()
    message = str(info.value)
    assert message.startswith("Function 'SqrtBackward0' returned nan values in its 0th output.")
    assert message.rstrip().endswith("h = (x @ w).sqrt() * 0  # FORWARD-MATMUL-SQRT")
    assert "autograd_lite" + "/ops/" not in message and "tensor.py" not in message


def test_without_anomaly_detection_the_nan_flows_silently():
    x = ag.tensor([-1.0, 4.0], requires_grad=True)
    ag.where(x > 0, x.sqrt(), ag.zeros(2)).sum().backward()
    assert np.isnan(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.25


def test_set_detect_anomaly_as_a_call_and_as_a_context():
    ag.autograd.set_detect_anomaly(True)
    try:
        assert ag.autograd.is_anomaly_enabled()
        x = ag.tensor([0.0], requires_grad=True)
        y = (x.sqrt() * 0).sum()  # d sqrt at 0 is inf; inf * 0 is nan
        with pytest.raises(RuntimeError, match=r"^Function 'SqrtBackward0' returned nan values in its 0th output\."):
            y.backward()
    finally:
        ag.autograd.set_detect_anomaly(False)
    assert not ag.autograd.is_anomaly_enabled()
    with ag.autograd.set_detect_anomaly(True):
        assert ag.autograd.is_anomaly_enabled()
    assert not ag.autograd.is_anomaly_enabled()


def test_check_nan_false_records_traces_but_does_not_raise():
    x = ag.tensor([0.0], requires_grad=True)
    with ag.autograd.detect_anomaly(check_nan=False):
        (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.item())


def test_detect_anomaly_as_a_decorator():
    @ag.autograd.detect_anomaly()
    def step(x):
        assert ag.autograd.is_anomaly_enabled()
        (x.log() * 0).sum().backward()  # d log at 0 is inf

    with pytest.raises(RuntimeError, match=r"^Function 'LogBackward0' returned nan values in its 0th output\."):
        step(ag.tensor([0.0, 1.0], requires_grad=True))


def test_the_message_gives_the_index_of_the_input_whose_gradient_is_nan():
    a = ag.tensor([1.0])
    b = ag.tensor([0.0], requires_grad=True)
    with ag.autograd.detect_anomaly():
        out = (a / b) * 0  # d/db (a / b) = -a / b**2, times 0 at b = 0: nan for input 1 (b) of the division
        with pytest.raises(RuntimeError) as info:
            out.sum().backward()
    assert str(info.value).splitlines()[0] == "Function 'DivBackward0' returned nan values in its 1th output."


def test_nodes_made_before_enabling_say_so():
    x = ag.tensor([0.0], requires_grad=True)
    y = (x.sqrt() * 0).sum()
    with ag.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="created before anomaly detection was enabled"):
            y.backward()


def test_anomaly_mode_keeps_traces_only_while_on():
    x = ag.ones(2, requires_grad=True)
    assert (x * 2).grad_fn._trace is None
    with ag.autograd.detect_anomaly():
        node = (x * 2).grad_fn
    assert anomaly_mode.forward_trace(node).rstrip().endswith("node = (x * 2).grad_fn")
