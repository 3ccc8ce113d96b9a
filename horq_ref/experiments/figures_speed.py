"""Figures of the cost and speed notebooks (06, 06b, 08), so that their cells are about the method.

Every function draws with :func:`horq_ref.experiments.style.figure_style` and returns the figure; the
numbers come from :mod:`horq_ref.cost`, :mod:`horq_ref.experiments.bench` and
:mod:`horq_ref.binary_backward`, computed in the notebook and passed in.
"""

from __future__ import annotations

import numpy as np

from .style import figure_style, image_panel, legend_outside, reference_line

__all__ = ["plot_speedup_model", "plot_weight_memory", "plot_measured_vs_model", "plot_time_breakdown",
           "plot_backward_operands", "plot_rounding_ratios", "plot_forward_backward_costs"]


def plot_speedup_model(channels, orders, kernel_sizes, values):
    """The speed model ``S_K`` against the input channels, one panel per kernel size.

    Parameters
    ----------
    channels : sequence of int, length C
    orders : sequence of int, length O
    kernel_sizes : sequence of (kh, kw), length S
    values : ndarray, shape (S, C, O)
        ``S_K`` for every kernel size, channel count and order; dotted lines mark the limit ``64 / K``.
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, axes = plt.subplots(1, len(kernel_sizes), figsize=(12.0, 3.6), sharey=True, squeeze=False)
        for s, (ax, (kh, kw)) in enumerate(zip(axes[0], kernel_sizes)):
            for j, K in enumerate(orders):
                ax.plot(channels, values[s, :, j], "o-", color=f"C{j}", ms=4, label=f"K = {K}")
                ax.axhline(64 / K, color=f"C{j}", ls=":", lw=1)
            ax.set_xscale("log", base=2)
            ax.set_xticks(list(channels), [str(c) for c in channels], rotation=45)
            ax.set_xlabel("input channels c")
            ax.set_title(f"{kh}x{kw} kernel (dotted: 64/K)")
        axes[0, 0].set_ylabel("speedup $S_K$ (model)")
        legend_outside(axes[0, -1])
    return fig


def plot_weight_memory(ns, ratio_n, mult64, ratio_64):
    """float32 bytes over packed bytes of one filter's weights against its size ``n`` (log x axis).

    Parameters
    ----------
    ns, ratio_n : ndarray, shape (m,)
        Filter sizes and their ratios (any ``n``).
    mult64, ratio_64 : ndarray, shape (p,)
        The multiples of 64 and their ratios ``32 n / (n + 32)``.
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(9.0, 3.4))
        ax.semilogx(ns, ratio_n, "-", lw=1, label="any n")
        ax.semilogx(mult64, ratio_64, "-", lw=2, alpha=0.7, label="n a multiple of 64:\n32n / (n + 32)")
        reference_line(ax, 32, "32")
        ax.set_xlabel("entries per filter n = C kh kw")
        ax.set_ylabel("float32 / packed bytes")
        ax.set_title("weight memory ratio (one float32 alpha per filter included)")
        legend_outside(ax)
    return fig


def plot_measured_vs_model(orders, measured, model):
    """Measured float/bits time ratios beside the model ``S_K`` (left) and their decline with K (right).

    Parameters
    ----------
    orders : sequence of int, length O
    measured : dict
        ``{label: ratios}``, one measured ratio per order.
    model : dict
        ``{label: S_K values}``, one per order, drawn in black (dashed, then dotted).
    """
    import matplotlib.pyplot as plt

    ks = np.asarray(orders)
    with figure_style():
        fig, (a0, a1) = plt.subplots(1, 2, figsize=(12.0, 3.8))
        for j, (label, ratio) in enumerate(measured.items()):
            ratio = np.asarray(ratio, dtype=float)
            a0.semilogy(ks, ratio, "o-", color=f"C{j}", label=f"measured, {label}")
            a1.plot(ks, ratio / ratio[0], "o-", color=f"C{j}", label=label)
        for style, (label, values) in zip(("k--", "k:", "k-."), model.items()):
            a0.semilogy(ks, values, style, label=label)
        a0.axhline(1, color="0.5", lw=1)
        a1.plot(ks, 1 / ks, "k--", label="model: 1/K")
        a0.set_ylabel("float32 BLAS time / bits time")
        a1.set_ylabel("ratio / ratio at K = 1")
        for ax, title in ((a0, "measured ratio against the model"), (a1, "decline with the order")):
            ax.set_xlabel("order K")
            ax.set_xticks(ks)
            ax.set_title(title)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
    return fig


