"""Tiny float64 versions of every model, each with the same network written in torch.nn.

Each spec: (id, build() -> cnnlab model, torch(model) -> torch.nn.Module, input shape of X,
number of classes). The torch networks follow the models' documented layouts, written out here
independently of the cnnlab code.
"""

from __future__ import annotations

import numpy as np
from torch import nn as tnn

from cnnlab import models
from tests.models.torch_ref import MaskFrom, Residual

F64 = np.float64


def three_layer():
    return models.ThreeLayerConvNet(
        input_dim=(3, 7, 9),
        num_filters=4,
        filter_size=3,
        hidden_dim=6,
        num_classes=5,
        weight_scale=0.3,
        reg=0.2,
        dtype=F64,
        seed=0,
    )


def three_layer_torch(model):
    return tnn.Sequential(
        tnn.Conv2d(3, 4, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(4 * 3 * 4, 6),
        tnn.ReLU(),
        tnn.Linear(6, 5),
    )


def tf_three_layer():
    return models.TFThreeLayerConvNet(
        input_dim=(3, 6, 5), channel_1=4, channel_2=3, num_classes=4, reg=0.1, dtype=F64, seed=1
    )


def tf_three_layer_torch(model):
    return tnn.Sequential(
        tnn.Conv2d(3, 4, 5, padding=2),
        tnn.ReLU(),
        tnn.Conv2d(4, 3, 3, padding=1),
        tnn.ReLU(),
        tnn.Flatten(),
        tnn.Linear(3 * 6 * 5, 4),
    )


def fc(normalization, keep):
    def build():
        return models.FullyConnectedNet(
            [6, 5],
            input_dim=12,
            num_classes=4,
            dropout_keep_ratio=keep,
            normalization=normalization,
            reg=0.15,
            weight_scale=0.5,
            dtype=F64,
            seed=2,
        )

    return build


def fc_torch(normalization):
    def torch_net(model):
        norm = {None: None, "batchnorm": tnn.BatchNorm1d, "layernorm": tnn.LayerNorm}[normalization]
        layers = []
        for i, (d_in, d_out) in enumerate([(12, 6), (6, 5)], start=1):
            layers.append(tnn.Linear(d_in, d_out))
            if norm is not None:
                layers.append(norm(d_out))
            layers.append(tnn.ReLU())
            if f"dropout{i}" in model.net._modules:
                layers.append(MaskFrom(model.net[f"dropout{i}"]))
        return tnn.Sequential(tnn.Flatten(), *layers, tnn.Linear(5, 4))

    return torch_net


def mini_alexnet(batchnorm):
    def build():
        return models.MiniAlexNet(
            input_dim=(3, 27, 27),
            num_classes=4,
            widths=(3, 4, 5, 5, 4),
            hidden_dims=(7, 6),
            dropout=0.5,
            batchnorm=batchnorm,
            reg=0.05,
            dtype=F64,
            seed=3,
        )

    return build


def mini_alexnet_torch(model):
    w = (3, 4, 5, 5, 4)
    batchnorm = "bn1" in model.net._modules

    def conv(i, o):  # conv (bias-free before batch norm), batch norm, relu
        if batchnorm:
            return [tnn.Conv2d(i, o, 3, padding=1, bias=False), tnn.BatchNorm2d(o), tnn.ReLU()]
        return [tnn.Conv2d(i, o, 3, padding=1), tnn.ReLU()]

    return tnn.Sequential(
        *conv(3, w[0]),
        tnn.MaxPool2d(3),
        *conv(w[0], w[1]),
        tnn.MaxPool2d(3),
        *conv(w[1], w[2]),
        *conv(w[2], w[3]),
        *conv(w[3], w[4]),
        tnn.MaxPool2d(3),
        tnn.Flatten(),
        tnn.Linear(4, 7),
        tnn.ReLU(),
        MaskFrom(model.net["dropout"]),
        tnn.Linear(7, 6),
        tnn.ReLU(),
        tnn.Linear(6, 4),
    )


def resnet():
    return models.ResNet(
        input_dim=(3, 6, 6), num_classes=3, widths=(3, 4), blocks=(1, 2), reg=0.1, dtype=F64, seed=4
    )


def resnet_torch(model):
    def block(c_in, c_out, stride):
        body = tnn.Sequential(
            tnn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            tnn.BatchNorm2d(c_out),
            tnn.ReLU(),
            tnn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            tnn.BatchNorm2d(c_out),
        )
        short = None
        if stride != 1 or c_in != c_out:
            short = tnn.Sequential(
                tnn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), tnn.BatchNorm2d(c_out)
            )
        return Residual(body, short)

    return tnn.Sequential(
        tnn.Conv2d(3, 3, 3, padding=1, bias=False),
        tnn.BatchNorm2d(3),
        tnn.ReLU(),
        block(3, 3, 1),
        block(3, 4, 2),
        block(4, 4, 1),
        tnn.AdaptiveAvgPool2d(1),
        tnn.Flatten(),
        tnn.Linear(4, 3),
    )


