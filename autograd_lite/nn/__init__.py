"""`autograd_lite.nn`: layers, losses and parameters with PyTorch's names."""
from . import functional  # noqa: F401
