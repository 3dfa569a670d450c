"""How localised and how oriented learned filters are: two numbers per filter.

Sparse autoencoders, sparse coding and the first layer of a trained ConvNet on natural images
learn "localised oriented edges" (Gabor-like filters). These statistics put that description
into figures that can be compared across settings:

- :func:`localisation`: the share of a filter's energy (sum of squared weights) inside its best
  ``p/2 x p/2`` window. 0.25 for weights spread evenly over a ``p x p`` filter, 1 for weights
  confined to a quarter of it.
- :func:`orientation_selectivity`: how much of the filter's spectral power lies along a single
  orientation, ``|sum P(k) exp(2i theta(k))| / sum P(k)`` over the non-zero frequencies ``k`` of
  the mean-removed filter's 2-d power spectrum ``P``. 1 for a grating or a straight edge,
  about 0 for an isotropic blob, a centre-surround spot or white noise. The angle is doubled
  because a spectrum is symmetric (``P(k) = P(-k)``): theta and theta + pi are one orientation.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _as_filters(filters: np.ndarray, func: str) -> np.ndarray:
    """``filters`` as float64 after checking it is (F, H, W) with H, W >= 2 (``func`` names it)."""
    f = np.asarray(filters, dtype=np.float64)
    if f.ndim != 3 or f.shape[1] < 2 or f.shape[2] < 2:
        raise ValueError(
            f"{func}: expected filters of shape (F, H, W) with H, W >= 2, got shape {f.shape}"
        )
    return f


def localisation(filters: np.ndarray) -> np.ndarray:
    """Share of each filter's energy inside its best ``H//2 x W//2`` window.

    Args:
        filters: (F, H, W), e.g. an autoencoder's
            :attr:`~cnnlab.autoencoder.SparseAutoencoder.hidden_filters`.

    Returns:
        (F,) in [0.25-ish, 1]; an all-zero filter gives 0.

    Raises:
        ValueError: filters not of shape (F, H, W) with H, W >= 2.
    """
    f = _as_filters(filters, "localisation")
    energy = f * f
    window = (f.shape[1] // 2, f.shape[2] // 2)
    best = sliding_window_view(energy, window, axis=(1, 2)).sum(axis=(-1, -2))
    best = best.reshape(len(f), -1).max(axis=1)
    total = energy.sum(axis=(1, 2))
    return np.divide(best, total, out=np.zeros_like(total), where=total > 0)


def orientation_selectivity(filters: np.ndarray) -> np.ndarray:
    """Concentration of each filter's spectral power on one orientation.

    Each filter's mean is removed, its 2-d power spectrum taken (zero DC term), and the
    power-weighted mean of ``exp(2i theta)`` measured, theta the angle of the frequency vector.

    Args:
        filters: (F, H, W).

    Returns:
        (F,) in [0, 1]; a constant filter gives 0.

    Raises:
        ValueError: filters not of shape (F, H, W) with H, W >= 2.
    """
    f = _as_filters(filters, "orientation_selectivity")
    f = f - f.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(f)) ** 2  # (F, H, W)
    ky = np.fft.fftfreq(f.shape[1])[:, None]
    kx = np.fft.fftfreq(f.shape[2])[None, :]
    phase = np.exp(2j * np.arctan2(ky, kx))
    phase[0, 0] = 0.0  # DC has no orientation (and no power after mean removal)
    total = power.sum(axis=(1, 2))
    resultant = np.abs((power * phase).sum(axis=(1, 2)))
    return np.divide(resultant, total, out=np.zeros_like(total), where=total > 0)


def filter_summary(filters: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Medians of both statistics and the share of "localised oriented" filters.

    Args:
        filters: (F, H, W).
        threshold: the level both statistics must reach for a filter to count as localised
            and oriented.

    Returns:
        dict with ``localisation`` and ``orientation_selectivity`` (medians over filters) and
        ``localised_oriented`` (fraction of filters with both >= ``threshold``).

    Raises:
        ValueError: filters not of shape (F, H, W) with H, W >= 2.
    """
    loc = localisation(filters)
    osi = orientation_selectivity(filters)
    return {
        "localisation": float(np.median(loc)),
        "orientation_selectivity": float(np.median(osi)),
        "localised_oriented": float(np.mean((loc >= threshold) & (osi >= threshold))),
    }
