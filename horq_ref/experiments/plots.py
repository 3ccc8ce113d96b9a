"""Figures shared by the command line, the report and the notebooks (matplotlib, Agg-safe).

The bound check's figure (:func:`plot_bound_reports`) and the reproduction's figures: training
curves, accuracy against order and the post-training quantization curve. Every function draws in the
style of :mod:`horq_ref.experiments.style`, returns its figure and, given ``path``, writes it
atomically with :func:`save_figure`.
"""

from __future__ import annotations

import os

import numpy as np

from ..io.atomic import atomic_output
from .style import SAVE_DPI, figure_style, legend_outside, reference_line, seeds_title

__all__ = ["save_figure", "plot_bound_reports", "plot_histories", "plot_training_curves",
           "plot_accuracy_vs_order", "plot_ptq", "plot_ptq_scales", "method_label"]


def save_figure(fig, path, dpi=SAVE_DPI):
    """Write ``fig`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    import matplotlib.pyplot as plt

    ext = os.path.splitext(os.fspath(path))[1] or ".png"
    try:
        with atomic_output(path) as fh:
            fig.savefig(fh, dpi=dpi, bbox_inches="tight", format=ext.lstrip("."))
    finally:
        plt.close(fig)


def _with_style(draw):
    """Decorator: draw in the shared style, then save to ``path`` (the argument after the data)."""
    import functools

    n_data = draw.__code__.co_argcount

    @functools.wraps(draw)
    def wrapper(*args, path=None):
        if len(args) == n_data + 1:
            args, path = args[:n_data], args[n_data]
        with figure_style():
            fig = draw(*args)
        if path is not None:
            save_figure(fig, path)
        return fig
    return wrapper


@_with_style
def plot_bound_reports(reports):
    """Error ratio against order per law (from :func:`horq_ref.experiments.tasks.bound_report`), with bounds.

    ``reports`` maps a law name to its rows. The worst-case bound ``(1 - 1/n)^K`` and the refined bound
    ``(1 - 1/n)(1 - 2/n)^(K-1)`` (docs/theory.md) are drawn for the first law's ``n``. Returns the figure
    (saved to ``path`` if given).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.0, 4.6))
    for law, rows in reports.items():
        k = [r["order"] for r in rows]
        line, = ax.semilogy(k, [r["measured_mean"] for r in rows], "o-", label=f"{law} (n={rows[0]['n']})")
        ax.semilogy(k, [r["measured_max"] for r in rows], "v:", color=line.get_color(), alpha=0.7)
        cf = [(r["order"], r["closed_form"]) for r in rows if r["closed_form"] is not None]
        if cf:
            ax.semilogy(*zip(*cf), "x", color=line.get_color(), ms=9)
    first = next(iter(reports.values()))
    k, n = [r["order"] for r in first], first[0]["n"]
    ax.semilogy(k, [r["worst_case_bound"] for r in first], "k--", label=f"worst case $(1-1/n)^K$, n={n}")
    ax.semilogy(k, [r["refined_bound"] for r in first], "k-.",
                label=f"refined $(1-1/n)(1-2/n)^{{K-1}}$, n={n}")
    ax.set_xlabel("order K")
    ax.set_ylabel(r"$\|R_K\|^2 / \|X\|^2$")
    ax.set_xticks(k)
    ax.set_title("Residual energy by order: mean (o), worst group (v), closed form (x)")
    legend_outside(ax)
    ax.grid(True, which="both", alpha=0.3)
    return fig


def _figure(ncols, nrows=1):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(max(8.0, 5.6 * ncols), 3.9 * nrows), squeeze=False)
    return fig, axes


