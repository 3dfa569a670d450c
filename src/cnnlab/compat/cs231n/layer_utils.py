"""CS231n's ``layer_utils`` module.

Every sandwich layer of :mod:`cnnlab.functional.sandwich` (``affine_relu``, ``conv_relu``,
``conv_relu_pool``, ``conv_bn_relu``) under its own name.
"""

from cnnlab import functional as _functional
from cnnlab.functional import sandwich as _sandwich

__all__ = [
    name
    for name in _functional.__all__
    if getattr(_functional, name).__module__ == _sandwich.__name__
]
globals().update({name: getattr(_functional, name) for name in __all__})
