"""CS231n ``classifiers/cnn.py``: the three-layer ConvNet."""

from cnnlab.models.cnn import ThreeLayerConvNet

__all__ = ["ThreeLayerConvNet"]
