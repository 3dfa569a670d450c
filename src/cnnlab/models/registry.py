"""Models by name, for the command line and config files: ``build(name, **kwargs)``."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from .alexnet import MiniAlexNet
from .allconv import AllConvNet
from .challenge import ChallengeNet
from .classifier import Classifier
from .cnn import TFThreeLayerConvNet, ThreeLayerConvNet
from .fc_net import FullyConnectedNet
from .keras_style import KerasThreeLayerConvNet, KerasTwoLayerFC
from .mnist import MNISTNet
from .resnet import ResNet
from .spatial_sum import SpatialSumNet

MODELS: dict[str, type[Classifier]] = {
    "three_layer": ThreeLayerConvNet,
    "tf_three_layer": TFThreeLayerConvNet,
    "fc": FullyConnectedNet,
    "mini_alexnet": MiniAlexNet,
    "resnet": ResNet,
    "allconv": AllConvNet,
    "mnist": MNISTNet,
    "two_layer_fc": KerasTwoLayerFC,
    "keras_three_layer": KerasThreeLayerConvNet,
    "spatial_sum": SpatialSumNet,
    "tf_challenge": ChallengeNet,
}
"""Every registered model class by name: the names :func:`build` and ``cnnlab train --model``
accept."""


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


def name_of(model: Any) -> str | None:
    """The name ``model``'s class is registered under, or None (subclasses are not registered)."""
    return next((name for name, cls in MODELS.items() if type(model) is cls), None)


def build_for(name: str, input_shape: Sequence[int], **kwargs: Any) -> Classifier:
    """Build model ``name`` for inputs of one shape.

    Args:
        name: a registered name.
        input_shape: one input's shape, e.g. (C, H, W); it becomes the model's ``input_dim``
            unless ``kwargs`` give one, flattened to C * H * W for a model taking a flat
            ``input_dim`` (the fully connected net), and the model's ``input_shape``.
        **kwargs: the other constructor arguments (``num_classes``, ...).

    Returns:
        The model, whose ``input_shape`` is ``input_shape`` (so a flat model takes images).

    Raises:
        ValueError: as :func:`build`.
    """
    if name not in MODELS:
        return build(name)  # raises the unknown-model error
    shape = tuple(int(d) for d in input_shape)
    default = inspect.signature(MODELS[name]).parameters["input_dim"].default
    flat = int(np.prod(shape)) if isinstance(default, int) else shape
    model = build(name, **{"input_dim": flat, **kwargs})
    model.input_shape = shape
    return model
