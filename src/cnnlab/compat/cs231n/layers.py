"""CS231n's ``layers`` module under its own names.

Cells with ``from cs231n.layers import *`` run unchanged after rewriting the import to ``from
cnnlab.compat.cs231n.layers import *``.

The names are CS231n's; the functions are :mod:`cnnlab.functional`'s (the plain-loop ``_naive``
versions where CS231n's layers are naive). ``dropout_param['p']`` is the probability of KEEPING
a unit, as in CS231n since 2019.
"""

from cnnlab import functional as _functional

#: layers with a ``<name>_forward`` / ``<name>_backward`` pair
_PAIRS = (
    "affine",
    "relu",
    "batchnorm",
    "layernorm",
    "dropout",
    "spatial_batchnorm",
    "spatial_groupnorm",
)
#: layers that CS231n writes with loops: ``<name>_forward_naive`` / ``<name>_backward_naive``
_NAIVE_PAIRS = ("conv", "max_pool", "avg_pool")
#: the losses and the alternative batch-norm backward pass
_SINGLES = ("batchnorm_backward_alt", "softmax_loss", "svm_loss")

__all__ = [
    *(f"{name}_{way}" for name in _PAIRS for way in ("forward", "backward")),
    *(f"{name}_{way}_naive" for name in _NAIVE_PAIRS for way in ("forward", "backward")),
    *_SINGLES,
]
globals().update({name: getattr(_functional, name) for name in __all__})