def plot_time_breakdown(orders, t_kernel, t_bits, t_float, t_gemm, title):
    """Stacked bars: the XOR + popcount GEMM and the rest of the bits layer, against two float times.

    Parameters
    ----------
    orders : sequence of int
    t_kernel, t_bits : dict
        ``{K: seconds}`` for the binary GEMM alone and for the whole bits layer.
    t_float, t_gemm : float
        Seconds of the float32 layer (im2col + BLAS) and of its BLAS product alone.
    title : str
    """
    import matplotlib.pyplot as plt

    ks = np.asarray(orders)
    kern = np.array([t_kernel[K] for K in orders]) * 1e3
    rest = np.array([t_bits[K] - t_kernel[K] for K in orders]) * 1e3
    with figure_style():
        fig, ax = plt.subplots(figsize=(9.0, 3.4))
        ax.bar(ks, kern, color="C0", label="XOR + popcount GEMM\n(fast binary_gemm)")
        ax.bar(ks, rest, bottom=kern, color="C1", label="packing, residuals,\nscales (the rest)")
        reference_line(ax, t_float * 1e3, "float32 im2col + BLAS", color="k")
        ax.axhline(t_gemm * 1e3, color="k", ls=":", lw=1.4, label="float32 BLAS product alone")
        ax.set_xticks(ks)
        ax.set_xlabel("order K")
        ax.set_ylabel("ms (best of 7), one thread")
        ax.set_title(title)
        legend_outside(ax)
    return fig


def plot_backward_operands(neg_b, neg_h, dY):
    """The binary operands of the backward products as set bits, beside the float upstream gradient.

    Parameters
    ----------
    neg_b : ndarray of bool, shape (F, D)
        Set bits (entries -1) of the binarized weights ``B``.
    neg_h : ndarray of bool, shape (K, M, D)
        Set bits of the input planes ``H_i``.
    dY : ndarray, shape (M, F)
        The upstream gradient, on a diverging colour scale.
    """
    import matplotlib.pyplot as plt

    panels = [("B: set bits (-1)", neg_b)] + [(f"$H_{i + 1}$", h) for i, h in enumerate(neg_h)]
    widths = [1.0] + [1.4] * len(neg_h) + [0.8]
    with figure_style():
        fig, axes = plt.subplots(1, len(panels) + 1, figsize=(13.0, 3.4), gridspec_kw={"width_ratios": widths})
        for ax, (title, m) in zip(axes, panels):
            im = image_panel(ax, m.astype(float), title, vmin=0, vmax=1, cmap="gray_r", colorbar=False)
            ax.set_xlabel("entry d")
        fig.colorbar(im, ax=list(axes[:-1]), shrink=0.8, ticks=[0, 1], label="bit (1: entry -1)")
        axes[0].set_ylabel("filter f")
        axes[1].set_ylabel("row m")
        lim = float(np.abs(dY).max())
        image_panel(axes[-1], dY, "dY (float)", vmin=-lim, vmax=lim, cmap="RdBu", label="gradient value")
        axes[-1].set_xlabel("filter f")
    return fig


def plot_rounding_ratios(ratio_x, ratio_w):
    """Histogram of ``|binary - float| / rounding bound`` of both backward products (log x, zeros at 1e-6).

    Parameters
    ----------
    ratio_x : ndarray
        Ratios of the input gradient, any shape.
    ratio_w : ndarray
        Ratios of the weight gradient, any shape.
    """
    import matplotlib.pyplot as plt

    bins = np.logspace(-6, 0, 61)
    with figure_style():
        fig, ax = plt.subplots(figsize=(9.0, 3.4))
        ax.hist(np.maximum(np.ravel(ratio_x), 1e-6), bins, alpha=0.6, label="dXt = (dY alpha) B")
        ax.hist(np.maximum(np.ravel(ratio_w), 1e-6), bins, alpha=0.6, label="dWt = sum_i\n(beta_i dY)^T H_i")
        ax.axvline(1, color="k", lw=1, label="the bound")
        ax.set_xscale("log")
        ax.set_xlabel("|binary - float| / rounding bound (zeros shown at 1e-6)")
        ax.set_ylabel("outputs")
        legend_outside(ax)
    return fig


def plot_forward_backward_costs(orders, fwd, bwd):
    """Operation counts of one layer by kind, forward (left) and backward products (right), log scale.

    Parameters
    ----------
    orders : sequence of int
    fwd : sequence of LayerCost
        From :func:`horq_ref.cost.layer_cost`, one per order.
    bwd : sequence of BackwardCost
        From :func:`horq_ref.cost.backward_cost`, one per order; input and weight products are summed.
    """
    import matplotlib.pyplot as plt

    series = [
        {"float MACs": [f.float_macs for f in fwd], "XOR+popcount words": [f.xor_words for f in fwd],
         "scale mults": [f.float_ops_scale for f in fwd]},
        {"float mults (adds alike)": [b.float_mults_input + b.float_mults_weight for b in bwd],
         "binary adds": [b.binary_adds_input + b.binary_adds_weight for b in bwd],
         "scale mults": [b.scale_mults_input + b.scale_mults_weight for b in bwd]}]
    x, w = np.arange(len(orders)), 0.25
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(12.0, 4.2), sharey=True)
        for ax, kinds, title in zip(axes, series, ("forward: one layer", "backward products: one layer")):
            for j, (label, vals) in enumerate(kinds.items()):
                ax.bar(x + (j - 1) * w, vals, w, label=label)
            ax.set_yscale("log")
            ax.set_xticks(x, [f"K={K}" for K in orders])
            ax.set_title(title)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
        axes[0].set_ylabel("operations")
    return fig
