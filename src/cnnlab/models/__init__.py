"""cnnlab.models: ready networks with the CS231n interface ``loss(X, y=None)``.

``build(name, **kwargs)`` constructs one by name (see ``available()``).
"""

from .alexnet import MiniAlexNet
from .allconv import AllConvNet
from .challenge import ChallengeNet
from .classifier import Classifier
from .cnn import TFThreeLayerConvNet, ThreeLayerConvNet
from .fc_net import FullyConnectedNet
from .mnist import MNISTNet
from .registry import MODELS, available, build, build_for, name_of
from .resnet import ResNet, basic_block
from .spatial_sum import SpatialSumNet

__all__ = [
    "MODELS",
    "AllConvNet",
    "ChallengeNet",
    "Classifier",
    "FullyConnectedNet",
    "MNISTNet",
    "MiniAlexNet",
    "ResNet",
    "SpatialSumNet",
    "TFThreeLayerConvNet",
    "ThreeLayerConvNet",
    "available",
    "basic_block",
    "build",
    "build_for",
    "name_of",
]
