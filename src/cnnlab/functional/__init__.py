"""Stateless NumPy ops with the CS231n forward/backward contract.

Every op family has ``out, cache = <op>_forward(...)`` and ``grads = <op>_backward(dout, cache)``.
One module per family: :mod:`.conv`, :mod:`.pool`, :mod:`.linear`, :mod:`.activation`,
:mod:`.norm`, :mod:`.dropout`, :mod:`.loss`, :mod:`.upsample`, and the :mod:`.sandwich` layers
built from them. Where a ``_naive`` version exists (plain loops), the unsuffixed one is the fast
version with the same contract. :mod:`.tensor_ops` holds the small ops a forward pass is written
with (``add_forward``, ``matmul_forward``, ``sum_forward``, ...), the steps :mod:`cnnlab.autograd`
records for Tensor operators.
"""

from . import tensor_ops as tensor_ops  # the module itself (not in __all__: functions only)
from .activation import (
    elu_backward,
    elu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .conv import (
    conv_backward,
    conv_backward_fast,
    conv_backward_naive,
    conv_forward,
    conv_forward_fast,
    conv_forward_naive,
)
from .dropout import dropout_backward, dropout_forward
from .linear import affine_backward, affine_forward
from .loss import mse_loss, softmax_loss, svm_loss
from .norm import (
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
from .pool import (
    avg_pool_backward,
    avg_pool_backward_naive,
    avg_pool_forward,
    avg_pool_forward_naive,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward,
    max_pool_backward_naive,
    max_pool_forward,
    max_pool_forward_naive,
)
from .sandwich import (
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from .sparse_autoencoder import ae_cost
from .upsample import (
    upsample_nearest_backward,
    upsample_nearest_backward_naive,
    upsample_nearest_forward,
    upsample_nearest_forward_naive,
)

__all__ = [
    "ae_cost",
    "affine_backward",
    "affine_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "avg_pool_backward",
    "avg_pool_backward_naive",
    "avg_pool_forward",
    "avg_pool_forward_naive",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "conv_backward",
    "conv_backward_fast",
    "conv_backward_naive",
    "conv_bn_relu_backward",
    "conv_bn_relu_forward",
    "conv_forward",
    "conv_forward_fast",
    "conv_forward_naive",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
    "dropout_backward",
    "dropout_forward",
    "elu_backward",
    "elu_forward",
    "global_avg_pool_backward",
    "global_avg_pool_forward",
    "layernorm_backward",
    "layernorm_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "max_pool_backward",
    "max_pool_backward_naive",
    "max_pool_forward",
    "max_pool_forward_naive",
    "mse_loss",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
    "svm_loss",
    "tanh_backward",
    "tanh_forward",
    "upsample_nearest_backward",
    "upsample_nearest_backward_naive",
    "upsample_nearest_forward",
    "upsample_nearest_forward_naive",
]