def allconv():
    return models.AllConvNet(
        input_dim=(3, 8, 7), num_classes=3, widths=(3, 4), reg=0.1, dtype=F64, seed=5
    )


def allconv_torch(model):
    return tnn.Sequential(
        tnn.Conv2d(3, 3, 3, padding=1),
        tnn.ReLU(),
        tnn.Conv2d(3, 3, 3, stride=2, padding=1),
        tnn.ReLU(),
        tnn.Conv2d(3, 4, 3, padding=1),
        tnn.ReLU(),
        tnn.Conv2d(4, 4, 3, stride=2, padding=1),
        tnn.ReLU(),
        tnn.Conv2d(4, 4, 3, padding=1),
        tnn.ReLU(),
        tnn.Conv2d(4, 4, 1),
        tnn.ReLU(),
        tnn.Conv2d(4, 3, 1),
        tnn.AdaptiveAvgPool2d(1),
        tnn.Flatten(),
    )


def mnist():
    return models.MNISTNet(filters=(3, 2), reg=0.1, dtype=F64, seed=6)


def mnist_torch(model):
    return tnn.Sequential(
        tnn.Conv2d(1, 3, 5, bias=False),
        tnn.AvgPool2d(2),
        tnn.ReLU(),
        tnn.Conv2d(3, 2, 5, bias=False),
        tnn.AvgPool2d(2),
        tnn.ReLU(),
        tnn.Conv2d(2, 10, 3, bias=False),
        tnn.AvgPool2d(2),
        tnn.Flatten(),
    )


class SumHW(tnn.Module):
    """Sum over the spatial axes (seed 004's reduce_sum over height and width)."""

    def forward(self, x):
        return x.sum(dim=(2, 3))


def spatial_sum():
    return models.SpatialSumNet(
        input_dim=(3, 23, 22), widths=(3, 4, 5), num_classes=4, reg=0.1, dtype=F64, seed=7
    )


def spatial_sum_torch(model):
    return tnn.Sequential(
        tnn.Conv2d(3, 3, 5, stride=2),
        tnn.ReLU(),
        tnn.Conv2d(3, 4, 5),
        tnn.ReLU(),
        tnn.Conv2d(4, 5, 5),
        tnn.ReLU(),
        SumHW(),
        tnn.Linear(5, 4),
    )


def challenge(dropout):
    def build():
        return models.ChallengeNet(
            input_dim=(3, 33, 32),
            widths=(2, 3, 4),
            hidden_dims=(5, 3),
            num_classes=4,
            dropout=dropout,
            reg=0.1,
            dtype=F64,
            seed=8,
        )

    return build


def challenge_torch(model):
    def block(i, c_in, c_out, pad, pool):
        layers = [
            tnn.Conv2d(c_in, c_out, 3, padding=pad),
            tnn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01),  # keeps 99 % (cnnlab's 0.99)
            tnn.ELU(),
        ]
        if f"dropout{i}" in model.net._modules:
            layers.append(MaskFrom(model.net[f"dropout{i}"]))
        return [*layers, pool]

    return tnn.Sequential(
        *block(1, 3, 2, 1, tnn.MaxPool2d(2)),
        *block(2, 2, 3, 0, tnn.MaxPool2d(2)),
        *block(3, 3, 4, 0, tnn.AvgPool2d(5, stride=1)),
        tnn.Flatten(),
        tnn.Linear(4 * 1 * 1, 5),
        tnn.Linear(5, 3),
        tnn.Linear(3, 4),
    )


SPECS = [
    ("three_layer", three_layer, three_layer_torch, (3, 7, 9), 5),
    ("tf_three_layer", tf_three_layer, tf_three_layer_torch, (3, 6, 5), 4),
    ("fc", fc(None, 1), fc_torch(None), (3, 2, 2), 4),
    ("fc-batchnorm-dropout", fc("batchnorm", 0.7), fc_torch("batchnorm"), (3, 2, 2), 4),
    ("fc-layernorm", fc("layernorm", 1), fc_torch("layernorm"), (3, 2, 2), 4),
    ("mini_alexnet", mini_alexnet(False), mini_alexnet_torch, (3, 27, 27), 4),
    ("mini_alexnet-batchnorm", mini_alexnet(True), mini_alexnet_torch, (3, 27, 27), 4),
    ("resnet", resnet, resnet_torch, (3, 6, 6), 3),
    ("allconv", allconv, allconv_torch, (3, 8, 7), 3),
    ("mnist", mnist, mnist_torch, (1, 28, 28), 10),
    ("spatial_sum", spatial_sum, spatial_sum_torch, (3, 23, 22), 4),
    ("tf_challenge", challenge(0.0), challenge_torch, (3, 33, 32), 4),
    ("tf_challenge-dropout", challenge(0.5), challenge_torch, (3, 33, 32), 4),
]
