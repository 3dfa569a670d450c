"""Image processing with convolutions (the CS231n aside).

Two hand-set 3x3 filters, a grayscale converter and a horizontal Sobel edge detector on the blue
channel, applied with ``conv_forward`` to scikit-image's bundled photographs.
"""

from __future__ import annotations

import numpy as np
import skimage.data
from matplotlib.figure import Figure
from skimage.transform import resize

from cnnlab.functional.conv import conv_forward
from cnnlab.viz._common import PathLike, finish, new_figure, scale_to_range

#: scikit-image's bundled photographs used by the demo, with captions.
PHOTOS: tuple[tuple[str, str], ...] = (
    ("chelsea", "cat"),
    ("coffee", "coffee"),
    ("astronaut", "astronaut"),
)


def demo_filters() -> tuple[np.ndarray, np.ndarray]:
    """The demo's weights (2, 3, 3, 3) and biases (2,).

    Filter 0 weighs the centre pixel's red, green and blue by 0.3, 0.6 and 0.1 (grayscale);
    filter 1 is the horizontal Sobel kernel [[1, 2, 1], [0, 0, 0], [-1, -2, -1]] on the blue
    channel, with bias 128 so that a flat region comes out mid-grey.
    """
    w = np.zeros((2, 3, 3, 3))
    w[0, :, 1, 1] = [0.3, 0.6, 0.1]
    w[1, 2] = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]
    b = np.array([0.0, 128.0])
    return w, b


def square_photo(name: str, size: int) -> np.ndarray:
    """A bundled scikit-image photograph as (3, size, size) float64 in [0, 255].

    It is centre-cropped to a square and resized.
    """
    photo = getattr(skimage.data, name)()
    h, w = photo.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = photo[top : top + side, left : left + side, :3]
    resized = resize(square, (size, size), preserve_range=True, anti_aliasing=True)
    return resized.transpose(2, 0, 1).astype(np.float64)


def apply_demo_filters(x: np.ndarray) -> np.ndarray:
    """Convolve images x (N, 3, H, W) with :func:`demo_filters` (stride 1, pad 1).

    Returns (N, 2, H, W): channel 0 the grayscale image, channel 1 the edge response + 128.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"apply_demo_filters: x must be (N, 3, H, W); got {x.shape}")
    w, b = demo_filters()
    out, _ = conv_forward(x, w, b, {"stride": 1, "pad": 1})
    return out


def plot_conv_demo(
    size: int = 200,
    *,
    path: PathLike | None = None,
    figsize: tuple[float, float] = (9.0, 9.6),
    dpi: float = 100,
) -> Figure:
    """One row per photograph (cat, coffee, astronaut) with the filters' outputs.

    The original, the grayscale filter's output and the edge filter's output, the outputs min-max
    scaled for display.
    """
    x = np.stack([square_photo(name, size) for name, _ in PHOTOS])
    out = apply_demo_filters(x)
    fig = new_figure(figsize, dpi)
    axes = fig.subplots(len(PHOTOS), 3)
    for row, (_, caption) in enumerate(PHOTOS):
        original = np.clip(x[row].transpose(1, 2, 0) / 255.0, 0.0, 1.0)
        panels = (original, scale_to_range(out[row, 0], 1.0), scale_to_range(out[row, 1], 1.0))
        for col, panel in enumerate(panels):
            axes[row, col].imshow(panel, cmap="gray", vmin=0.0, vmax=1.0)
            axes[row, col].set_axis_off()
        axes[row, 0].set_title(f"original: {caption}", fontsize=10)
        axes[row, 1].set_title("grayscale (0.3 R + 0.6 G + 0.1 B)", fontsize=10)
        axes[row, 2].set_title("horizontal edges (Sobel on blue)", fontsize=10)
    fig.suptitle(f"Convolution as image processing: two 3x3 filters on {size} x {size} photos")
    return finish(fig, path)
