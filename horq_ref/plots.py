"""Figures shared by the command line, the report and the notebooks (matplotlib, Agg-safe)."""

from __future__ import annotations

import os
import tempfile

__all__ = ["save_figure", "plot_bound_reports"]


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
