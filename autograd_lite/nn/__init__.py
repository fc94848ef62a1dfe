"""`autograd_lite.nn`: layers, losses and parameters with PyTorch's names.

    module.py     Module: registration of parameters and submodules, state_dict, train/eval
    parameter.py  Parameter: a leaf tensor that a Module registers
    layers.py     Linear, activations (ReLU, Tanh, Softplus, ...), Sequential, ModuleList, DataParallel
    loss.py       MSELoss, BCEWithLogitsLoss, CrossEntropyLoss, ...
    init.py       starting values: kaiming_uniform_, xavier_uniform_, ...
    functional.py the functions the modules call (F.linear, F.cross_entropy, ...)
"""
from . import functional, init
from .layers import (
           DataParallel,
           Flatten,
           Identity,
           LeakyReLU,
           Linear,
           LogSoftmax,
           ModuleList,
           ReLU,
           Sequential,
           Sigmoid,
           Softmax,
           Softplus,
           Tanh,
)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .parameter import Parameter

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "DataParallel", "Flatten", "Identity", "LeakyReLU",
           "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential",
           "Sigmoid", "Softmax", "Softplus", "Tanh", "functional", "init"]
