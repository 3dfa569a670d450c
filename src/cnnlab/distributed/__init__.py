"""Data-parallel training on ``torch.distributed``: the hand-written NumPy layers scaled out.

- :mod:`~cnnlab.distributed.group`: the process group (Gloo) from the torchrun environment
  (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) and the collectives over NumPy
  arrays, as zero-copy tensors (``torch.from_numpy``);
- :mod:`~cnnlab.distributed.sharding`: which part of every global batch a rank computes;
- :mod:`~cnnlab.distributed.solver`: :class:`DataParallelSolver`, the Solver whose gradients
  are averaged over the ranks before the update;
- :mod:`~cnnlab.distributed.torch_solver`: ``DataParallelTorchSolver``, the torch engine's
  twin under ``DistributedDataParallel`` (Gloo on CPUs, NCCL on GPUs; imported when asked for);
- :mod:`~cnnlab.distributed.launcher`: ``cnnlab train --nproc N``, the processes of one
  machine started and watched (one that fails stops the others).

Importing this package does not import PyTorch; starting a process group does.
"""

from cnnlab.distributed.group import Group, group_from_env
from cnnlab.distributed.launcher import launch
from cnnlab.distributed.sharding import shard
from cnnlab.distributed.solver import DataParallelSolver

__all__ = ["DataParallelSolver", "Group", "group_from_env", "launch", "shard"]
