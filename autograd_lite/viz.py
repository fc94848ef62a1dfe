"""Moved to `autograd_lite.course.viz` (a teaching aid, not PyTorch's API). This old name still works:
it is the very same module."""
import sys

from .course import viz

sys.modules[__name__] = viz
