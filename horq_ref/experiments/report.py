"""The reproduction report: results.json and results.md (docs/paper.md §3, §6, §7).

``horq-ref reproduce`` hands this module one record per (network, method, seed); it summarizes them
(mean and sample standard deviation over seeds), sets the paper's numbers beside them (docs/paper.md
§7: full MNIST / CIFAR-10 and the paper's own networks, so a reference rather than a target for 4,000
training images) and states what the test split can resolve. Presentation is not from the paper;
the figures are drawn by :mod:`.plots`. Accuracies are fractions in ``[0, 1]`` in ``results.json``
and percentages in ``results.md``.
"""

from __future__ import annotations

import math

import numpy as np

from .blas import settings_note
from .claims import claims_markdown, exploratory_markdown

__all__ = ["binomial_se", "summarize_runs", "summarize_ptq",
           "paper_reference", "render_markdown"]


def binomial_se(p, n):
    """Standard error ``sqrt(p (1 - p) / n)`` of an accuracy ``p`` measured on ``n`` test images.

    Examples
    --------
    >>> round(binomial_se(0.975, 1000), 4)
    0.0049
    """
    if not 0.0 <= p <= 1.0 or n < 1:
        raise ValueError(f"p must lie in [0, 1] and n be >= 1, got p={p}, n={n}")
    return math.sqrt(p * (1.0 - p) / n)


def _std(values):
    """Sample standard deviation (ddof=1); 0.0 for a single value."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _mean_curve(histories, key):
    """Mean over seeds of ``key`` per epoch (histories of equal length)."""
    return [float(np.mean([h[e][key] for h in histories])) for e in range(len(histories[0]))]


def summarize_runs(records, dataset, n_test):
    """One ``runs`` entry of results.json per (model, method), from per-seed ``records``.

    Parameters
    ----------
    records : list of dict
        Keys ``model``, ``method``, ``order``, ``seed``, ``test_acc``, ``history`` (from
        :func:`horq_ref.nn.train.train`), ``train_seconds``, ``images_per_s``, ``settings``.
    dataset : str
    n_test : int
        Test images, for the binomial standard error.
    """
    runs = []
    for key in dict.fromkeys((r["model"], r["method"]) for r in records):
        group = [r for r in records if (r["model"], r["method"]) == key]
        accs = [r["test_acc"] for r in group]
        mean = float(np.mean(accs))
        runs.append({
            "dataset": dataset, "model": key[0], "method": key[1], "order": group[0]["order"],
            "seeds": [r["seed"] for r in group], "test_accuracy": mean,
            "test_accuracy_std": _std(accs), "test_accuracy_per_seed": accs,
            "binomial_se": binomial_se(mean, n_test), "n_test": n_test,
            "train_seconds": float(np.mean([r["train_seconds"] for r in group])),
            "images_per_s": float(np.mean([r["images_per_s"] for r in group])),
            "epochs": len(group[0]["history"]), "settings": group[0]["settings"],
            "curve_test_acc": _mean_curve([r["history"] for r in group], "test_acc"),
            "curve_train_loss": _mean_curve([r["history"] for r in group], "train_loss"),
        })
    return runs


def summarize_ptq(records, dataset):
    """``ptq`` entries of results.json: per model and order, the mean accuracy over the float runs.

    Each float record carries ``ptq``: ``{scales: {K: accuracy}}`` of that model evaluated with
    ``set_input_order(K)`` (inputs of every layer but the first expanded to order K with those
    scales, weights float), and ``ptq_correct`` the per-image correctness behind it; a plain
    ``{K: accuracy}`` is read as greedy scales.
    """
    rows = []
    for r in records:  # a record with ``{K: accuracy}`` alone holds greedy scales
        if r.get("ptq") and not isinstance(next(iter(r["ptq"].values())), dict):
            r["ptq"] = {"greedy": r["ptq"]}
    for model in dict.fromkeys(r["model"] for r in records if r.get("ptq")):
        group = [r for r in records if r["model"] == model and r.get("ptq")]
        for sc, by_k in group[0]["ptq"].items():
            for K in sorted(by_k, key=int):
                accs = [r["ptq"][sc][K] for r in group]
                n = len(group[0]["ptq_correct"][sc][K]) if "ptq_correct" in group[0] else None
                rows.append({"dataset": dataset, "model": model, "order": int(K), "scales": sc,
                             "n_test": n, "test_accuracy": float(np.mean(accs)),
                             "test_accuracy_std": _std(accs), "test_accuracy_per_seed": accs,
                             "seeds": [r["seed"] for r in group]})
    return rows


def paper_reference(dataset, model, method):
    """The paper's reported result for this setting (docs/paper.md §7), or ``""``."""
    if dataset.startswith("mnist") and model == "mlp":
        return {"horq2": "HORQ: 1.25 % error (98.75 %)",
                "horq1": "XNOR-Net: 1.96 % error (98.04 %)"}.get(method, "")
    if dataset == "cifar10" and model == "cnn":
        return {"float": "full precision: the reference",
                "horq2": "HORQ: ~2 points below full precision",
                "horq1": "XNOR-Net: ~5 points below full precision"}.get(method, "")
    return ""


