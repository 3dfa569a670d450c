"""Stateful layers over :mod:`cnnlab.functional`, containers, initialisers and ``summary``.

Every layer has ``forward`` / ``backward``, ``params`` / ``grads`` and train / eval modes.
"""

from . import init
from .activation import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
from .container import Flatten, Residual, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Linear
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .pool import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from .summary import summary
from .upsample import Upsample

__all__ = [
    "ELU",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2d",
    "GroupNorm",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Module",
    "Parameter",
    "ReLU",
    "Residual",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "Upsample",
    "init",
    "summary",
]