def _panels(records, rows_per_model=1, max_cols=2):
    """A figure with a block of ``rows_per_model`` stacked axes for each model of ``records``, at
    most ``max_cols`` blocks side by side (four models make a 2 x 2 grid that stays readable on a
    projector); returns ``(fig, {model: its axes, top to bottom})``."""
    models = list(dict.fromkeys(r["model"] for r in records))
    n = len(models)
    ncols = min(n, max_cols)
    nblocks = -(-n // ncols)
    fig, axes = _figure(ncols, nblocks * rows_per_model)
    blocks = [axes[(j // ncols) * rows_per_model:(j // ncols + 1) * rows_per_model, j % ncols]
              for j in range(nblocks * ncols)]
    for block in blocks[n:]:
        for ax in block:
            ax.set_visible(False)
    return fig, dict(zip(models, blocks))


def _shared_legend(fig):
    """One legend below all the panels, each label once: outside the data, across the figure's width."""
    entries = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    fig.legend(entries.values(), entries.keys(), loc="outside lower center", ncol=min(3, len(entries)))
    return fig


def method_label(method):
    """A method as the text names it (``horq1`` is XNOR-Net); an unknown one as it is."""
    return {"horq1": "XNOR-Net (HORQ-1)", "horq2": "HORQ-2", "horq3": "HORQ-3",
            "horq2-refit": "HORQ-2, refit scales"}.get(method, method)


@_with_style
def plot_histories(histories):
    """Test accuracy and training loss per epoch, one line per ``label -> history`` (one seed each)."""
    fig, axes = _figure(2)
    for label, h in histories.items():
        epochs = [r["epoch"] for r in h]
        axes[0, 0].plot(epochs, [100 * r["test_acc"] for r in h], "o-", label=label)
        axes[0, 1].plot(epochs, [r["train_loss"] for r in h], "o-", label=label)
    axes[0, 0].set(xlabel="epoch", ylabel="test accuracy (%)", title=seeds_title("test accuracy", 1))
    axes[0, 1].set(xlabel="epoch", ylabel="training loss", title=seeds_title("training loss", 1))
    return _shared_legend(fig)


@_with_style
def plot_training_curves(runs):
    """Mean test accuracy (top) and training loss (bottom, log scale) per epoch, per model and method;
    dots at the last epoch are each seed's final accuracy (the spread over seeds)."""
    from matplotlib.ticker import MaxNLocator

    fig, panels = _panels(runs, 2)
    for model, (top, bottom) in panels.items():
        mine = [r for r in runs if r["model"] == model]
        for r in mine:
            e = np.arange(1, len(r["curve_test_acc"]) + 1)
            name = method_label(r["method"])
            line, = top.plot(e, 100 * np.asarray(r["curve_test_acc"]), "o-", ms=4, label=name)
            top.plot([e[-1] + 0.3] * len(r["seeds"]), 100 * np.asarray(r["test_accuracy_per_seed"]), ".",
                     color=line.get_color(), alpha=0.6)
            bottom.semilogy(e, r["curve_train_loss"], "o-", ms=4, label=name)
        for ax in (top, bottom):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        seeds = min(len(r["seeds"]) for r in mine)
        top.set(xlabel="epoch", ylabel="test accuracy (%)",
                title=seeds_title(model, seeds) + (", dots: each seed at the end" if seeds > 1 else ""))
        bottom.set(xlabel="epoch", ylabel="training loss (log scale)")
    return _shared_legend(fig)


@_with_style
def plot_accuracy_vs_order(runs):
    """Accuracy of the trained networks against the order K; the float network is a reference line.

    The line joins the means over the seeds, with bars of one binomial standard error (what the test
    split can resolve); dots are the seeds, when there are several.
    """
    fig, panels = _panels(runs)
    for model, (ax,) in panels.items():
        rows = sorted((r for r in runs if r["model"] == model), key=lambda r: r["order"])
        binary = [r for r in rows if r["order"] > 0 and "-" not in r["method"]]  # greedy scales
        K, seeds = [r["order"] for r in binary], min(len(r["seeds"]) for r in rows)
        ax.errorbar(K, [100 * r["test_accuracy"] for r in binary],
                    yerr=[100 * r["binomial_se"] for r in binary], fmt="o-", capsize=4,
                    label="HORQ, greedy scales: mean ± 1 binomial SE")
        for r in (r for r in rows if "-" in r["method"]):  # a scale variant: beside its order
            ax.errorbar([r["order"] + 0.12], [100 * r["test_accuracy"]], fmt="s", capsize=4,
                        yerr=[100 * r["binomial_se"]], label=method_label(r["method"]))
        for r in binary if seeds > 1 else []:
            ax.plot([r["order"]] * len(r["seeds"]), 100 * np.asarray(r["test_accuracy_per_seed"]),
                    "k.", alpha=0.5, label="one seed")
        for r in rows[:1] if rows and rows[0]["order"] == 0 else []:
            reference_line(ax, 100 * r["test_accuracy"], "float network")
        ax.set_xticks(K, [f"{k}\n(XNOR-Net)" if k == 1 else str(k) for k in K])
        ax.set(xlabel="order K of the HORQ input expansion", ylabel="test accuracy (%)",
               title=f"{model}: " + ("1 seed" if seeds == 1 else f"mean of {seeds} seeds"))
    return _shared_legend(fig)


@_with_style
def plot_ptq(runs, ptq):
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
            reference_line(ax, 100 * base[0]["test_accuracy"], f"{model}, float inputs",
                           color=line.get_color())
    ax.set_xticks(sorted({p["order"] for p in ptq}))
    ax.set(xlabel="order K of the input expansion", ylabel="test accuracy (%)",
           title="Post-training quantization of float-trained models")
    return _shared_legend(fig)


@_with_style
def plot_ptq_scales(ptq):
    """PTQ by scale variant: one panel per model, accuracy against K for greedy, refit, alternating."""
    fig, panels = _panels(ptq)
    for model, (ax,) in panels.items():
        for sc, style in (("greedy", "o-"), ("refit", "s--"), ("alternating", "^:")):
            pts = [p for p in ptq if p["model"] == model and p.get("scales", "greedy") == sc]
            if pts:
                ax.plot([p["order"] for p in pts], [100 * p["test_accuracy"] for p in pts], style,
                        label=sc)
        ax.set_xticks(sorted({p["order"] for p in ptq}))
        ax.set(xlabel="order K of the input expansion", ylabel="test accuracy (%)",
               title=f"{model}: post-training quantization (PTQ) by scales")
    return _shared_legend(fig)
