"""Figures of the scale-family notebook (07), so that its cells are about the method.

Every function draws with :func:`horq_ref.experiments.style.figure_style` and returns the figure; the
levels and accuracies come from :mod:`horq_ref.scales` and :mod:`horq_ref.quantize`, computed in the
notebook and passed in.
"""

from __future__ import annotations

import numpy as np

from .style import figure_style, legend_outside, reference_line

__all__ = ["plot_levels_used", "plot_ptq_by_scales"]


def plot_levels_used(x, levels, title="K = 2: levels (lines) and levels actually used (triangles)"):
    """A group's histogram with each scale variant's levels (lines) and the levels it uses (triangles).

    Parameters
    ----------
    x : ndarray, shape (n,)
        One group.
    levels : dict
        ``{variant: (levels, used)}``, two 1-D arrays: every level the variant can take and the distinct
        values of its reconstruction of ``x``. Variants are stacked at rising heights to stay apart.
    title : str
    """
    import matplotlib.pyplot as plt

    with figure_style():
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


def plot_ptq_by_scales(orders, curves, base, title="CNN: post-training input quantization by scale variant"):
    """Test accuracy (%) against the input order, one curve per scale variant, the float inputs dashed.

    Parameters
    ----------
    orders : sequence of int
    curves : dict
        ``{variant: accuracies}``, fractions in [0, 1], one per order.
    base : float
        Accuracy with float inputs (fraction), a reference that does not depend on the order.
    title : str
    """
    import matplotlib.pyplot as plt

    with figure_style():
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
