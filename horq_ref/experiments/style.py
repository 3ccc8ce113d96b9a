"""One figure style for every figure of the package and the notebooks: readable on a projector.

``STYLE`` sets the resolution (110 dpi on screen, 150 dpi in saved files), text of at least 10 pt, a light
grid and constrained layout. Use :func:`apply` once at the top of a notebook, or :func:`figure_style` as a
context manager around code that draws (the figure functions of :mod:`horq_ref.experiments.plots` and of
``notebooks/figures.py`` do). The helpers below encode the project's figure conventions; a value shown
by colour also gets a colorbar, and an image a frame (``image_panel`` in ``notebooks/figures.py``).
"""

from __future__ import annotations

from contextlib import contextmanager

__all__ = ["STYLE", "SAVE_DPI", "apply", "figure_style", "reference_line", "seeds_title", "legend_outside"]

SAVE_DPI = 150
STYLE = {
    "figure.dpi": 110, "savefig.dpi": SAVE_DPI, "figure.constrained_layout.use": True,
    "figure.figsize": (8.0, 4.2),  # 880 px wide on screen at 110 dpi
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11,  # text: 10 pt at least
    "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 10,
    "axes.grid": True, "grid.alpha": 0.3, "lines.linewidth": 1.8, "lines.markersize": 6,
    "image.cmap": "gray",
}


def apply():
    """Set :data:`STYLE` for the rest of the session (a notebook's first cell)."""
    import matplotlib

    matplotlib.rcParams.update(STYLE)


@contextmanager
def figure_style():
    """Draw with :data:`STYLE` inside the block and restore the caller's settings after it."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        try:
            yield
        finally:
            interactive = matplotlib.is_interactive()
    # A backend loaded inside the block (the notebook's inline backend) turns interactive mode on;
    # rc_context would undo that, and later figures would no longer be shown.
    matplotlib.interactive(interactive)


def reference_line(ax, y, label, color="0.25"):
    """A horizontal dashed line at ``y``: a reference that does not depend on the x axis (the float
    network), never a point joined to the curve."""
    return ax.axhline(y, color=color, linestyle="--", linewidth=1.4, label=label)


def seeds_title(title, n_seeds):
    """``"title (1 seed)"`` or ``"title (mean of 5 seeds)"``.

    Examples
    --------
    >>> seeds_title("test accuracy", 1), seeds_title("test accuracy", 3)
    ('test accuracy (1 seed)', 'test accuracy (mean of 3 seeds)')
    """
    return f"{title} (1 seed)" if n_seeds == 1 else f"{title} (mean of {n_seeds} seeds)"


def legend_outside(ax, **kwargs):
    """A legend to the right of the axes, where it cannot hide a curve."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)
