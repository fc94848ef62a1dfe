"""Apple's GPU backend: not available (autograd_lite computes on the CPU)."""


def is_available():
    return False


def is_built():
    return False
