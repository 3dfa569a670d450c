"""cnnlab.autograd: a define-by-run tape over cnnlab's hand-written ops.

``Tensor`` records each op applied to it; ``loss.backward()`` replays the ops' own backward
passes (from :mod:`cnnlab.functional`) in reverse and leaves gradients in the leaves' ``.grad``.
``no_grad()`` turns recording off. :mod:`cnnlab.autograd.functional` holds the layers as
Tensor functions (conv2d, relu, batch_norm, cross_entropy, ...); ``Function`` registers a new
forward/backward pair. See ARCHITECTURE.md, "The tape", for how it works.
"""

from . import functional
from .mode import is_grad_enabled, no_grad
from .tensor import Function, Tensor, as_tensor

__all__ = ["Function", "Tensor", "as_tensor", "functional", "is_grad_enabled", "no_grad"]
