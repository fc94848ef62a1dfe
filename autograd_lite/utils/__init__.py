"""`autograd_lite.utils`: PyTorch's torch.utils, the part this package has.

    checkpoint.py    checkpoint / checkpoint_sequential: activation checkpointing, memory for recomputation
"""
from . import checkpoint

__all__ = ["checkpoint"]
