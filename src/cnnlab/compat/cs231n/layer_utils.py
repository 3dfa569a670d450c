"""CS231n's ``layer_utils`` module (the sandwich layers) under its own names."""

from cnnlab.functional.sandwich import (
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)

__all__ = [
    "affine_relu_backward",
    "affine_relu_forward",
    "conv_bn_relu_backward",
    "conv_bn_relu_forward",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
]
