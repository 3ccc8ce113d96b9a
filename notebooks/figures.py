"""The figures of the notebooks, so that their cells are about the method (``import figures``).

This module sits beside the notebooks and is not part of the installed package: a notebook computes its
numbers with ``horq_ref`` and passes them in. Every function draws in the shared style of
:mod:`horq_ref.experiments.style` (readable on a projector) and returns the figure. The figures of the
report and the command line are in :mod:`horq_ref.experiments.plots`.

Sections, by concept: the quantizer's levels and scales; the error guarantee; bits and convolution;
gradients; cost and speed; accuracy.
"""

from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from horq_ref.experiments.style import figure_style, legend_outside, reference_line, seeds_title
from horq_ref.theory import refined_bound, worst_case_bound

def styled(draw):
    """Decorator: ``draw`` runs inside :func:`~horq_ref.experiments.style.figure_style`."""
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with figure_style():
            return draw(*args, **kwargs)
    return wrapper


def image_panel(ax, img, title=None, vmin=None, vmax=None, cmap="gray", colorbar=True, label=None):
    """``imshow`` with a frame (an all-white panel stays visible), no ticks and a colorbar."""
    im = ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("0.35")
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8, label=label)
    return im


# ---------------------------------------------------------------- the quantizer: levels and scales

@styled
def plot_levels(x, reconstructions):
    """Each entry of ``x`` (n,) against its order-K value, one panel per K of ``{K: X_K}``."""
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


@styled
def plot_orders_of_image(img, reconstructions, title="input", errors=None):
    """An image and its order-K reconstructions ``{K: X_K}`` on one colour scale with a colorbar.

    ``errors``, optional ``{K: ||R_K||^2 / ||X||^2}``, is printed in the titles.
    """
    panels = [(title, img)] + [(f"K = {K}" + (f", error {errors[K]:.3f}" if errors is not None else ""), r)
                               for K, r in reconstructions.items()]
    lo = min(float(np.min(p)) for _, p in panels)
    hi = max(float(np.max(p)) for _, p in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(max(7.0, 2.5 * len(panels) + 1.2), 3.3))
    for ax, (name, p) in zip(axes, panels):
        im = image_panel(ax, p, name, vmin=lo, vmax=hi, colorbar=False)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="pixel value")
    return fig


@styled
def plot_planes_and_residuals(x, e):
    """Top: the image ``x`` and the planes ``H_i`` of its expansion ``e`` (+1 white); bottom: ``R_i``."""
    K = e.order
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


@styled
def plot_levels_histogram(x, e):
    """Pixel values against the ``2^K`` levels of ``e`` (left) and the transfer function x -> X_K (right)."""
    order = np.argsort(x.ravel(), kind="stable")
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


@styled
def plot_row_levels(row, expansions, entries=48):
    """The first ``entries`` values of ``row`` (n,) against its order-K values and levels, one panel per K.

    ``expansions`` maps K to the :class:`~horq_ref.quantize.Expansion` of ``row``.
    """
    j = np.arange(entries)
    fig, axes = plt.subplots(1, len(expansions), figsize=(12.0, 3.4), sharey=True)
    for ax, (K, e) in zip(axes, expansions.items()):
        ax.plot(j, row[j], "k.", ms=5, label="X (BN output)")
        ax.step(j, e.reconstruct()[j], where="mid", color="C3", lw=1.2, label=r"$\tilde X$")
        for level in e.levels():
            ax.axhline(level, color="C3", lw=0.5, ls=":")
        rel = float(np.sum(e.residuals[-1] ** 2) / np.sum(row**2))
        ax.set_title(rf"K = {K}: $\|R_K\|^2/\|X\|^2$ = {rel:.3f}")
        ax.set_xlabel("entry j of one row")
    axes[0].set_ylabel("value")
    legend_outside(axes[-1])
    return fig


