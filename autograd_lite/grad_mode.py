"""Grad modes: whether operations record themselves in the graph, carry tangents, and watch for NaN.

Every op checks one flag, `grad_mode.enabled`, before it builds a node. Inside `no_grad()` the flag is
False, so results have `requires_grad=False` and no `grad_fn`: nothing is saved for backward, which is
what makes inference cheaper. `enable_grad()` turns recording back on inside a `no_grad` block, and
`set_grad_enabled(mode)` sets it from a variable (handy for `train`/`eval` code paths).

All of them work as context managers and as decorators, like PyTorch's; a decorated generator function
runs its body in the mode between yields and gives the caller back its own mode at each yield.

Two more switches live here because every op reads them, so they sit below the ops (the context
managers that set them are PyTorch's, in `autograd/`):

* `forward_ad_state`: whether a `forward_ad.dual_level` is open, so that ops compute tangents
  (`autograd/forward_ad.py`); `attach_tangent` gives a tensor its tangent for that level.
* `anomaly_state`: whether anomaly detection is on (`autograd/anomaly_mode.py`): nodes then remember
  where they were created, and the engine checks every gradient for NaN.
"""
import functools
import inspect
import weakref

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
        """Use as a decorator: the function runs in this mode. A generator function's body runs in this
        mode between its yields, and the caller gets its own mode back at each yield."""
        if inspect.isgeneratorfunction(func):
            return _generator_in_mode(func, self.clone)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


def _generator_in_mode(func, make_context):
    """Wrap generator function `func` so that each step of its body (up to the next yield) runs inside a
    fresh `make_context()`, while the code that drives it keeps its own mode. Values sent in, exceptions
    thrown in, `close()` and the return value all pass through, as with the unwrapped generator."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gen = func(*args, **kwargs)
        resume, value = gen.send, None  # how to run the next step of the body, and what to give it
        while True:
            try:
                with make_context():
                    produced = resume(value)
            except StopIteration as stop:
                return stop.value
            try:
                value, resume = (yield produced), gen.send
            except GeneratorExit:
                with make_context():
                    gen.close()
                raise
            except BaseException as exc:  # noqa: B036 (thrown in by the caller: hand it to the body)
                value, resume = exc, gen.throw

    return wrapper


class no_grad(_GradModeContext):
    """Disable graph recording: `with no_grad(): y = model(x)` builds no graph and saves nothing."""

    mode = False


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside a `no_grad` block."""

    mode = True


class inference_mode(_GradModeContext):
    """As `no_grad` (PyTorch's inference mode also skips version counters; here it is an alias).
    `inference_mode(False)` turns recording on, as PyTorch's does."""

    def __init__(self, mode=True):
        self.mode = not mode

    def clone(self):
        return self.__class__(not self.mode)


class set_grad_enabled(_GradModeContext):
    """Set recording on or off: as a function call, immediately; as a context manager, for the block."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        global enabled
        if not isinstance(mode, int):  # PyTorch takes bools only; ints pass here, as the engine hands on create_graph
            raise TypeError(
                f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {type(mode).__name__}")
        self.mode = bool(mode)
        self._previous = enabled
        enabled = self.mode  # takes effect at once, as torch.set_grad_enabled(False) does

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        global enabled
        enabled = self._previous
        return False

    def __call__(self, func):
        """As a decorator the mode applies only inside the function: the caller's mode comes back now."""
        global enabled
        enabled = self._previous
        return super().__call__(func)

    def clone(self):
        return self.__class__(self.mode)


def is_grad_enabled():
    return enabled


# ---------------------------------------------------------------------------------------------------
# Forward-mode AD and anomaly detection: the flags that ops and the engine read
# ---------------------------------------------------------------------------------------------------
class _ForwardAD:
    """Whether a `forward_ad.dual_level` is open (`level`), and so whether ops must propagate tangents
    (`active`; switched off while a forward rule runs, which sees primals only), and whether torch.func opened
    it (`through_func`: `func.jvp`, `jacfwd`, where PyTorch's values are wrapped tensors, and a few of its
    rules, prod's, take another path for those)."""

    active = False
    level = None
    through_func = False


forward_ad_state = _ForwardAD()
# The tensors holding a tangent of the open level (their tangents go when it exits), by id: a set would compare a
# tensor given again with itself by `==`, which is elementwise for tensors.
_duals = weakref.WeakValueDictionary()


def attach_tangent(t, tangent):
    """Give tensor `t` the tangent `tangent` for the open forward-AD level."""
    t._tangent = tangent
    _duals[id(t)] = t


def drop_tangents():
    """Forget every tangent of the level that is closing."""
    for t in list(_duals.values()):
        t._tangent = None
    _duals.clear()


class _Anomaly:
    enabled = False
    check_nan = True


anomaly_state = _Anomaly()
