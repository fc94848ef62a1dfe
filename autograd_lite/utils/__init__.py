"""`autograd_lite.utils`: PyTorch's torch.utils, the part this package has.

    checkpoint.py    checkpoint / checkpoint_sequential: activation checkpointing, memory for recomputation
    benchmark.py     Timer / Measurement: time a statement and print it as PyTorch does
"""
from . import benchmark, checkpoint

__all__ = ["benchmark", "checkpoint"]
