"""``ConvStack``: the named layers of a convolutional network while it is being built."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.nn import Conv2d, Module, ReLU, Sequential
from cnnlab.nn.init import Initializer, as_generator


class ConvStack:
    """Collects named layers in order, tracking the channel count.

    It also holds the settings every convolution and fully-connected layer of the network shares
    (initialiser, dtype, generator).

    Args:
        in_channels: C of the network's input (N, C, H, W).
        weight_init: initialiser name, float ``weight_scale`` or callable
            (:func:`cnnlab.nn.init.get_initializer`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights.

    Attributes:
        rng: the network's generator (from ``seed``), shared by its layers.
        kw: ``weight_init``, ``dtype`` and ``rng`` keyword arguments for Conv2d and Linear.
        layers: name -> layer, in order.
        channels: the channel count C of the output (N, C, H, W) so far.
    """

    def __init__(
        self,
        in_channels: int,
        weight_init: str | float | Initializer,
        dtype: type,
        seed: np.random.Generator | int | None,
    ) -> None:
        self.rng = as_generator(seed)
        self.kw: dict[str, Any] = {"weight_init": weight_init, "dtype": dtype, "rng": self.rng}
        self.layers: dict[str, Module] = {}
        self.channels = int(in_channels)

    def conv(self, name: str, width: int, kernel: int, **conv_kw: Any) -> None:
        """Append ``Conv2d(channels, width, kernel, **conv_kw)`` named ``name``."""
        self.layers[name] = Conv2d(self.channels, width, kernel, **self.kw, **conv_kw)
        self.channels = width

    def conv_relu(self, suffix: str | int, width: int, kernel: int, **conv_kw: Any) -> None:
        """Append ``conv<suffix>`` (as :meth:`conv`) and ``relu<suffix>``."""
        self.conv(f"conv{suffix}", width, kernel, **conv_kw)
        self.layers[f"relu{suffix}"] = ReLU()

    def net(self) -> Sequential:
        """The layers so far as a Sequential."""
        return Sequential(self.layers)
