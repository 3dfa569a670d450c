"""Training: the Solver (the loop) and what it is built from.

* :mod:`.solver` - :class:`Solver`, CS231n's training loop with checkpoints, early stopping and
  bit-exact resume; its parts are :mod:`.batches` (epoch order, minibatches, accuracy),
  :mod:`.progress` (tqdm bar or log lines), :mod:`.signals` (Ctrl-C / SIGTERM) and
  :mod:`.state` (what a checkpoint holds).
* :mod:`.optim` - update rules ``next_w, config = rule(w, dw, config)``.
* :mod:`.schedules` - learning-rate factor per (fractional) epoch.
* :mod:`.checkpoint` - ``.npz`` + JSON header files, written atomically, loaded without pickle.
* :mod:`.tuning` - grid and random search, trials in parallel processes.
"""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .solver import Solver, TrainingDiverged

__all__ = ["CheckpointError", "Solver", "TrainingDiverged", "load_checkpoint", "save_checkpoint"]
