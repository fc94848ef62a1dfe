"""Anomaly detection, as `torch.autograd.detect_anomaly`: find the op whose backward produced NaN.

With it on, every node remembers the stack of the Python code that created it (costly: only for
debugging). When a node's reverse rule returns a NaN, backward stops with an error naming the node and
showing where in your code its forward op ran.
"""
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


def check_nan(node, grads):
    """Raise if the rule of `node` returned NaN, with the forward traceback of where `node` was made."""
    if not anomaly_state.check_nan:
        return
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind == "f" and np.isnan(g._data).any():
            where = "".join(node._trace) if node._trace else "  (created before anomaly detection was enabled)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{where}"
            )
