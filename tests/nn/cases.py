"""The layer table: one :class:`ModuleInfo` entry per configuration of a ``cnnlab.nn`` layer
(PyTorch's ModuleInfo idea), each with its ``torch.nn`` twin.

The generic tests in ``test_layers.py`` run on every entry: forward, input gradient, parameter
gradients and running statistics against the twin (float64), backward against central
differences, and the bad inputs; one more test checks that every layer class exported by
``cnnlab.nn`` has an entry. Adding a layer therefore means adding entries here.

The conventions that differ from PyTorch's are converted here, once (ARCHITECTURE.md,
Conventions): a Linear weight is (in, out), the transpose of torch's; batch-norm momentum 0.9
is torch's 0.1 and the running variance is the biased one; nn.Dropout draws the mask of its
k-th training pass from ``default_rng((key, k))``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn as tnn

from cnnlab import nn

from ..functional.cases import msg

F64 = np.float64


@dataclass(frozen=True)
class ModuleInfo:
    """Everything the generic tests need to know about one layer configuration.

    Attributes:
        name: the entry's name (test ids).
        make: ``make(rng)`` -> the cnnlab layer in float64, in the mode to test.
        twin: ``twin(layer)`` -> the torch.nn layer computing the same (its parameters are
            overwritten with the layer's, through :func:`to_torch`).
        input_shape: the shape of the input x.
        rewind: called before every forward pass, for layers whose state advances per pass
            (dropout's mask counter), so that central differences see one function.
        bad_inputs: ``(input shape, pattern)`` pairs: forward must raise a ``ValueError``
            matching the pattern.
    """

    name: str
    make: Callable[[np.random.Generator], nn.Module]
    twin: Callable[[nn.Module], tnn.Module]
    input_shape: tuple[int, ...]
    rewind: Callable[[nn.Module], None] | None = None
    bad_inputs: tuple[tuple[tuple[int, ...], str], ...] = ()

    def forward(self, layer: nn.Module, x: np.ndarray) -> np.ndarray:
        """``layer.forward(x)`` after :attr:`rewind`."""
        if self.rewind is not None:
            self.rewind(layer)
        return layer.forward(x)


# ----------------------------------------------------------------- conventions, converted once


def to_torch(module: nn.Module, key: str, value: np.ndarray) -> np.ndarray:
    """A cnnlab parameter or buffer in torch's layout (the conversion is its own inverse)."""
    if isinstance(module, nn.Linear) and key == "weight":
        return value.T
    return value


def running_stat_from_torch(
    module: nn.Module, key: str, torch_value: np.ndarray, before: np.ndarray, count: int
) -> np.ndarray:
    """What cnnlab's running statistic must be, given torch's after one training pass.

    Both blend ``momentum * before + (1 - momentum) * batch`` (the twin gets torch momentum
    ``1 - momentum``); torch's batch variance is the unbiased one (divided by ``count - 1``,
    ``count`` values per channel), cnnlab's the biased one (divided by ``count``). In eval
    mode neither changes.
    """
    if key != "running_var" or not module.training:
        return torch_value
    m = module.momentum
    return m * before + (torch_value - m * before) * (count - 1) / count


def _randomise_stats(layer: nn.Module, rng: np.random.Generator) -> nn.Module:
    """Running statistics away from their start (means normal, variances in [0.5, 2])."""
    layer.buffers["running_mean"][...] = rng.standard_normal(layer.num_features)
    layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, layer.num_features)
    return layer


def _rewind_dropout(layer: nn.Module) -> None:
    layer.buffers["rng_state"][1] = 0


class _TorchFlatLinear(tnn.Linear):
    """torch twin of nn.Linear, which flattens each sample of x (N, d1, ..., dk) first."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(1))


class _TorchMaskDropout(tnn.Module):
    """torch twin of a training nn.Dropout on its first pass: the mask
    ``default_rng((key, 0)).random(x.shape) >= p``, kept units scaled by 1 / (1 - p)."""

    def __init__(self, layer: nn.Dropout) -> None:
        super().__init__()
        self.key, self.p = int(layer.buffers["rng_state"][0]), layer.p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keep = np.random.default_rng((self.key, 0)).random(tuple(x.shape)) < 1 - self.p
        return x * torch.from_numpy(keep / (1 - self.p))


class _TorchResidual(tnn.Module):
    """torch twin of nn.Residual: ``relu(block(x) + shortcut(x))`` (the same child names)."""

    def __init__(
        self, block: tnn.Module, shortcut: tnn.Module | None = None, relu: bool = True
    ) -> None:
        super().__init__()
        self.block, self.shortcut, self.relu = block, shortcut, relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x) + (x if self.shortcut is None else self.shortcut(x))
        return torch.relu(out) if self.relu else out


def _bn_twin(kind: type) -> Callable[[nn.Module], tnn.Module]:
    return lambda layer: kind(layer.num_features, eps=layer.eps, momentum=1 - layer.momentum)


# ------------------------------------------------------------------------------- the table


def _conv_bn_block(rng: np.random.Generator, c: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c, c, 3, padding=1, dtype=F64, rng=rng),
        nn.BatchNorm2d(c, dtype=F64),
        nn.ReLU(),
        nn.Conv2d(c, c, 3, padding=1, dtype=F64, rng=rng),
    )


def _torch_conv_bn_block(c: int) -> tnn.Sequential:
    return tnn.Sequential(
        tnn.Conv2d(c, c, 3, padding=1),
        tnn.BatchNorm2d(c, momentum=0.1),
        tnn.ReLU(),
        tnn.Conv2d(c, c, 3, padding=1),
    )


MODULES: tuple[ModuleInfo, ...] = (
    ModuleInfo(
        "linear",
        lambda r: nn.Linear(6, 4, dtype=F64, rng=r),
        lambda layer: _TorchFlatLinear(6, 4),
        (3, 6),
        bad_inputs=(((3, 7), msg("affine", "7", "(6, 4)")),),
    ),
    ModuleInfo(
        "linear-4d-input",
        lambda r: nn.Linear(2 * 3 * 2, 5, dtype=F64, rng=r),
        lambda layer: _TorchFlatLinear(12, 5),
        (2, 2, 3, 2),
    ),
    ModuleInfo(
        "linear-no-bias",
        lambda r: nn.Linear(6, 4, bias=False, dtype=F64, rng=r),
        lambda layer: _TorchFlatLinear(6, 4, bias=False),
        (1, 6),
    ),
    ModuleInfo(
        "conv",
        lambda r: nn.Conv2d(3, 4, 3, padding=1, dtype=F64, rng=r),
        lambda layer: tnn.Conv2d(3, 4, 3, padding=1),
        (2, 3, 5, 6),
        bad_inputs=(
            ((2, 2, 5, 6), msg("conv2d", "channels", "(2, 2, 5, 6)")),
            ((3, 5, 6), msg("conv2d", "4-D", "(3, 5, 6)")),
        ),
    ),
    ModuleInfo(
        "conv-stride-pad-dilation",
        lambda r: nn.Conv2d(
            2, 3, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), dtype=F64, rng=r
        ),
        lambda layer: tnn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        (2, 2, 7, 6),
    ),
    ModuleInfo(
        "conv-1x1-no-bias",
        lambda r: nn.Conv2d(3, 2, 1, stride=2, bias=False, dtype=F64, rng=r),
        lambda layer: tnn.Conv2d(3, 2, 1, stride=2, bias=False),
        (2, 3, 5, 5),
    ),
    ModuleInfo(
        "conv-same-no-bias",
        lambda r: nn.Conv2d(2, 3, 5, padding="same", bias=False, dtype=F64, rng=r),
        lambda layer: tnn.Conv2d(2, 3, 5, padding="same", bias=False),
        (1, 2, 6, 5),
    ),
    ModuleInfo(
        "maxpool",
        lambda r: nn.MaxPool2d(2),
        lambda layer: tnn.MaxPool2d(2),
        (2, 3, 4, 6),
        bad_inputs=(((1, 1, 1, 3), msg("max_pool2d", "2x2", "(1, 1, 1, 3)")),),
    ),
    ModuleInfo(
        "maxpool-overlap-pad",
        lambda r: nn.MaxPool2d(3, stride=2, padding=1),
        lambda layer: tnn.MaxPool2d(3, stride=2, padding=1),
        (2, 2, 7, 5),
    ),
    ModuleInfo(
        "maxpool-pad-ceil",
        lambda r: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        lambda layer: tnn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        (2, 2, 6, 7),
        bad_inputs=(((2, 6, 7), msg("max_pool2d", "4-D", "(2, 6, 7)")),),
    ),
    ModuleInfo("avgpool", lambda r: nn.AvgPool2d(2), lambda layer: tnn.AvgPool2d(2), (2, 3, 4, 6)),
    ModuleInfo(
        "avgpool-ceil",
        lambda r: nn.AvgPool2d(2, ceil_mode=True),
        lambda layer: tnn.AvgPool2d(2, ceil_mode=True),
        (1, 2, 5, 5),
    ),
    ModuleInfo(
        "avgpool-exclude-pad",
        lambda r: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
        lambda layer: tnn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
        (2, 2, 5, 6),
    ),
    ModuleInfo(
        "avgpool-include-pad",
        lambda r: nn.AvgPool2d(2, 1, padding=1),
        lambda layer: tnn.AvgPool2d(2, 1, padding=1),
        (1, 2, 4, 3),
        bad_inputs=(((2, 4, 3), msg("avg_pool2d", "4-D", "(2, 4, 3)")),),
    ),
    ModuleInfo(
        "global-avgpool",
        lambda r: nn.GlobalAvgPool2d(),
        lambda layer: tnn.Sequential(tnn.AdaptiveAvgPool2d(1), tnn.Flatten()),
        (2, 3, 4, 5),
        bad_inputs=(((2, 3), msg("global_avg_pool2d", "4-D", "(2, 3)")),),
    ),
    ModuleInfo("relu", lambda r: nn.ReLU(), lambda layer: tnn.ReLU(), (3, 7)),
    ModuleInfo("leaky-relu", lambda r: nn.LeakyReLU(0.2), lambda layer: tnn.LeakyReLU(0.2), (3, 7)),
    ModuleInfo("elu", lambda r: nn.ELU(0.7), lambda layer: tnn.ELU(0.7), (2, 3, 2, 2)),
    ModuleInfo("sigmoid", lambda r: nn.Sigmoid(), lambda layer: tnn.Sigmoid(), (3, 7)),
    ModuleInfo("tanh", lambda r: nn.Tanh(), lambda layer: tnn.Tanh(), (3, 7)),
    ModuleInfo(
        "batchnorm1d",
        lambda r: nn.BatchNorm1d(5, dtype=F64),
        _bn_twin(tnn.BatchNorm1d),
        (6, 5),
        bad_inputs=(((6, 4), msg("batchnorm", "(6, 4)", "(5,)")),),
    ),
    ModuleInfo(
        "batchnorm1d-momentum",
        lambda r: nn.BatchNorm1d(3, momentum=0.5, eps=1e-3, dtype=F64),
        _bn_twin(tnn.BatchNorm1d),
        (8, 3),
    ),
    ModuleInfo(
        "batchnorm1d-eval",
        lambda r: _randomise_stats(nn.BatchNorm1d(4, dtype=F64), r).eval(),
        _bn_twin(tnn.BatchNorm1d),
        (1, 4),
    ),
    ModuleInfo(
        "batchnorm2d",
        lambda r: nn.BatchNorm2d(3, dtype=F64),
        _bn_twin(tnn.BatchNorm2d),
        (4, 3, 2, 3),
        bad_inputs=(((4, 3), msg("spatial_batchnorm", "4-D", "(4, 3)")),),
    ),
    ModuleInfo(
        "batchnorm2d-eval",
        lambda r: _randomise_stats(nn.BatchNorm2d(3, dtype=F64), r).eval(),
        _bn_twin(tnn.BatchNorm2d),
        (2, 3, 2, 3),
    ),
    ModuleInfo(
        "layernorm",
        lambda r: nn.LayerNorm(5, dtype=F64),
        lambda layer: tnn.LayerNorm(5),
        (3, 5),
    ),
    ModuleInfo(
        "layernorm-chw",
        lambda r: nn.LayerNorm((2, 3, 2), eps=1e-3, dtype=F64),
        lambda layer: tnn.LayerNorm((2, 3, 2), eps=1e-3),
        (3, 2, 3, 2),
        bad_inputs=(((3, 2, 3, 3), msg("LayerNorm", "(3, 2, 3, 3)")),),
    ),
    ModuleInfo(
        "groupnorm",
        lambda r: nn.GroupNorm(2, 4, dtype=F64),
        lambda layer: tnn.GroupNorm(2, 4),
        (2, 4, 3, 3),
        bad_inputs=(((2, 3, 3, 3), msg("spatial_groupnorm", "(2, 3, 3, 3)")),),
    ),
    ModuleInfo(
        "groupnorm-one-group",
        lambda r: nn.GroupNorm(1, 3, dtype=F64),
        lambda layer: tnn.GroupNorm(1, 3),
        (1, 3, 2, 3),
    ),
    ModuleInfo(
        "dropout-fixed-mask",
        lambda r: nn.Dropout(0.4, rng=r),
        _TorchMaskDropout,
        (5, 8),
        rewind=_rewind_dropout,
    ),
    ModuleInfo(
        "dropout-eval",
        lambda r: nn.Dropout(0.4, rng=r).eval(),
        lambda layer: tnn.Dropout(0.4),
        (2, 3, 2, 2),
    ),
    ModuleInfo(
        "flatten",
        lambda r: nn.Flatten(),
        lambda layer: tnn.Flatten(),
        (2, 3, 2, 2),
        bad_inputs=(((), msg("Flatten", "()")),),
    ),
    ModuleInfo(
        "upsample",
        lambda r: nn.Upsample(scale_factor=2, mode="nearest"),
        lambda layer: tnn.Upsample(scale_factor=2, mode="nearest"),
        (2, 3, 3, 4),
        bad_inputs=(((2, 3, 4), msg("upsample_nearest", "4-D", "(2, 3, 4)")),),
    ),
    ModuleInfo(
        "upsample-3",
        lambda r: nn.Upsample(3),
        lambda layer: tnn.Upsample(scale_factor=3),
        (1, 1, 2, 1),
    ),
    ModuleInfo(
        "sequential",
        lambda r: nn.Sequential(
            nn.Conv2d(2, 3, 3, dtype=F64, rng=r),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(3 * 3 * 2, 4, dtype=F64, rng=r),
        ),
        lambda layer: tnn.Sequential(
            tnn.Conv2d(2, 3, 3), tnn.Tanh(), tnn.Flatten(), tnn.Linear(3 * 3 * 2, 4)
        ),
        (2, 2, 5, 4),
        bad_inputs=(((2, 3, 5, 4), r"^layer '0' Conv2d.*\(2, 3, 5, 4\).*conv2d: .*channels"),),
    ),
    ModuleInfo(
        "residual-identity",
        lambda r: nn.Residual(_conv_bn_block(r, 3)),
        lambda layer: _TorchResidual(_torch_conv_bn_block(3)),
        (3, 3, 4, 4),
    ),
    ModuleInfo(
        "residual-projection-no-relu",
        lambda r: nn.Residual(
            nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=F64, rng=r), nn.Tanh()),
            nn.Conv2d(3, 4, 1, stride=2, dtype=F64, rng=r),
            relu=False,
        ),
        lambda layer: _TorchResidual(
            tnn.Sequential(tnn.Conv2d(3, 4, 3, stride=2, padding=1), tnn.Tanh()),
            tnn.Conv2d(3, 4, 1, stride=2),
            relu=False,
        ),
        (2, 3, 5, 5),
    ),
)
