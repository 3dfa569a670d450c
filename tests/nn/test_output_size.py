"""output_size: the flattened width of a module's output, from the layers' shape arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.nn import Conv2d, Flatten, MaxPool2d, Sequential
from cnnlab.nn.summary import output_size


@pytest.mark.parametrize(("height", "width"), [(8, 6), (9, 7)])
def test_conv_then_pool_gives_filters_times_pooled_area(height, width):
    # a 'same' 3x3 convolution keeps H and W, the 2x2 pool floors them to H // 2, W // 2
    net = Sequential({"conv": Conv2d(3, 4, 3, padding=1), "pool": MaxPool2d(2)})
    assert output_size(net, (3, height, width)) == 4 * (height // 2) * (width // 2)


def test_it_is_the_width_a_flatten_gives():
    net = Sequential({"conv": Conv2d(2, 5, 3, stride=2), "flatten": Flatten()})
    out = net.forward(np.zeros((1, 2, 11, 11), dtype=np.float32))
    assert output_size(net, (2, 11, 11)) == out.shape[1] == 5 * 5 * 5
