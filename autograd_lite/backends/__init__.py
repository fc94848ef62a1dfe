"""`autograd_lite.backends`: `backends.mps.is_available()` is False, as in PyTorch on a machine without Apple's GPU."""
from . import mps  # noqa: F401
