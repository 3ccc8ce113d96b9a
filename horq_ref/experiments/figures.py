"""Figures of the notebooks, so that notebook cells are about the method (matplotlib, Agg-safe).

Every function draws with :func:`horq_ref.experiments.style.figure_style` and returns the figure.
The bound and training figures of the command line are in :mod:`horq_ref.experiments.plots`.
"""

from __future__ import annotations

import numpy as np

from .style import figure_style, image_panel, legend_outside

__all__ = ["plot_levels", "plot_orders_of_image", "plot_error_vs_order", "plot_planes_and_residuals",
           "plot_levels_histogram", "plot_row_scales", "plot_scales_over_dataset", "plot_scale_growth"]


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


def plot_orders_of_image(img, reconstructions, title="input", errors=None):
    """An image and its order-K reconstructions side by side, on one colour scale with a colorbar.

    ``errors``, optional ``{K: ||R_K||^2 / ||X||^2}``, is printed in the titles.
    """
    import matplotlib.pyplot as plt

    panels = [(title, img)] + [(f"K = {K}" + (f", error {errors[K]:.3f}" if errors is not None else ""), r)
                               for K, r in reconstructions.items()]
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


def plot_planes_and_residuals(x, e):
    """Top: the image and its planes ``H_i`` (+1 white); bottom: the residuals ``R_i`` on one scale."""
    import matplotlib.pyplot as plt

    K = e.order
    with figure_style():
        fig, axes = plt.subplots(2, K + 1, figsize=(2.3 * (K + 1) + 1.5, 4.8))
        image_panel(axes[0, 0], x, "image $X$", colorbar=False)
        for i in range(K):
            im = image_panel(axes[0, i + 1], e.signs[i], f"$H_{i + 1}$: {np.mean(e.signs[i] == 1):.0%} +1",
                             vmin=-1, vmax=1, colorbar=False)
        fig.colorbar(im, ax=list(axes[0]), shrink=0.8, ticks=[-1, 1], label="plane entry")
        lim = float(np.abs(e.residuals).max())
        for i in range(K + 1):
            im = image_panel(axes[1, i], e.residuals[i], f"$R_{i}$", vmin=-lim, vmax=lim, cmap="RdBu_r",
                             colorbar=False)
        fig.colorbar(im, ax=list(axes[1]), shrink=0.8, label="residual value")
    return fig


def plot_levels_histogram(x, e):
    """Pixel values against the ``2^K`` levels (left) and the transfer function x -> X_K (right)."""
    import matplotlib.pyplot as plt

    order = np.argsort(x.ravel(), kind="stable")
    with figure_style():
        fig, (a0, a1) = plt.subplots(1, 2, figsize=(9.0, 3.6))
        a0.hist(x.ravel(), bins=64, color="0.6", log=True, label="pixel values")
        for j, level in enumerate(e.levels()):
            a0.axvline(level, color="C3", lw=1, label=f"the {len(e.levels())} levels" if j == 0 else None)
        a0.set_xlabel("value")
        a0.set_ylabel("pixels (log)")
        a0.legend(loc="upper right")
        a1.plot(x.ravel()[order], e.reconstruct().ravel()[order], ".", ms=3)
        a1.set_xlabel("pixel value $x$")
        a1.set_ylabel(rf"$\tilde X_{e.order}$ at that pixel")
        a1.set_title(f"transfer function, K = {e.order}")
    return fig


def plot_row_scales(e_rows, errors):
    """``beta_i`` of every image row (left) and the reconstructions with one scale per row."""
    import matplotlib.pyplot as plt

    K = e_rows.order
    with figure_style():
        fig, axes = plt.subplots(1, K + 1, figsize=(2.3 * (K + 1) + 1.5, 3.0))
        for i in range(K):
            axes[0].plot(e_rows.betas[i, :, 0], np.arange(e_rows.betas.shape[1]), label=f"$\\beta_{i + 1}$")
        axes[0].invert_yaxis()
        axes[0].set_xlabel("scale")
        axes[0].set_ylabel("row")
        legend_outside(axes[0])
        for k in range(1, K + 1):
            im = image_panel(axes[k], e_rows.reconstruct(k), f"K={k}: {errors[k]:.3f}", vmin=0, vmax=1,
                             colorbar=False)
        fig.colorbar(im, ax=list(axes[1:]), shrink=0.8, label="pixel value")
    return fig


def plot_scales_over_dataset(B, ratio21):
    """Box plots of the scales ``B`` (K, M) of M images, and the histogram of ``beta_2 / beta_1``."""
    import matplotlib.pyplot as plt

    with figure_style():
        fig, (a0, a1) = plt.subplots(1, 2, figsize=(9.0, 3.6))
        a0.boxplot(list(B), showfliers=False)
        a0.set_xticks(range(1, len(B) + 1), [f"$\\beta_{i}$" for i in range(1, len(B) + 1)])
        a0.set_ylabel("scale")
        a0.set_title(f"scales of {B.shape[1]:,} images")
        a1.hist(ratio21, bins=50, color="C0")
        a1.axvline(1.0, color="k", ls="--", label="1 (no growth)")
        a1.set_xlabel(r"$\beta_2/\beta_1$")
        a1.set_ylabel("images")
        a1.legend(loc="upper left")
    return fig


def plot_scale_growth(ns, bound, sparse_ratio, gr):
    """``beta_2/beta_1`` of 1-sparse inputs against ``2(1-1/n)``, and ratios of Gaussian groups of 3."""
    import matplotlib.pyplot as plt

    with figure_style():
        fig, (a0, a1) = plt.subplots(1, 2, figsize=(10.0, 3.6))
        a0.plot(ns, bound, "k-", label=r"$2(1-1/n)$")
        a0.plot(ns, sparse_ratio, "o", label=r"1-sparse: $\beta_2/\beta_1$")
        a0.axhline(1, color="0.5", ls=":")
        a0.set_xlabel("n")
        a0.legend(loc="lower right")
        a1.hist(gr.T, bins=40, histtype="step", label=[f"$\\beta_{i + 2}/\\beta_{i + 1}$" for i in range(len(gr))])
        a1.axvline(4 / 3, color="k", label="bound 4/3")
        a1.axvline(2 / 3, color="k", ls="--", label="2/3 (i >= 2)")
        a1.set_xlabel("consecutive scales, Gaussian groups of n = 3")
        legend_outside(a1)
    return fig