@styled
def plot_levels_used(x, levels, title="K = 2: levels (lines) and levels actually used (triangles)"):
    """A group's histogram with each scale variant's levels (lines) and the levels it uses (triangles).

    ``x`` (n,) is one group; ``levels`` is ``{variant: (levels, used)}``, every level the variant can take
    and the distinct values of its reconstruction of ``x``. Variants are drawn at rising heights.
    """
    fig, ax = plt.subplots(figsize=(10.0, 3.8))
    counts, _, _ = ax.hist(np.ravel(x), bins=60, color="0.8", label="entries")
    top = float(np.max(counts))
    for i, (name, (lv, used)) in enumerate(levels.items()):
        height = top * (0.4 + 0.12 * i)
        ax.vlines(lv, 0, height, colors=f"C{i}", lw=2, label=f"{name}: levels")
        ax.plot(used, np.full(len(used), height * 1.05), "v", color=f"C{i}", ms=8)
    ax.set_xlabel("value")
    ax.set_ylabel("entries per bin")
    ax.set_title(title)
    legend_outside(ax)
    return fig


@styled
def plot_row_scales(e_rows, errors):
    """``beta_i`` of every image row (left) and the reconstructions with one scale per row, errors in titles."""
    K = e_rows.order
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


@styled
def plot_scales_over_dataset(B, ratio21):
    """Box plots of the scales ``B`` (K, M) of M images, and the histogram of ``beta_2 / beta_1`` (M,)."""
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


@styled
def plot_scale_growth(ns, bound, sparse_ratio, gr):
    """``beta_2/beta_1`` of 1-sparse inputs against ``2(1-1/n)``, and ratios ``gr`` (K-1, M) of groups of 3."""
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


# ---------------------------------------------------------------- the error guarantee

@styled
def plot_identity_check(measured, predicted, gaps, eps, groups=5):
    """The energy identity against the measurement: ``groups`` groups by order (left), all gaps (right).

    ``measured``, ``predicted`` (K+1, M): ``||R_k||^2/||X||^2`` from the residuals and from the scales;
    ``gaps``: ``{input name: |identity - measured|}``, histogrammed in units of ``eps``.
    """
    orders = np.arange(measured.shape[0])
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11.0, 3.6))
    for j in range(groups):
        a0.semilogy(orders, measured[:, j], "o", color=f"C{j}")
        a0.semilogy(orders, predicted[:, j], "-", color=f"C{j}")
    a0.set_xlabel("order k")
    a0.set_ylabel(r"$\|R_k\|^2/\|X\|^2$")
    a0.set_title(f"{groups} groups: measured (o), identity (line)")
    a1.hist([np.ravel(g) / eps for g in gaps.values()], bins=30, label=list(gaps), histtype="step")
    a1.set_xlabel("|identity - measured| in units of eps")
    a1.set_ylabel("count")
    legend_outside(a1)
    return fig


@styled
def plot_small_group_errors(errors, n, rng, shown=2000):
    """Errors ``errors`` (K+1, M) of groups of size ``n`` by order, as a cloud jittered by ``rng``, under
    ``(1-1/n)^K`` and the refined bound; the first ``shown`` groups are drawn."""
    ks = np.arange(1, errors.shape[0])
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    for k in ks:
        ax.plot(k + 0.25 * (rng.random(shown) - 0.5), errors[k, :shown], ".", ms=2, color="C0", alpha=0.4)
    ax.plot(ks, [worst_case_bound(n, int(k)) for k in ks], "k--o", label=r"$(1-1/n)^K$")
    ax.plot(ks, [refined_bound(n, int(k)) for k in ks], "r-o", label=r"$(1-1/n)(1-2/n)^{K-1}$")
    ax.set_ylim(0, 0.8)
    ax.set_xticks(ks)
    ax.set_xlabel("order K")
    ax.set_ylabel(r"$\|R_K\|^2/\|X\|^2$")
    ax.set_title(f"n = {n}, Gaussian groups ({shown:,} of {errors.shape[1]:,} shown)")
    legend_outside(ax)
    return fig


@styled
def plot_closed_form_approach(ns, deviations, std_errors):
    """``|mean measured ratio - closed form|`` against the group size n (log-log), beside slope 1/n.

    ``deviations``, ``std_errors``: ``{(law, K): values}``, one per ``n``; twice the standard error dotted.
    """
    fig, ax = plt.subplots(figsize=(8.0, 3.6))
    for j, (law, k) in enumerate(deviations):
        ax.loglog(ns, deviations[(law, k)], "o-", color=f"C{j}", label=f"{law}, K={k}")
        ax.loglog(ns, 2 * np.asarray(std_errors[(law, k)]), ":", color=f"C{j}")
    ax.loglog(ns, [0.1 / n for n in ns], "k--", label="slope 1/n")
    ax.set_xlabel("group size n")
    ax.set_ylabel("|measured mean - closed form|")
    legend_outside(ax)
    return fig


