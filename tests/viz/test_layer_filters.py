"""Filters of any convolution layer: channel_mosaic, plot_filters(channels=...), picking a layer
by name in a run's model file, and ``cnnlab figures RUN --filters LAYER``."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import models
from cnnlab.cli import main
from cnnlab.report.run import conv_weights, layer_filters, load_layer_filters
from cnnlab.viz.grid import channel_mosaic, plot_filters
from tests.report.test_report import make_run


def test_channel_mosaic_puts_filter_f_channel_c_at_row_f_column_c(rng):
    w = rng.standard_normal((3, 5, 2, 4))
    mosaic = channel_mosaic(w)
    assert mosaic.shape == (3 * 3 - 1, 5 * 5 - 1)
    for f in range(3):
        scale = np.abs(w[f]).max()
        for c in range(5):
            tile = mosaic[3 * f : 3 * f + 2, 5 * c : 5 * c + 4]
            np.testing.assert_allclose(tile, w[f, c] / scale, rtol=1e-15)
    assert np.all(mosaic[2::3] == -1) and np.all(mosaic[:, 4::5] == -1)  # the separators


def test_a_deep_layer_is_drawn_channel_by_channel(rng):
    w = rng.standard_normal((6, 48, 3, 3))
    image = plot_filters(w, title="conv2 filters").axes[0].images[0].get_array()
    np.testing.assert_array_equal(image, channel_mosaic(w))


def test_rgb_layer_is_drawn_as_pictures_unless_asked(rng):
    w = rng.standard_normal((4, 3, 3, 3))
    rgb = plot_filters(w).axes[0].images[0].get_array()
    assert rgb.shape[-1] == 3
    each = plot_filters(w, channels="each").axes[0].images[0].get_array()
    np.testing.assert_array_equal(each, channel_mosaic(w))


def test_layers_by_name_in_a_model_file():
    model = models.MiniAlexNet(
        input_dim=(3, 27, 27), widths=(2, 3, 4, 4, 2), hidden_dims=(4, 4), batchnorm=True, seed=0
    )
    arrays = {f"state/{k}": v for k, v in model.state_dict().items()}
    arrays["optim/conv1.weight/m"] = np.zeros((2, 3, 3, 3))
    assert list(conv_weights(arrays)) == [f"conv{i}.weight" for i in range(1, 6)]
    np.testing.assert_array_equal(layer_filters(arrays, "conv3"), model.params["conv3.weight"])
    np.testing.assert_array_equal(
        layer_filters(arrays, "conv3.weight"), model.params["conv3.weight"]
    )
    with pytest.raises(
        ValueError, match=r"no convolution layer 'fc1'; .*conv2.weight \(3, 2, 3, 3\)"
    ):
        layer_filters(arrays, "fc1")


def test_cli_figures_filters_of_a_named_layer(tmp_path, capsys):
    run_dir = make_run(tmp_path)
    first = load_layer_filters(run_dir, "conv")
    assert first.shape == (32, 3, 7, 7)
    assert main(["figures", str(run_dir), "--filters", "conv"]) == 0
    out = capsys.readouterr().out
    assert str(run_dir / "figures" / "filters_conv.png") in out
    assert (run_dir / "figures" / "filters_conv.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["figures", str(run_dir), "--filters", "conv9"]) == 1
    assert "no convolution layer 'conv9'" in capsys.readouterr().err
