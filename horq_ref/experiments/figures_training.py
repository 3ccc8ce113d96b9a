"""Figures of the training notebooks (05, 05b), drawn in the shared style of :mod:`.style`."""

from __future__ import annotations

import numpy as np

from .style import figure_style, legend_outside, seeds_title

__all__ = ["plot_row_levels", "plot_throughput_and_model", "plot_ablation", "plot_ptq_with_fc2"]


def plot_row_levels(row, expansions, entries=48):
    """The first ``entries`` values of one row against its order-K values and levels, one panel per K.

    ``expansions`` maps K to the :class:`~horq_ref.quantize.Expansion` of ``row`` (shape (n,)).
    """
    import matplotlib.pyplot as plt

    j = np.arange(entries)
    with figure_style():
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


def plot_throughput_and_model(ips, ips_per_seed, model_curves):
    """Measured training throughput per method (bars, dots: seeds) beside the modelled ``S_K`` curves.

    ``ips``: ``{method: images/s}``; ``ips_per_seed``: ``{method: [images/s per seed]}``;
    ``model_curves``: ``{label: [S_K for K = 1, 2, ...]}``.
    """
    import matplotlib.pyplot as plt

    methods = list(ips)
    with figure_style():
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


def plot_ablation(acc_relu, acc_norelu, methods=("horq1", "horq2", "horq3", "float")):
    """Test accuracy by order with and without the hidden ReLU: means joined, seeds as dots."""
    import matplotlib.pyplot as plt

    xs = np.arange(1, len(methods) + 1)
    with figure_style():
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


def plot_ptq_with_fc2(runs, ptq, orders, fc2_mean, res_mean):
    """:func:`.plots.plot_ptq` plus the curve with only fc2's input quantized and the residual energy."""
    from .plots import plot_ptq

    fig = plot_ptq(runs, ptq)
    ax = fig.axes[0]
    with figure_style():
        ax.plot(orders, 100 * np.asarray(fc2_mean), "s--", color="C1", label="mlp, fc2's input only")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)  # below: the right axis is taken
        ax2 = ax.twinx()
        ax2.semilogy(orders, res_mean, "x:", color="0.4")
        ax2.set_ylabel(r"$\|R_K\|^2/\|X\|^2$ of fc2's inputs (x)", color="0.4")
        ax2.grid(False)
    return fig
