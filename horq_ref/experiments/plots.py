"""Figures shared by the command line, the report and the notebooks (matplotlib, Agg-safe).

The bound check's figure (:func:`plot_bound_reports`) and the reproduction's figures: training
curves, accuracy against order and the post-training quantization curve. Every function returns its
figure and, given ``path``, writes it atomically with :func:`save_figure`.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

__all__ = [
    "save_figure",
    "plot_bound_reports",
    "plot_histories",
    "plot_training_curves",
    "plot_accuracy_vs_order",
    "plot_ptq",
]


def save_figure(fig, path, dpi=120):
    """Write ``fig`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    import matplotlib.pyplot as plt

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    ext = os.path.splitext(path)[1] or ".png"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=ext)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, dpi=dpi, bbox_inches="tight", format=ext.lstrip("."))
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a figure is meant to be read by others
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)


def plot_bound_reports(reports, path=None):
    """Error ratio against order per law (from :func:`horq_ref.theory.bound_report`), with bounds.

    ``reports`` maps a law name to its rows. Returns the figure (saved to ``path`` if given).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for law, rows in reports.items():
        k = [r["order"] for r in rows]
        line, = ax.semilogy(k, [r["measured_mean"] for r in rows], "o-", label=f"{law} (n={rows[0]['n']})")
        ax.semilogy(k, [r["measured_max"] for r in rows], "v:", color=line.get_color(), alpha=0.6)
        cf = [(r["order"], r["closed_form"]) for r in rows if r["closed_form"] is not None]
        if cf:
            ax.semilogy(*zip(*cf), "x", color=line.get_color(), ms=9)
    first = next(iter(reports.values()))
    k = [r["order"] for r in first]
    ax.semilogy(k, [r["worst_case_bound"] for r in first], "k--", label=r"$(1-1/n)^K$ (n of first law)")
    ax.set_xlabel("order K")
    ax.set_ylabel(r"$\|R_K\|^2 / \|X\|^2$")
    ax.set_xticks(k)
    ax.set_title("Residual energy by order: mean (o), worst group (v), closed form (x)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    if path is not None:
        save_figure(fig, path)
    return fig


def _figure(ncols, nrows=1):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.8 * nrows), squeeze=False)
    return fig, axes


def plot_histories(histories, path=None):
    """Test accuracy and training loss per epoch, one line per ``label -> history``."""

    fig, axes = _figure(2)
    for label, h in histories.items():
        epochs = [r["epoch"] for r in h]
        axes[0, 0].plot(epochs, [100 * r["test_acc"] for r in h], "o-", label=label)
        axes[0, 1].plot(epochs, [r["train_loss"] for r in h], "o-", label=label)
    _label(axes[0, 0], "epoch", "test accuracy (%)")
    _label(axes[0, 1], "epoch", "training loss")
    if path is not None:
        save_figure(fig, path)
    return fig


def _label(ax, xlabel, ylabel, title=None):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def plot_training_curves(runs, path=None):
    """Mean test accuracy (top) and training loss (bottom) per epoch, per model and method."""
    from matplotlib.ticker import MaxNLocator


    models = list(dict.fromkeys(r["model"] for r in runs))
    fig, axes = _figure(len(models), 2)
    for j, model in enumerate(models):
        for r in (r for r in runs if r["model"] == model):
            e = np.arange(1, len(r["curve_test_acc"]) + 1)
            label = f"{r['method']} ({len(r['seeds'])} seed{'s' * (len(r['seeds']) > 1)})"
            axes[0, j].plot(e, 100 * np.asarray(r["curve_test_acc"]), "o-", label=label)
            axes[1, j].plot(e, r["curve_train_loss"], "o-", label=label)
        for ax in axes[:, j]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _label(axes[0, j], "epoch", "test accuracy (%)", f"{model}: mean over seeds")
        _label(axes[1, j], "epoch", "training loss")
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_accuracy_vs_order(runs, path=None):
    """Accuracy of the trained networks against the order K (0 = full precision).

    Dots are the seeds; the line is their mean, with bars of one binomial standard error (what the
    test split can resolve).
    """

    models = list(dict.fromkeys(r["model"] for r in runs))
    fig, axes = _figure(len(models))
    for j, model in enumerate(models):
        ax, rows = axes[0, j], sorted((r for r in runs if r["model"] == model),
                                      key=lambda r: r["order"])
        K = [r["order"] for r in rows]
        ax.errorbar(K, [100 * r["test_accuracy"] for r in rows],
                    yerr=[100 * r["binomial_se"] for r in rows], fmt="o-", capsize=4,
                    label="mean over seeds ± 1 binomial SE")
        for r in rows:
            ax.plot([r["order"]] * len(r["seeds"]), 100 * np.asarray(r["test_accuracy_per_seed"]),
                    "k.", alpha=0.5)
        ax.set_xticks(K)
        ax.set_xticklabels(["float" if k == 0 else str(k) for k in K])
        _label(ax, "order K of the HORQ input expansion", "test accuracy (%)",
               f"{model}: trained with each method (dots: seeds)")
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_ptq(runs, ptq, path=None):
    """Post-training input quantization: accuracy of the float models against the order K."""

    models = list(dict.fromkeys(p["model"] for p in ptq))
    fig, axes = _figure(1)
    ax = axes[0, 0]
    for model in models:
        pts = [p for p in ptq if p["model"] == model]
        line, = ax.plot([p["order"] for p in pts], [100 * p["test_accuracy"] for p in pts], "o-",
                        label=f"{model}, inputs at order K")
        base = [r for r in runs if r["model"] == model and r["method"] == "float"]
        if base:
            ax.axhline(100 * base[0]["test_accuracy"], color=line.get_color(), ls=":",
                       label=f"{model}, float inputs")
    ax.set_xticks(sorted({p["order"] for p in ptq}))
    _label(ax, "order K of the input expansion", "test accuracy (%)",
           "Post-training quantization of float-trained models")
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_ptq_scales(ptq, path=None):
    """PTQ by scale variant: one panel per model, accuracy against K for greedy, refit, alternating."""
    models = list(dict.fromkeys(p["model"] for p in ptq))
    fig, axes = _figure(len(models))
    for ax, model in zip(axes[0], models):
        for sc, style in (("greedy", "o-"), ("refit", "s--"), ("alternating", "^:")):
            pts = [p for p in ptq if p["model"] == model and p.get("scales", "greedy") == sc]
            if pts:
                ax.plot([p["order"] for p in pts], [100 * p["test_accuracy"] for p in pts], style,
                        label=sc)
        ax.set_xticks(sorted({p["order"] for p in ptq}))
        _label(ax, "order K of the input expansion", "test accuracy (%)",
               f"{model}: PTQ by scales")
    if path is not None:
        save_figure(fig, path)
    return fig