@styled
def plot_contraction_per_order(mean_ratios, n, groups):
    """Mean ``||R_i||^2/||R_{i-1}||^2`` against the order i, one curve per law of ``{law: values}``."""
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    for law, values in mean_ratios.items():
        ax.plot(range(1, len(values) + 1), values, "o-", label=law)
    ax.axhline(0.25, color="0.5", ls=":", label="1/4")
    ax.set_xlabel("order i")
    ax.set_ylabel(r"mean $\|R_i\|^2/\|R_{i-1}\|^2$")
    ax.set_title(f"n = {n}, {groups:,} groups per law")
    legend_outside(ax)
    return fig


@styled
def plot_order_one_worst(ns, bound, sparse, gaussian_worst):
    """Order-one error of 1-sparse inputs and of the worst Gaussian group against ``1 - 1/n``, per n."""
    fig, ax = plt.subplots(figsize=(8.0, 3.2))
    ax.plot(ns, bound, "k-", label="$1 - 1/n$")
    ax.plot(ns, sparse, "o", label="1-sparse input")
    ax.plot(ns, gaussian_worst, "v", label="worst Gaussian group")
    ax.set_xlabel("n")
    ax.set_ylabel(r"$\|R_1\|^2/\|X\|^2$")
    legend_outside(ax)
    return fig


@styled
def plot_two_order_search(ns, found, sparse):
    """``||R_2||^2/||X||^2`` of the worst input a search ``found`` and of the 1-sparse input, with both
    bounds, per n."""
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    ax.plot(ns, [worst_case_bound(int(n), 2) for n in ns], "k--o", label=r"$(1-1/n)^2$")
    ax.plot(ns, [refined_bound(int(n), 2) for n in ns], "r-o", label=r"refined $(1-1/n)(1-2/n)$")
    ax.plot(ns, found, "bs", ms=8, mfc="none", label="best found by the search")
    ax.plot(ns, sparse, "g.", ms=9, label="1-sparse input")
    ax.set_xlabel("n")
    ax.set_ylabel(r"$\|R_2\|^2/\|X\|^2$")
    legend_outside(ax)
    return fig


@styled
def plot_rho_floor(rhos, n):
    """Histograms of ``rho = ||R||_1^2/||R||_2^2`` of ``X, R_1, R_2, ...`` (one array each), floor 2 marked."""
    labels = [r"$\rho(X)$"] + [rf"$\rho(R_{i})$" for i in range(1, len(rhos))]
    fig, ax = plt.subplots(figsize=(8.0, 3.2))
    ax.hist(list(rhos), bins=40, histtype="step", label=labels)
    ax.axvline(1, color="k", ls=":")
    ax.axvline(2, color="r", ls="--", label="2: the floor after order one")
    ax.set_xlabel(rf"$\rho = \|R\|_1^2/\|R\|_2^2$, groups of n = {n}")
    ax.set_ylabel("groups")
    legend_outside(ax)
    return fig


# ---------------------------------------------------------------- bits and convolution

