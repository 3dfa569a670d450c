"""cnnlab: convolutional networks written by hand in NumPy.

Layers of the package, bottom to top (imports only go upward):

* :mod:`cnnlab.functional` - stateless ops, ``<op>_forward`` / ``<op>_backward`` pairs.
* :mod:`cnnlab.gradcheck` - numerical gradients.
* :mod:`cnnlab.nn`, :mod:`cnnlab.models` - modules and ready networks.
* :mod:`cnnlab.training` - the Solver, update rules, schedules, checkpoints, search.
* :mod:`cnnlab.data`, :mod:`cnnlab.knn`, :mod:`cnnlab.viz`, :mod:`cnnlab.report`,
  :mod:`cnnlab.experiment`, :mod:`cnnlab.cli` - around them.

``cnnlab.load(path_or_run)`` returns a saved model ready to predict (:mod:`cnnlab.saving`).
"""

from cnnlab.saving import load
from cnnlab.training import Solver, TrainingDiverged

__version__ = "0.1.0"

__all__ = ["Solver", "TrainingDiverged", "__version__", "load"]
