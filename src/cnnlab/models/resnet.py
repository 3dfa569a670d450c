"""``ResNet``: a small residual network with batch norm (the practical's advanced task)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnlab.nn import BatchNorm2d, Conv2d, GlobalAvgPool2d, Linear, ReLU, Residual, Sequential
from cnnlab.nn.init import as_generator

from .classifier import Classifier


def basic_block(
    in_channels: int, out_channels: int, stride: int, dtype: type, rng: np.random.Generator
) -> Residual:
    """A basic residual block: conv3x3(stride) - bn - relu - conv3x3 - bn, plus a shortcut.

    The shortcut is the identity, or a 1x1 conv (stride) - bn projection when the shape changes;
    ReLU after the sum. Convs have no bias (bn follows).

    Args:
        in_channels: C of the input (N, C, H, W).
        out_channels: channels of the output (N, out_channels, H / stride, W / stride).
        stride: stride of the first convolution (and of the projection).
        dtype: dtype of the parameters.
        rng: Generator of the weights.

    Returns:
        The block as a :class:`~cnnlab.nn.Residual`.
    """
    kw = {"bias": False, "dtype": dtype, "rng": rng}
    block = Sequential(
        {
            "conv1": Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, **kw),
            "bn1": BatchNorm2d(out_channels, dtype=dtype),
            "relu": ReLU(),
            "conv2": Conv2d(out_channels, out_channels, 3, padding=1, **kw),
            "bn2": BatchNorm2d(out_channels, dtype=dtype),
        }
    )
    shortcut = None
    if stride != 1 or in_channels != out_channels:
        shortcut = Sequential(
            {
                "conv": Conv2d(in_channels, out_channels, 1, stride=stride, **kw),
                "bn": BatchNorm2d(out_channels, dtype=dtype),
            }
        )
    return Residual(block, shortcut, relu=True)


class ResNet(Classifier):
    """A small residual network: stem, stages of basic blocks, global average pool, FC.

    stem conv3x3 - bn - relu, then one stage per width with ``blocks`` basic residual blocks
    each (every stage after the first starts with stride 2), global average pool, FC.

    Defaults (widths 16, 32, 64, one block per stage) give a ResNet-8 for (3, 32, 32) inputs;
    ``blocks=(3, 3, 3)`` gives the CIFAR ResNet-20 layout. Kaiming-normal weights.

    Args:
        input_dim: (C, H, W) of one image.
        num_classes: number of class scores.
        widths: channels of each stage.
        blocks: blocks per stage, one int for all or one count per width.
        reg: L2 strength of the loss's weight penalty (see :class:`Classifier`).
        dtype: dtype of the parameters.
        seed: seed or Generator of the weights.

    Raises:
        ValueError: ``blocks`` with a count per stage that does not match ``widths``.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (3, 32, 32),
        num_classes: int = 10,
        widths: Sequence[int] = (16, 32, 64),
        blocks: int | Sequence[int] = 1,
        reg: float = 0.0,
        dtype: type = np.float32,
        seed: np.random.Generator | int | None = None,
    ) -> None:
        rng = as_generator(seed)
        counts = [blocks] * len(widths) if isinstance(blocks, int) else list(blocks)
        if len(counts) != len(widths):
            raise ValueError(f"ResNet: blocks {blocks} must give one count per width {widths}")
        layers: dict = {
            "stem_conv": Conv2d(
                input_dim[0], widths[0], 3, padding=1, bias=False, dtype=dtype, rng=rng
            ),
            "stem_bn": BatchNorm2d(widths[0], dtype=dtype),
            "stem_relu": ReLU(),
        }
        channels = widths[0]
        for s, (width, count) in enumerate(zip(widths, counts, strict=True), start=1):
            stage = Sequential()
            for b in range(count):
                stride = 2 if s > 1 and b == 0 else 1
                stage.append(basic_block(channels, width, stride, dtype, rng))
                channels = width
            layers[f"stage{s}"] = stage
        layers["gap"] = GlobalAvgPool2d()
        layers["fc"] = Linear(channels, num_classes, dtype=dtype, rng=rng)
        super().__init__(Sequential(layers), reg=reg, dtype=dtype, input_shape=input_dim)
