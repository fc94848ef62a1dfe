"""`autograd_lite.optim`: optimizers with PyTorch's names, settings and update rules.

    optimizer.py  Optimizer: parameter groups, state, zero_grad, state_dict
    sgd.py        SGD (momentum, dampening, nesterov, weight decay)
    adam.py       Adam (amsgrad, weight decay) and AdamW
    rmsprop.py    RMSprop (centered, momentum, weight decay)
"""
from .adam import Adam, AdamW  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .sgd import SGD  # noqa: F401