def _pct(p, digits=2):
    return f"{100 * p:.{digits}f}"


def _resolution(runs):
    n = runs[0]["n_test"]
    ps = [r["test_accuracy"] for r in runs]
    se = [binomial_se(p, n) for p in ps]
    return [
        f"The test split holds n = {n:,} images. An accuracy p measured on it has the binomial "
        f"standard error sqrt(p(1 − p)/n): for the accuracies above (p = {_pct(min(ps))}–"
        f"{_pct(max(ps))} %) that is {100 * min(se):.2f}–{100 * max(se):.2f} points (at 97–98 % it "
        f"would be {100 * binomial_se(0.98, n):.2f}–{100 * binomial_se(0.97, n):.2f}). Every seed is "
        f"tested on these same images: averaging over seeds removes training noise but not the "
        f"sampling of the test set, and a difference that keeps its sign in every seed can still be "
        f"an accident of these {n:,} images. The comparisons below estimate both sources: the "
        f"spread over seeds and over test images (procedures in `horq_ref.experiments.stats`)."]


def _runs_table(runs):
    out = ["| model | method | K | seeds | test accuracy % (mean ± std) | error % | per seed % | "
           "train s / seed | train img/s | paper (full data, its own networks) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        per = ", ".join(_pct(a, 1) for a in r["test_accuracy_per_seed"])
        acc = (f"{_pct(r['test_accuracy'])} ± {_pct(r['test_accuracy_std'])}"
               if len(r["seeds"]) > 1 else f"{_pct(r['test_accuracy'])} (one seed)")
        out.append(f"| {r['model']} | {r['method']} | {r['order']} | {len(r['seeds'])} | {acc} | "
                   f"{_pct(1 - r['test_accuracy'])} | {per} | {r['train_seconds']:.1f} | "
                   f"{r['images_per_s']:,.0f} | "
                   f"{paper_reference(r['dataset'], r['model'], r['method']) or '—'} |")
    return out


def _settings_lines(runs):
    out = []
    for model in dict.fromkeys(r["model"] for r in runs):
        s = next(r["settings"] for r in runs if r["model"] == model)
        out.append(f"- {model}: " + ", ".join(f"{k} {v}" for k, v in s.items()))
    return out


def _ptq_table(runs, ptq):
    orders = sorted({p["order"] for p in ptq})
    out = ["| model | scales | test images | float inputs | " + " | ".join(f"K = {k}" for k in orders)
           + " |", "|---|---|---|---|" + "---|" * len(orders)]
    for model, sc in dict.fromkeys((p["model"], p.get("scales", "greedy")) for p in ptq):
        base = next((r for r in runs if r["model"] == model and r["method"] == "float"), None)
        pts = [p for p in ptq if p["model"] == model and p.get("scales", "greedy") == sc]
        cells = {p["order"]: _pct(p["test_accuracy"]) for p in pts}
        out.append(f"| {model} | {sc} | {pts[0].get('n_test') or '—'} | "
                   f"{_pct(base['test_accuracy']) if base else '—'} | "
                   + " | ".join(cells.get(k, "—") for k in orders) + " |")
    return out


def _comparison_sections(comparisons):
    if not comparisons:
        return []
    return ["### The paper's claims under test (confirmatory)", "", *claims_markdown(comparisons), "",
            "### Other paired comparisons (exploratory)", "", *exploratory_markdown(comparisons), ""]


def _wall_section(rows):
    if not rows:
        return []
    return ["## Throughput and expected wall time", "",
            "Training images/s are in the table of trained networks (measured in this run). At those "
            "rates the same plan on a full data set would take (a linear estimate: epochs × images / "
            "rate, CIFAR-10 scaled by its image area):", "", *_wall_lines(rows), ""]


def _wall_lines(rows):
    return ["| data (`--data-dir`) | training images | expected training time of this plan |",
            "|---|---|---|"] + [f"| {r['data']} | {r['n_train']:,} | {r['seconds'] / 3600:.1f} h |"
                                for r in rows]


def _bound_table(bound):
    out = ["| input | n | K | measured mean | measured max | closed form (n → ∞) | refined bound | "
           "(1 − 1/n)^K |", "|---|---|---|---|---|---|---|---|"]
    for b in bound:
        for r in b["rows"]:
            cf = "—" if r["closed_form"] is None else f"{r['closed_form']:.4f}"
            out.append(f"| {b['law']} | {r['n']} | {r['order']} | {r['measured_mean']:.4f} | "
                       f"{r['measured_max']:.4f} | {cf} | {r['refined_bound']:.6f} | "
                       f"{r['worst_case_bound']:.6f} |")
    return out


def _speed_table(speed):
    cols = list(speed[0])
    return (["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            + ["| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v)
                                 for v in row.values()) + " |" for row in speed])


