"""Figures of the notebooks, so that notebook cells are about the method (matplotlib, Agg-safe).

Every function draws with :func:`horq_ref.experiments.style.figure_style` and returns the figure.
The bound and training figures of the command line are in :mod:`horq_ref.experiments.plots`.
"""

from __future__ import annotations

import numpy as np

from .style import figure_style, image_panel, legend_outside

__all__ = ["plot_levels", "plot_orders_of_image", "plot_error_vs_order"]


def plot_levels(x, reconstructions):
    """The quantization staircase: each ``x`` against its order-K value, one panel per K.

    Parameters
    ----------
    x : ndarray, shape (n,)
        One group.
    reconstructions : dict
        ``{K: X_K}`` with ``X_K`` of shape (n,); the ``2^K`` distinct values are the levels.
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, axes = plt.subplots(1, len(reconstructions), figsize=(max(7.0, 3.4 * len(reconstructions)), 3.4),
                                 sharey=True)
        for ax, (K, xk) in zip(np.atleast_1d(axes), reconstructions.items()):
            ax.plot(x, x, color="0.6", linewidth=1, label="x itself")
            ax.plot(x, xk, ".", markersize=4, label="order-K value")
            for level in np.unique(xk):
                ax.axhline(level, color="C1", linewidth=0.6, alpha=0.7)
            ax.set_title(f"K = {K}: {np.unique(xk).size} levels")
            ax.set_xlabel("x")
        np.atleast_1d(axes)[0].set_ylabel("quantized value")
    return fig


def plot_orders_of_image(img, reconstructions, title="input"):
    """An image and its order-K reconstructions side by side, on one colour scale with a colorbar."""
    import matplotlib.pyplot as plt

    panels = [(title, img)] + [(f"K = {K}", r) for K, r in reconstructions.items()]
    lo = min(float(np.min(p)) for _, p in panels)
    hi = max(float(np.max(p)) for _, p in panels)
    with figure_style():
        fig, axes = plt.subplots(1, len(panels), figsize=(max(7.0, 2.3 * len(panels) + 1.2), 2.8))
        for k, (ax, (name, p)) in enumerate(zip(axes, panels)):
            im = image_panel(ax, p, name, vmin=lo, vmax=hi, colorbar=False)
        fig.colorbar(im, ax=list(axes), shrink=0.8, label="pixel value")
    return fig


def plot_error_vs_order(orders, measured, bounds):
    """Measured ``||R_K||^2 / ||X||^2`` against K (log scale) beside named bounds.

    Parameters
    ----------
    orders : sequence of int
    measured : dict ``{label: values}``, one value per order
    bounds : dict ``{label: values}``, drawn dashed
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.8))
        for label, values in measured.items():
            ax.semilogy(orders, values, "o-", label=label)
        for label, values in bounds.items():
            ax.semilogy(orders, values, "--", label=label)
        ax.set_xticks(list(orders))
        ax.set_xlabel("order K")
        ax.set_ylabel(r"$\|R_K\|^2 / \|X\|^2$")
        legend_outside(ax)
    return fig
