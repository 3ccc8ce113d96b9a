"""Figures of the error-guarantee notebooks 02 and 02b, so that their cells are about the method.

Every function draws with :func:`horq_ref.experiments.style.figure_style` and returns the figure; the
numbers are computed by the notebook with :mod:`horq_ref.theory` and passed in.
"""

from __future__ import annotations

import numpy as np

from .style import figure_style, legend_outside

__all__ = ["plot_identity_check", "plot_small_group_errors", "plot_closed_form_approach",
           "plot_contraction_per_order", "plot_order_one_worst", "plot_two_order_search", "plot_rho_floor"]

_RATIO_K = r"$\|R_K\|^2/\|X\|^2$"


def plot_identity_check(measured, predicted, gaps, eps, groups=5):
    """The energy identity against the measurement: a few groups by order (left), all gaps (right).

    Parameters
    ----------
    measured, predicted : ndarray, shape (K+1, M)
        ``||R_k||^2/||X||^2`` from the residuals and from the scales (the identity), per order and group.
    gaps : dict
        ``{input name: |identity - measured|}`` (any shape), histogrammed in units of ``eps``.
    eps : float
        Machine epsilon of the computation.
    groups : int
        How many groups the left panel draws (points: measured; lines: identity).
    """
    import matplotlib.pyplot as plt

    orders = np.arange(measured.shape[0])
    with figure_style():
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


def plot_small_group_errors(errors, n, rng, shown=2000):
    """Errors of small groups by order, as a jittered cloud, under ``(1-1/n)^K`` and the refined bound.

    Parameters
    ----------
    errors : ndarray, shape (K+1, M)
        ``||R_K||^2/||X||^2`` of M groups of size ``n``; orders 1..K are drawn, the first ``shown`` groups.
    n : int
        Group size.
    rng : numpy.random.Generator
        Draws the horizontal jitter of the points (``shown`` numbers per order, orders 1..K in turn).
    """
    import matplotlib.pyplot as plt

    from ..theory import refined_bound, worst_case_bound

    ks = np.arange(1, errors.shape[0])
    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.4))
        for k in ks:
            ax.plot(k + 0.25 * (rng.random(shown) - 0.5), errors[k, :shown], ".", ms=2, color="C0", alpha=0.4)
        ax.plot(ks, [worst_case_bound(n, int(k)) for k in ks], "k--o", label=r"$(1-1/n)^K$")
        ax.plot(ks, [refined_bound(n, int(k)) for k in ks], "r-o", label=r"$(1-1/n)(1-2/n)^{K-1}$")
        ax.set_ylim(0, 0.8)
        ax.set_xticks(ks)
        ax.set_xlabel("order K")
        ax.set_ylabel(_RATIO_K)
        ax.set_title(f"n = {n}, Gaussian groups ({shown:,} of {errors.shape[1]:,} shown)")
        legend_outside(ax)
    return fig


def plot_closed_form_approach(ns, deviations, std_errors):
    """``|mean measured ratio - closed form|`` against the group size n (log-log), beside slope 1/n.

    Parameters
    ----------
    ns : sequence of int
        Group sizes.
    deviations, std_errors : dict
        ``{(law, K): values}``, one value per ``n``; twice the standard error is drawn dotted.
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.6))
        for j, (law, k) in enumerate(deviations):
            ax.loglog(ns, deviations[(law, k)], "o-", color=f"C{j}", label=f"{law}, K={k}")
            ax.loglog(ns, 2 * np.asarray(std_errors[(law, k)]), ":", color=f"C{j}")
        ax.loglog(ns, [0.1 / n for n in ns], "k--", label="slope 1/n")
        ax.set_xlabel("group size n")
        ax.set_ylabel("|measured mean - closed form|")
        legend_outside(ax)
    return fig


def plot_contraction_per_order(mean_ratios, n, groups):
    """Mean contraction ratio ``||R_i||^2/||R_{i-1}||^2`` against the order i, one curve per law.

    Parameters
    ----------
    mean_ratios : dict
        ``{law: values}``, one mean ratio per order 1..K.
    n, groups : int
        Group size and number of groups per law (for the title).
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.4))
        for law, values in mean_ratios.items():
            ax.plot(range(1, len(values) + 1), values, "o-", label=law)
        ax.axhline(0.25, color="0.5", ls=":", label="1/4")
        ax.set_xlabel("order i")
        ax.set_ylabel(r"mean $\|R_i\|^2/\|R_{i-1}\|^2$")
        ax.set_title(f"n = {n}, {groups:,} groups per law")
        legend_outside(ax)
    return fig


def plot_order_one_worst(ns, bound, sparse, gaussian_worst):
    """Order-one error of 1-sparse inputs and of the worst Gaussian group against ``1 - 1/n``.

    Parameters
    ----------
    ns : sequence of int
    bound, sparse, gaussian_worst : sequence of float
        ``1 - 1/n``, the ratio of a 1-sparse input, and the worst of the Gaussian groups, per ``n``.
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.2))
        ax.plot(ns, bound, "k-", label="$1 - 1/n$")
        ax.plot(ns, sparse, "o", label="1-sparse input")
        ax.plot(ns, gaussian_worst, "v", label="worst Gaussian group")
        ax.set_xlabel("n")
        ax.set_ylabel(r"$\|R_1\|^2/\|X\|^2$")
        legend_outside(ax)
    return fig


def plot_two_order_search(ns, found, sparse):
    """The worst two-order inputs found by a search, the 1-sparse input and both bounds, against n.

    Parameters
    ----------
    ns : sequence of int
    found, sparse : sequence of float
        ``||R_2||^2/||X||^2`` of the best input found and of the 1-sparse input, per ``n``.
    """
    import matplotlib.pyplot as plt

    from ..theory import refined_bound, worst_case_bound

    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.4))
        ax.plot(ns, [worst_case_bound(int(n), 2) for n in ns], "k--o", label=r"$(1-1/n)^2$")
        ax.plot(ns, [refined_bound(int(n), 2) for n in ns], "r-o", label=r"refined $(1-1/n)(1-2/n)$")
        ax.plot(ns, found, "bs", ms=8, mfc="none", label="best found by the search")
        ax.plot(ns, sparse, "g.", ms=9, label="1-sparse input")
        ax.set_xlabel("n")
        ax.set_ylabel(r"$\|R_2\|^2/\|X\|^2$")
        legend_outside(ax)
    return fig


def plot_rho_floor(rhos, n):
    """Histograms of ``rho = ||R||_1^2/||R||_2^2`` of the input and of the first residuals, with the floor 2.

    Parameters
    ----------
    rhos : sequence of ndarray
        ``rho`` of ``X, R_1, R_2, ...`` over the groups (one array per order).
    n : int
        Group size (for the label).
    """
    import matplotlib.pyplot as plt

    labels = [r"$\rho(X)$"] + [rf"$\rho(R_{i})$" for i in range(1, len(rhos))]
    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.2))
        ax.hist(list(rhos), bins=40, histtype="step", label=labels)
        ax.axvline(1, color="k", ls=":")
        ax.axvline(2, color="r", ls="--", label="2: the floor after order one")
        ax.set_xlabel(rf"$\rho = \|R\|_1^2/\|R\|_2^2$, groups of n = {n}")
        ax.set_ylabel("groups")
        legend_outside(ax)
    return fig
