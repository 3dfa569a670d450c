"""Models by name, for the command line and config files: ``build(name, **kwargs)``."""

from __future__ import annotations

import inspect
from typing import Any

from .alexnet import MiniAlexNet
from .allconv import AllConvNet
from .classifier import Classifier
from .cnn import TFThreeLayerConvNet, ThreeLayerConvNet
from .fc_net import FullyConnectedNet
from .mnist import MNISTNet
from .resnet import ResNet

MODELS: dict[str, type[Classifier]] = {
    "three_layer": ThreeLayerConvNet,
    "tf_three_layer": TFThreeLayerConvNet,
    "fc": FullyConnectedNet,
    "mini_alexnet": MiniAlexNet,
    "resnet": ResNet,
    "allconv": AllConvNet,
    "mnist": MNISTNet,
}


def available() -> list[str]:
    """The model names :func:`build` accepts."""
    return sorted(MODELS)


def build(name: str, **kwargs: Any) -> Classifier:
    """Construct the model registered as ``name`` with ``kwargs`` (its constructor's arguments).

    Raises:
        ValueError: for an unknown name (listing the known ones), a keyword the model does
            not take, or a required one left out (``fc`` needs ``hidden_dims``).
    """
    if name not in MODELS:
        raise ValueError(f"models.build: unknown model {name!r}; available: {available()}")
    params = inspect.signature(MODELS[name]).parameters
    unknown = [key for key in kwargs if key not in params]
    if unknown:
        raise ValueError(
            f"models.build: {name!r} takes no argument(s) {unknown}; it takes {list(params)}"
        )
    missing = [k for k, p in params.items() if p.default is p.empty and k not in kwargs]
    if missing:
        raise ValueError(f"models.build: {name!r} needs argument(s) {missing}")
    return MODELS[name](**kwargs)
