"""CS231n's ``layers`` module under its own names, so ``from cs231n.layers import *`` cells run
unchanged after rewriting the import to ``from cnnlab.compat.cs231n.layers import *``.

``dropout_param['p']`` is the probability of KEEPING a unit, as in CS231n since 2019.
"""

from cnnlab.functional.activation import relu_backward, relu_forward
from cnnlab.functional.conv import conv_backward_naive, conv_forward_naive
from cnnlab.functional.dropout import dropout_backward, dropout_forward
from cnnlab.functional.linear import affine_backward, affine_forward
from cnnlab.functional.loss import softmax_loss, svm_loss
from cnnlab.functional.norm import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from cnnlab.functional.pool import (
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

__all__ = [
    "affine_backward",
    "affine_forward",
    "avg_pool_backward_naive",
    "avg_pool_forward_naive",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "conv_backward_naive",
    "conv_forward_naive",
    "dropout_backward",
    "dropout_forward",
    "layernorm_backward",
    "layernorm_forward",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
    "svm_loss",
]