@styled
def plot_packed_words(set_bits, zeros, word_bits=64, per_row=16):
    """The packed words as a grid of bits, ``per_row`` bits a row (bit 0 on the left), so that a cell
    is large enough to see on a projector.

    ``set_bits`` (n,) bool is true where entry j is packed as a set bit (-1); cells past n are tail bits;
    the exact zeros at indices ``zeros`` are circled (they pack as clear bits).
    """
    n = len(set_bits)
    grid = np.full(-(-n // word_bits) * word_bits, 2)      # 2 = tail bit (no entry)
    grid[:n] = np.asarray(set_bits, dtype=int)
    grid = grid.reshape(-1, per_row)                       # (rows, per_row)
    rows = grid.shape[0]
    fig, ax = plt.subplots(figsize=(11.0, 1.2 + 0.45 * rows))
    ax.imshow(grid, cmap=ListedColormap(["white", "black", "0.8"]), vmin=0, vmax=2, aspect="equal")
    ax.set_xticks(np.arange(-0.5, per_row, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(False)
    ax.grid(which="minor", color="0.6", lw=0.5)
    ax.set_xticks(range(per_row))
    first = [r * per_row % word_bits for r in range(rows)]
    ax.set_yticks(range(rows), [f"word {r * per_row // word_bits}, bits {b}-{b + per_row - 1}"
                                for r, b in enumerate(first)])
    ax.plot(np.asarray(zeros) % per_row, np.asarray(zeros) // per_row, "o", color="C3", ms=13, mew=2.5,
            mfc="none", label="exact zero (+1: a clear bit)")
    ax.set_xlabel(f"column c: bit (row's first bit + c) of the word, entry j = {word_bits} * word + bit")
    ax.set_title(f"pack_signs of {n} entries: black = set bit (-1), white = clear (+1), "
                 "grey = tail (always clear)", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


@styled
def plot_xor_strip(a, b, word_bits=64):
    """The set bits of two ``+-1`` vectors ``a``, ``b`` (n,) and of their XOR, with the word boundaries;
    the title states ``a . b = n - 2 popcount(a XOR b)``."""
    n, differ = len(a), int(np.sum(a != b))
    strip = np.stack([a < 0, b < 0, a != b]).astype(int)   # (3, n)
    fig, ax = plt.subplots(figsize=(10.0, 3.0))
    ax.imshow(strip, cmap=ListedColormap(["white", "black"]), aspect="auto", interpolation="nearest")
    ax.grid(False)
    ax.set_yticks([0, 1, 2], ["a", "b", "a XOR b"])
    for boundary in range(word_bits, n, word_bits):
        ax.axvline(boundary - 0.5, color="C3", lw=1.5)
    ax.set_xlabel("entry j (red line: word boundary)")
    ax.set_title(f"black = set bit; {differ} set bits in the XOR, "
                 f"so a . b = {n} - 2*{differ} = {n - 2 * differ}")
    return fig


@styled
def plot_gemm_histogram(values, half_width=150, step=4):
    """Histogram of the integer dot products ``G[m, f]`` of a binary GEMM, bins of width ``step``."""
    fig, ax = plt.subplots(figsize=(8.0, 3.0))
    ax.hist(np.ravel(values), bins=np.arange(-half_width, half_width + 1, step), color="C0")
    ax.set_xlabel(r"$G[m, f] = H_m \cdot B_f$")
    ax.set_ylabel("count")
    ax.set_title("binary GEMM of random signs: integer dot products")
    return fig


@styled
def plot_im2col_columns(padded, cols, rows=(0, 14)):
    """A zero-padded image (H+2, W+2) with two 3x3 receptive fields, and the im2col groups ``cols``
    (P, 9) of two output ``rows``; position ``(r, r)`` of each row r is framed in both panels."""
    width = padded.shape[1] - 2
    lim = float(np.abs(cols).max())
    blocks = [cols[r * width:(r + 1) * width].T for r in rows]       # (9, W) each
    show = np.concatenate([blocks[0], np.full((9, 2), np.nan), blocks[1]], axis=1)
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11.0, 3.4), width_ratios=[1, 2.4])
    image_panel(a0, padded, "padded digit, two receptive fields", colorbar=False)
    image_panel(a1, show, None, vmin=-lim, vmax=lim, cmap="RdBu_r", label="normalized pixel value")
    a1.set_aspect("auto")
    for j, (r, colour) in enumerate(zip(rows, ("C3", "C1"))):
        a0.add_patch(Rectangle((r - 0.5, r - 0.5), 3, 3, fill=False, ec=colour, lw=2))
        a1.add_patch(Rectangle((j * (width + 2) + r - 0.5, -0.5), 1, 9, fill=False, ec=colour, lw=2))
    a1.set_yticks(range(9), [f"(0,{i},{j})" for i in range(3) for j in range(3)])
    a1.set_ylabel("entry (c, i, j)")
    half = width // 2
    a1.set_xticks([0, half, width + 2 + half, 2 * width + 1],
                  [str(rows[0] * width), str(rows[0] * width + half), str(rows[1] * width + half),
                   str((rows[1] + 1) * width - 1)])
    a1.set_xlabel(f"output position p: row {rows[0]} | row {rows[1]}")
    a1.set_title("im2col: one column = one group (white 0 = padding)")
    return fig


@styled
def plot_planes_and_scales(planes, betas, image, group):
    """Top: centre entry of every plane ``H_i`` over all positions; bottom: the scale maps ``beta_i``.

    ``planes`` (K, P, 9) and ``betas`` (K, P) are one image's (``P = side**2``); ``image`` (side, side)
    is drawn last in the bottom row, the K planes of position ``group`` last in the top row.
    """
    K, side = planes.shape[0], image.shape[0]
    fig, axes = plt.subplots(2, K + 1, figsize=(2.0 * (K + 1) + 1.5, 4.6))
    for i in range(K):
        im_h = image_panel(axes[0, i], planes[i, :, 4].reshape(side, side), f"$H_{i + 1}$ (centre)",
                           vmin=-1, vmax=1, colorbar=False)
        im_b = image_panel(axes[1, i], betas[i].reshape(side, side), rf"$\beta_{i + 1}$ max {betas[i].max():.2f}",
                           vmin=0, vmax=float(betas.max()), cmap="viridis", colorbar=False)
    image_panel(axes[0, K], planes[:, group, :], f"group p = {group}:\nrows $H_1..H_{K}$", vmin=-1, vmax=1,
                colorbar=False)
    image_panel(axes[1, K], image, "input $X$", label="input value")
    fig.colorbar(im_h, ax=list(axes[0, :K]), shrink=0.8, ticks=[-1, 1], label="plane entry")
    fig.colorbar(im_b, ax=list(axes[1, :K]), shrink=0.8, label="scale")
    return fig


@styled
def plot_per_order_outputs(per_order, cumulative, filt, reference):
    """Top: per-order outputs ``Y_i`` (K, Ho, Wo) and the filter ``alpha B`` (kh, kw); bottom: the sums
    ``Y_1 + ... + Y_K`` (K, Ho, Wo) and the float output (Ho, Wo). Each row shares one colour scale."""
    K = per_order.shape[0]
    lim_i, lim_c = float(np.abs(per_order).max()), float(np.abs(reference).max())
    fig, axes = plt.subplots(2, K + 1, figsize=(2.0 * (K + 1) + 1.5, 4.6))
    for k in range(K):
        im_i = image_panel(axes[0, k], per_order[k], f"$Y_{k + 1}$", -lim_i, lim_i, "RdBu_r", colorbar=False)
        im_c = image_panel(axes[1, k], cumulative[k], f"K = {k + 1}", -lim_c, lim_c, "RdBu_r", colorbar=False)
    lim_w = float(np.abs(filt).max())
    image_panel(axes[0, K], filt, r"filter $\alpha B$", -lim_w, lim_w, "RdBu_r", label="weight")
    image_panel(axes[1, K], reference, "float conv", -lim_c, lim_c, "RdBu_r", colorbar=False)
    fig.colorbar(im_i, ax=list(axes[0, :K]), shrink=0.8, label="$Y_i$")
    fig.colorbar(im_c, ax=list(axes[1]), shrink=0.8, label="output")
    return fig


@styled
def plot_error_by_order(err_binarized, err_original, err_weights):
    """Relative output error against K (log), with the binarized and the original weights (one value
    per K each), and the error of binarizing the weights alone as a line."""
    ks = np.arange(1, len(err_binarized) + 1)
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    ax.semilogy(ks, err_binarized, "o-", label=r"binarized weights $\alpha B$")
    ax.semilogy(ks, err_original, "s-", label="original weights $W$")
    ax.axhline(err_weights, color="k", ls=":", lw=1, label="weight binarization alone")
    ax.set_xlabel("order K")
    ax.set_ylabel("relative error of the output")
    legend_outside(ax)
    return fig


@styled
def plot_xnor_k(panels):
    """Images ``{title: image}`` side by side, each with its colorbar: the first grey, the others viridis."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 3.3))
    for j, (ax, (title, img)) in enumerate(zip(np.atleast_1d(axes), panels.items())):
        image_panel(ax, img, title, cmap="gray" if j == 0 else "viridis")
    return fig


@styled
def plot_backward_operands(neg_b, neg_h, dY):
    """The set bits of ``B`` (F, D) and of the planes ``H_i`` (K, M, D), beside the float gradient
    ``dY`` (M, F) on a diverging scale: the operands of the binary backward products."""
    panels = [("B: set bits (-1)", neg_b)] + [(f"$H_{i + 1}$", h) for i, h in enumerate(neg_h)]
    widths = [1.0] + [1.4] * len(neg_h) + [0.8]
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


@styled
def plot_rounding_ratios(ratio_x, ratio_w):
    """Histogram of ``|binary - float| / rounding bound`` of the input (``ratio_x``) and the weight
    gradient (``ratio_w``), any shapes; log x axis, zeros shown at 1e-6."""
    bins = np.logspace(-6, 0, 61)
    fig, ax = plt.subplots(figsize=(9.0, 3.4))
    ax.hist(np.maximum(np.ravel(ratio_x), 1e-6), bins, alpha=0.6, label="dXt = (dY alpha) B")
    ax.hist(np.maximum(np.ravel(ratio_w), 1e-6), bins, alpha=0.6, label="dWt = sum_i\n(beta_i dY)^T H_i")
    ax.axvline(1, color="k", lw=1, label="the bound")
    ax.set_xscale("log")
    ax.set_xlabel("|binary - float| / rounding bound (zeros shown at 1e-6)")
    ax.set_ylabel("outputs")
    legend_outside(ax)
    return fig


# ---------------------------------------------------------------- gradients

@styled
def plot_sign_stand_ins(r, taus, sign_fn, clip, ste_deriv, smooth):
    """Forward (sign, ``clip``, tanh(r/tau)) and backward (``ste_deriv``, tanh') stand-ins over ``r``.

    ``smooth(tau)`` returns a :class:`horq_ref.ste.SignFn`.
    """
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(12.0, 3.6))
    a0.plot(r, sign_fn(r), "k", lw=2, label="sign")
    a0.plot(r, clip, "k--", lw=1, label="clip(r, -1, 1)")
    a1.plot(r, ste_deriv, "k", lw=2, label=r"STE: $\mathbf{1}\{|r|\leq 1\}$")
    for tau in taus:
        a0.plot(r, smooth(tau).fn(r), lw=1, label=rf"$\tanh(r/{tau:g})$")
        a1.plot(r, smooth(tau).deriv(r), lw=1, label=rf"$\tanh(r/{tau:g})'$")
    a1.set_ylim(0, 4.2)
    a0.set_title("forward")
    a1.set_title("backward: what stands in for sign'(r)")
    for ax in (a0, a1):
        ax.set_xlabel("r")
        legend_outside(ax)
    return fig


@styled
def plot_jacobian_diagonals(xg, diag):
    """``dXt_k / dX_k`` over one group ``xg`` (n,): ``diag["chain", K]`` for K = 1, 2, 3 and ``diag["identity", 1]``."""
    fig, ax = plt.subplots(figsize=(10.0, 3.6))
    for K in (1, 2, 3):
        ax.plot(xg, diag["chain", K], lw=1.5, label=f"chain, K={K}")
    ax.plot(xg, diag["identity", 1], "k--", lw=1.5, label="identity (any K)")
    ax.set_xlabel("value $X_k$ in the group")
    ax.set_ylabel(r"$\partial \tilde X_k / \partial X_k$")
    ax.set_title(f"diagonal of the Jacobian, one group of {len(xg)} values")
    legend_outside(ax)
    return fig


@styled
def plot_jacobians(Js, titles):
    """Full Jacobians (n, n) side by side on one diverging scale clipped at the largest off-diagonal entry."""
    lim = max(float(np.abs(J - np.diag(np.diag(J))).max()) for J in Js)
    fig, axes = plt.subplots(1, len(Js), figsize=(max(8.0, 2.4 * len(Js) + 1.5), 3.0))
    for ax, J, title in zip(axes, Js, titles):
        im = image_panel(ax, J, title, vmin=-lim, vmax=lim, cmap="RdBu_r", colorbar=False)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label=r"$\partial\tilde X_j/\partial X_k$ (clipped)")
    return fig


@styled
def plot_gradcheck_errors(rows, fd_tol, wrong):
    """Relative errors against finite differences: ``rows`` of (name, error, "pass" | "control")."""
    fig, ax = plt.subplots(figsize=(10.0, max(3.0, 0.28 * len(rows) + 1.5)))
    ypos = np.arange(len(rows))[::-1]
    ax.barh(ypos, [e for _, e, _ in rows], color=["C2" if k == "pass" else "C3" for _, _, k in rows])
    ax.set_yticks(ypos, [name for name, _, _ in rows])
    ax.set_xscale("log")
    ax.axvline(fd_tol, color="k", ls="--", lw=1, label=f"FD_TOL = {fd_tol:g}")
    ax.axvline(wrong, color="C3", ls=":", lw=1, label=f"WRONG = {wrong:g}")
    ax.set_xlabel("relative error against centred finite differences")
    ax.set_title("green: must pass; red: negative controls, must fail")
    legend_outside(ax)
    return fig


# ---------------------------------------------------------------- cost and speed

@styled
def plot_speedup_model(channels, orders, kernel_sizes, values):
    """The speed model ``S_K`` against the input channels, one panel per kernel size (kh, kw).

    ``values`` (S, C, O) holds ``S_K`` per kernel size, channel count and order; dotted lines: ``64 / K``.
    """
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


@styled
def plot_weight_memory(ns, ratio_n, mult64, ratio_64):
    """float32 over packed bytes of one filter against its size (log x): ``ratio_n`` for every size in
    ``ns``, ``ratio_64 = 32 n / (n + 32)`` for the multiples of 64 in ``mult64``."""
    fig, ax = plt.subplots(figsize=(9.0, 3.4))
    ax.semilogx(ns, ratio_n, "-", lw=1, label="any n")
    ax.semilogx(mult64, ratio_64, "-", lw=2, alpha=0.7, label="n a multiple of 64:\n32n / (n + 32)")
    reference_line(ax, 32, "32")
    ax.set_xlabel("entries per filter n = C kh kw")
    ax.set_ylabel("float32 / packed bytes")
    ax.set_title("weight memory ratio (one float32 alpha per filter included)")
    legend_outside(ax)
    return fig


@styled
def plot_measured_vs_model(orders, measured, model):
    """Measured float/bits time ratios ``{label: ratios}`` beside the model ``{label: S_K}`` (left, black)
    and their decline with K (right), one value per order; one legend below both panels."""
    ks = np.asarray(orders)
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(12.0, 4.4))
    for j, (label, ratio) in enumerate(measured.items()):
        ratio = np.asarray(ratio, dtype=float)
        a0.semilogy(ks, ratio, "o-", color=f"C{j}", label=f"measured: {label}")
        a1.plot(ks, ratio / ratio[0], "o-", color=f"C{j}")
    for style, (label, values) in zip(("k--", "k:", "k-."), model.items()):
        a0.semilogy(ks, values, style, label=label)
    a0.axhline(1, color="0.5", lw=1)
    a1.plot(ks, 1 / ks, "k-.", label="model: 1/K (right)")
    a0.set_ylabel("float32 BLAS time / bits time")
    a1.set_ylabel("ratio / ratio at K = 1")
    for ax, title in ((a0, "measured ratio against the model"), (a1, "decline with the order")):
        ax.set(xlabel="order K", xticks=ks, title=title)
    (h0, l0), (h1, l1) = a0.get_legend_handles_labels(), a1.get_legend_handles_labels()
    fig.legend(h0 + h1, l0 + l1, loc="outside lower center", ncol=2)
    return fig


@styled
def plot_time_breakdown(orders, t_kernel, t_bits, t_float, t_gemm, title):
    """Stacked bars per K: the XOR + popcount GEMM ``t_kernel`` and the rest of the bits layer ``t_bits``
    (``{K: seconds}``), against the float32 layer ``t_float`` and its BLAS product ``t_gemm`` (seconds)."""
    ks = np.asarray(orders)
    kern = np.array([t_kernel[K] for K in orders]) * 1e3
    rest = np.array([t_bits[K] - t_kernel[K] for K in orders]) * 1e3
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


@styled
def plot_forward_backward_costs(orders, fwd, bwd):
    """Operation counts of one layer by kind, forward (left, :func:`horq_ref.cost.layer_cost` per order)
    and backward products (right, :func:`horq_ref.cost.backward_cost`, input + weight), log scale."""
    series = [
        {"float MACs": [f.float_macs for f in fwd], "XOR+popcount words": [f.xor_words for f in fwd],
         "scale mults": [f.float_ops_scale for f in fwd]},
        {"float mults (adds alike)": [b.float_mults_input + b.float_mults_weight for b in bwd],
         "binary adds": [b.binary_adds_input + b.binary_adds_weight for b in bwd],
         "scale mults": [b.scale_mults_input + b.scale_mults_weight for b in bwd]}]
    x, w = np.arange(len(orders)), 0.25
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


@styled
def plot_throughput_and_model(ips, ips_per_seed, model_curves):
    """Measured training throughput ``{method: images/s}`` (bars; dots: ``{method: [per seed]}``) beside
    the modelled curves ``{label: [S_K for K = 1, 2, ...]}``."""
    methods = list(ips)
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(12.0, 3.8))
    a0.bar(methods, [ips[m] for m in methods], color=["0.3", "C0", "C1", "C2"][: len(methods)])
    for m in methods:
        a0.plot([m] * len(ips_per_seed[m]), ips_per_seed[m], "w.", ms=5)
    a0.set_ylabel("training images / s")
    n_seeds = min(len(v) for v in ips_per_seed.values())
    a0.set_title(seeds_title("measured (float simulation)", n_seeds))
    for name, v in model_curves.items():
        a1.plot(np.arange(1, len(v) + 1), v, "o-", label=name)
    a1.set_xticks(np.arange(1, len(v) + 1))
    a1.set_xlabel("order K")
    a1.set_ylabel(r"modelled speed-up $S_K$")
    a1.set_title("model (horq_ref.cost), not a measurement")
    legend_outside(a1)
    return fig


# ---------------------------------------------------------------- accuracy

@styled
def plot_ablation(acc_relu, acc_norelu, methods=("horq1", "horq2", "horq3", "float")):
    """Test accuracy by order with and without the hidden ReLU (``{method: [per seed]}``): means joined,
    seeds as dots."""
    xs = np.arange(1, len(methods) + 1)
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    for accs, name, c in ((acc_relu, "with ReLU", "C0"), (acc_norelu, "without ReLU", "C3")):
        ax.plot(xs, [100 * np.mean(accs[m]) for m in methods], "o-", color=c, label=name)
        for x, m in zip(xs, methods):
            ax.plot([x] * len(accs[m]), 100 * np.asarray(accs[m]), ".", color=c, alpha=0.5)
    ax.set_xticks(xs, ["1 (XNOR)", "2", "3", "float (K → ∞)"][: len(methods)])
    ax.set_xlabel("order K of the trained network")
    ax.set_ylabel("test accuracy (%)")
    n_seeds = min(len(v) for v in acc_relu.values())
    ax.set_title(seeds_title("the ReLU ablation (dots: seeds)", n_seeds))
    legend_outside(ax)
    return fig


@styled
def plot_ptq_with_fc2(runs, ptq, orders, fc2_mean, res_mean):
    """Post-training quantization of a float-trained network, one value per order. Left: test accuracy
    with the inputs of fc2 and fc3 at order K (``ptq`` rows), with fc2's input only (``fc2_mean``) and
    with float inputs (a line, from ``runs``); right: the energy ``res_mean`` left in fc2's inputs."""
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(12.0, 4.0))
    model = ptq[0]["model"]
    pts = [p for p in ptq if p["model"] == model]
    a0.plot([p["order"] for p in pts], [100 * p["test_accuracy"] for p in pts], "o-",
            label="fc2's and fc3's inputs at order K")
    a0.plot(orders, 100 * np.asarray(fc2_mean), "s--", label="fc2's input only")
    for r in runs:
        if r["model"] == model and r["method"] == "float":
            reference_line(a0, 100 * r["test_accuracy"], "float inputs")
    a0.set(xlabel="order K of the input expansion", ylabel="test accuracy (%)", xticks=list(orders),
           title=f"{model} trained in float, inputs quantized after")
    a0.legend(loc="lower right")
    a1.plot(orders, res_mean, "x:", color="0.3", ms=10, mew=2)
    a1.set(xlabel="order K of the input expansion", ylabel=r"$\|R_K\|^2/\|X\|^2$", ylim=(0, None),
           xticks=list(orders), title="energy left in fc2's inputs (mean over the test images)")
    return fig


@styled
def plot_ptq_by_scales(orders, curves, base, title="CNN: post-training input quantization by scale variant"):
    """Test accuracy (%) against the input order, one curve per scale variant of ``{variant: accuracies}``
    (fractions), the accuracy ``base`` with float inputs as a reference line."""
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    for (name, accs), style in zip(curves.items(), ["o-", "s--", "^:", "d-."]):
        ax.plot(list(orders), [100 * a for a in accs], style, label=name)
    reference_line(ax, 100 * base, "float inputs")
    ax.set_xticks(list(orders))
    ax.set_xlabel("order K")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    legend_outside(ax)
    return fig
