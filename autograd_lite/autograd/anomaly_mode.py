"""Anomaly detection, as `torch.autograd.detect_anomaly`: find the op whose backward produced NaN.

With it on, every node remembers the stack of the Python code that created it (costly: only for
debugging). When a node's reverse rule returns a NaN, backward stops with an error naming the node and
showing where in your code its forward op ran.

The message's first line is PyTorch's ("Function 'SqrtBackward0' returned nan values in its 0th
output."). PyTorch shows the forward traceback as a separate warning; here it is part of the error
message, so it appears wherever the error does (a notebook cell's output included).
"""
import os

import numpy as np

from ..function import anomaly_state


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


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def forward_trace(node):
    """Where `node`'s op was called: the stack recorded when it was made, ending at the last frame of the
    user's code (the frames inside autograd_lite, such as `Tensor.__matmul__` -> `matmul` -> `mm`, are
    dropped from the end)."""
    frames = list(node._trace or ())
    while frames and frames[-1].startswith(f'  File "{_PACKAGE}'):
        frames.pop()
    return "".join(frames) if frames else "  (created before anomaly detection was enabled)\n"


def check_nan(node, grads):
    """Raise if the rule of `node` returned NaN, with the forward traceback of where `node` was made."""
    if not anomaly_state.check_nan:
        return
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind == "f" and np.isnan(g._data).any():
            where = forward_trace(node)
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{where}"
            )
