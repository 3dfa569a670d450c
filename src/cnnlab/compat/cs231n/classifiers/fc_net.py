"""CS231n ``classifiers/fc_net.py``: the fully-connected network."""

from cnnlab.models.fc_net import FullyConnectedNet

__all__ = ["FullyConnectedNet"]
