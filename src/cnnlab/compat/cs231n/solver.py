"""CS231n's ``solver`` module name: ``from cs231n.solver import Solver``."""

from cnnlab.training.solver import Solver
