"""Anomaly detection, as `torch.autograd.detect_anomaly`: find the op whose backward produced NaN.

With it on, every node remembers the stack of the Python code that created it (costly: only for
debugging). When a node's reverse rule returns a NaN, backward stops with an error naming the node and
showing where in your code its forward op ran.

The message's first line is PyTorch's ("Function 'SqrtBackward0' returned nan values in its 0th
output."). PyTorch shows the forward traceback as a separate warning; here it is part of the error
message, so it appears wherever the error does (a notebook cell's output included). The flags live in
`grad_mode.anomaly_state`; the check itself is `engine.raise_if_nan`.
"""
from ..engine import forward_trace  # noqa: F401  (where a node was made; the engine's NaN check prints it)
from ..grad_mode import anomaly_state


class detect_anomaly:
    """Context manager (or decorator) turning anomaly detection on for a block."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = (anomaly_state.enabled, anomaly_state.check_nan)
        anomaly_state.enabled, anomaly_state.check_nan = True, self.check_nan

    def __exit__(self, *exc):
        anomaly_state.enabled, anomaly_state.check_nan = self._previous
        return False

    def __call__(self, func):
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off (immediately, or for a `with` block)."""

    def __init__(self, mode, check_nan=True):
        self._previous = (anomaly_state.enabled, anomaly_state.check_nan)
        anomaly_state.enabled, anomaly_state.check_nan = bool(mode), check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        anomaly_state.enabled, anomaly_state.check_nan = self._previous
        return False


def is_anomaly_enabled():
    return anomaly_state.enabled
