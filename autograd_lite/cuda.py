"""`autograd_lite.cuda`: what PyTorch built without CUDA answers, so that `if torch.cuda.is_available():` works."""


def is_available():
    return False


def device_count():
    return 0
