"""Figures of the backprop notebook (04), drawn in the shared style of :mod:`.style`."""

from __future__ import annotations

import numpy as np

from .style import figure_style, legend_outside

__all__ = ["plot_sign_stand_ins", "plot_jacobian_diagonals", "plot_jacobians", "plot_gradcheck_errors"]


def plot_sign_stand_ins(r, taus, sign_fn, clip, ste_deriv, smooth):
    """Forward (sign, clip, tanh(r/tau)) and backward (the STE window, tanh') stand-ins over ``r``.

    ``smooth(tau)`` returns a :class:`horq_ref.ste.SignFn`.
    """
    import matplotlib.pyplot as plt

    with figure_style():
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


def plot_jacobian_diagonals(xg, diag):
    """``dXt_k / dX_k`` over one group for the chain rule at K = 1, 2, 3 and the identity rule."""
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(10.0, 3.6))
        for K in (1, 2, 3):
            ax.plot(xg, diag["chain", K], lw=1.5, label=f"chain, K={K}")
        ax.plot(xg, diag["identity", 1], "k--", lw=1.5, label="identity (any K)")
        ax.set_xlabel("value $X_k$ in the group")
        ax.set_ylabel(r"$\partial \tilde X_k / \partial X_k$")
        ax.set_title(f"diagonal of the Jacobian, one group of {len(xg)} values")
        legend_outside(ax)
    return fig


def plot_jacobians(Js, titles):
    """Full Jacobians side by side on one diverging scale clipped at the largest off-diagonal entry."""
    import matplotlib.pyplot as plt

    from .style import image_panel

    lim = max(float(np.abs(J - np.diag(np.diag(J))).max()) for J in Js)
    with figure_style():
        fig, axes = plt.subplots(1, len(Js), figsize=(max(8.0, 2.4 * len(Js) + 1.5), 3.0))
        for ax, J, title in zip(axes, Js, titles):
            im = image_panel(ax, J, title, vmin=-lim, vmax=lim, cmap="RdBu_r", colorbar=False)
        fig.colorbar(im, ax=list(axes), shrink=0.8, label=r"$\partial\tilde X_j/\partial X_k$ (clipped)")
    return fig


def plot_gradcheck_errors(rows, fd_tol, wrong):
    """Relative errors against finite differences: ``rows`` of (name, error, "pass" | "control")."""
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(10.0, 0.28 * len(rows) + 1.5))
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