def _checks_lines(checks):
    if not checks:
        return []
    words = {True: "yes", False: "**no**"}
    return ["Checks of this run: " + "; ".join(f"{k.replace('_', ' ')}: {words[bool(v)]}"
                                                for k, v in checks.items()) + ".", ""]


def _made_by(info, runs):
    """The first paragraph of results.md: the command, run time, machine and data."""
    earlier = info.get("runs_read_from_earlier", 0)
    return (f"Made by `{info['command']}` in {info['wall_seconds']:.0f} s ({info['cpus']} CPUs; "
            f"{settings_note(info)})" + (f"; {earlier} of the {sum(len(r['seeds']) for r in runs)} "
            "training runs were read back from an earlier call into the same folder, and their "
            "training time is not in that figure" if earlier else "") + ". "
            f"Data: {info['data']}. Accuracies are percent of the test set here; `results.json` holds "
            f"the same numbers as fractions in [0, 1] (`test_accuracy` is the mean over seeds, "
            f"`test_accuracy_std` the sample standard deviation over seeds, 0 for one seed).")


def render_markdown(results):
    """The text of results.md for a ``results`` dict as written to results.json."""
    runs, ptq, info = results["runs"], results["ptq"], results["info"]
    md = ["# HORQ reproduction: results", "", _made_by(info, runs), "",
          *_checks_lines(results.get("checks", {})),
          "## Trained networks", "", *_settings_lines(runs), "", *_runs_table(runs), "",
          "The paper's numbers (Li et al., ICCV 2017, as summarised in docs/paper.md §7) are for full "
          "MNIST (an MLP: HORQ 1.25 % test error, XNOR-Net 1.96 %) and CIFAR-10 (a CNN: HORQ about 2 "
          "points below full precision, XNOR-Net about 5), with the paper's own, unpublished layer "
          "sizes and training schedule. They are marked as the paper's and are a reference for the "
          "ordering of the methods, not numbers this setup should match.", "",
          "### What the test split can resolve", "", *_resolution(runs), "",
          *_comparison_sections(results.get("comparisons", [])),
          "## Post-training input quantization", "",
          "Each float-trained network evaluated with the inputs of every layer but the first expanded "
          "to order K (`Model.set_input_order(K)`) with the given scales (docs/theory.md §11), "
          "weights left in float; mean over the float runs' seeds. The quantized inputs follow a ReLU "
          "and batch norm; where they are non-negative greedy's first plane is all +1 and it uses at "
          "most 2^(K−1) of its 2^K levels (docs/theory.md §12), and a growing scale (β₂ > β₁) puts "
          "a used level below zero. That level geometry, not noise in the method, is what can make "
          "greedy's curve step down as K grows; refit and alternating move the levels back onto the "
          "data. Whether a step is resolved is in the exploratory comparisons above.", "",
          *_ptq_table(runs, ptq), ""]
    md += _wall_section(results.get("wall_estimates"))
    if results.get("bound"):
        md += ["## The error guarantee, measured", "",
               "Relative residual energy ||R_K||² / ||X||² of groups of n entries (docs/paper.md §3): "
               "measured mean and worst group, the n → ∞ closed form where known, the refined bound "
               "(1 − 1/n)(1 − 2/n)^(K−1) and the worst-case bound (1 − 1/n)^K, both derived in "
               "docs/theory.md.", "",
               *_bound_table(results["bound"]), ""]
    if results.get("speed"):
        md += ["## Speed model", "", results.get("speed_note", ""), "",
               *_speed_table(results["speed"]), ""]
    md += ["## Figures", ""] + [f"![{name}]({name})" for name in info["figures"]] + [""]
    return "\n".join(md)
