"""Grad modes: whether operations record themselves in the graph.

Every op checks one flag, `grad_mode.enabled`, before it builds a node. Inside `no_grad()` the flag is
False, so results have `requires_grad=False` and no `grad_fn`: nothing is saved for backward, which is
what makes inference cheaper. `enable_grad()` turns recording back on inside a `no_grad` block, and
`set_grad_enabled(mode)` sets it from a variable (handy for `train`/`eval` code paths).

All three work as context managers and as decorators, like PyTorch's.
"""
import functools

enabled = True


class _GradModeContext:
    """Base of the grad-mode context managers: remembers the previous mode and restores it on exit."""

    mode = True

    def __new__(cls, orig_func=None, *args, **kwargs):
        """`@no_grad` without parentheses: the class is called with the function itself, as PyTorch allows."""
        if callable(orig_func):
            return cls()(orig_func)
        return super().__new__(cls)

    def __enter__(self):
        global enabled
        self._previous = enabled
        enabled = self.mode

    def __exit__(self, *exc):
        global enabled
        enabled = self._previous
        return False

    def __call__(self, func):
        """Use as a decorator: the function runs in this mode."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    """Disable graph recording: `with no_grad(): y = model(x)` builds no graph and saves nothing."""

    mode = False


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside a `no_grad` block."""

    mode = True


class inference_mode(_GradModeContext):
    """As `no_grad` (PyTorch's inference mode also skips version counters; here it is an alias)."""

    def __init__(self, mode=True):
        self.mode = not mode

    def __call__(self, func):
        if not callable(func):
            raise TypeError("inference_mode used as a decorator must decorate a function")
        return super().__call__(func)


class set_grad_enabled(_GradModeContext):
    """Set recording on or off: as a function call, immediately; as a context manager, for the block."""

    def __init__(self, mode):
        global enabled
        self.mode = bool(mode)
        self._previous = enabled
        enabled = self.mode  # takes effect at once, as torch.set_grad_enabled(False) does

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        global enabled
        enabled = self._previous
        return False

    def clone(self):
        return self.__class__(self.mode)


def is_grad_enabled():
    return enabled
