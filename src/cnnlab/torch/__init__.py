"""cnnlab.torch: the bridge to PyTorch, an optional dependency (``pip install torch``).

* :func:`to_torch` / :func:`from_torch` (:mod:`.convert`): the ``torch.nn`` twin of a cnnlab
  layer, container, forward-only module or Classifier holding the same numbers, and back;
* :class:`TorchSolver`, :func:`train_torch` (:mod:`.engine`): the torch engine, ``cnnlab train
  --engine torch``;
* :func:`compare_with_torch` (:mod:`.compare`): run a cnnlab model, layer or seed-004 op and
  its PyTorch twin on the same input and tabulate the forward and gradient differences.

Importing this package without PyTorch raises an ImportError that says how to install it; the
rest of cnnlab never needs PyTorch.
"""

try:
    import torch  # noqa: F401
except ImportError as err:
    raise ImportError(
        "cnnlab.torch needs PyTorch, which is not installed: pip install torch "
        "(or pip install 'cnnlab[torch]')"
    ) from err

from .compare import compare_with_torch
from .convert import copy_from_torch, copy_to_torch, from_torch, to_torch
from .engine import TorchSolver, train_torch

__all__ = [
    "TorchSolver",
    "compare_with_torch",
    "copy_from_torch",
    "copy_to_torch",
    "from_torch",
    "to_torch",
    "train_torch",
]
