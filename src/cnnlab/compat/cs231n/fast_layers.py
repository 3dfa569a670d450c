"""CS231n's ``fast_layers`` module under its own names.

CS231n ships two fast convolutions, ``conv_forward_strides`` and ``conv_forward_im2col``, whose
caches only fit their own backward pass; cnnlab has one fast convolution, so all three names
(``_fast``, ``_strides``, ``_im2col``) are the same function and their caches are interchangeable.
"""

from cnnlab.functional.conv import conv_backward, conv_forward
from cnnlab.functional.pool import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)

conv_forward_fast = conv_forward
conv_backward_fast = conv_backward
conv_forward_strides = conv_forward
conv_backward_strides = conv_backward
conv_forward_im2col = conv_forward
conv_backward_im2col = conv_backward
max_pool_forward_fast = max_pool_forward
max_pool_backward_fast = max_pool_backward
avg_pool_forward_fast = avg_pool_forward
avg_pool_backward_fast = avg_pool_backward

__all__ = [
    "avg_pool_backward_fast",
    "avg_pool_forward_fast",
    "conv_backward_fast",
    "conv_backward_im2col",
    "conv_backward_strides",
    "conv_forward_fast",
    "conv_forward_im2col",
    "conv_forward_strides",
    "max_pool_backward_fast",
    "max_pool_forward_fast",
]
