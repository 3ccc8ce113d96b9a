"""The paper's claims under test, and how results.md words every paired comparison.

The confirmatory family is a short, fixed list: the paper's direction claims (docs/paper.md §7,
:data:`CLAIMS`), tested on every network with two seeds or more, Holm-adjusted over the family. "HORQ-2
comes close to full precision" is not a test: it is stated as a one-sided upper bound on float -
HORQ-2 (:data:`CLOSE`), the bounds of all networks holding together at 95 % (Bonferroni), never
inferred from a difference that is not resolved. Every other comparison is exploratory: its interval
is unadjusted and no conclusion is drawn from an isolated one. The procedures are those of
:mod:`.stats`.
"""

from __future__ import annotations

from .stats import ALPHA, half_width, holm

__all__ = ["CLAIMS", "CLOSE", "classify", "interval_words", "claims_markdown", "exploratory_markdown"]

#: The paper's direction claims (docs/paper.md §7): a, b, measure, the sign of a - b claimed, words.
CLAIMS = (("horq2", "horq1", "test accuracy", 1, "HORQ-2 is more accurate than XNOR-Net"),
          ("horq2", "horq1", "train-loss AUC", -1, "HORQ-2 converges faster (lower loss area)"))
#: "HORQ-2 comes close to full precision": a one-sided upper bound on float - horq2, never a test.
CLOSE = ("float", "horq2", "test accuracy")


def classify(out):
    """Tag each comparison: the claims (Holm over them), the close-to-float bounds, the rest.

    A claim is about the methods, not about one trained network: it needs two seeds or more."""
    claims = {c[:3]: c[3:] for c in CLAIMS}
    for c in out:
        c.update(family="exploratory", resolved=c["p"] is not None and (c["ci_low"] > 0 or c["ci_high"] < 0))
    tested = [c for c in out if c["p"] is not None and c["n_seeds"] > 1]
    conf = [c for c in tested if (c["a"], c["b"], c["measure"]) in claims]
    close = [c for c in tested if (c["a"], c["b"], c["measure"]) == CLOSE]
    for c, p in zip(conf, holm([c["p"] for c in conf])):
        sign, words = claims[c["a"], c["b"], c["measure"]]
        verdict = "open" if p >= ALPHA else "settled" if sign * c["diff"] > 0 else "refuted"
        c.update(family="confirmatory", claim=words, p_holm=float(p), resolved=bool(p < ALPHA),
                 verdict=verdict)
    for c in close:  # one-sided, Bonferroni over the networks: the bounds hold together at 95 %
        h = half_width(c["v_seeds"], c["v_images"], c["n_seeds"], 1 - ALPHA / len(close))
        c.update(family="confirmatory", claim="HORQ-2 comes close to full precision",
                 bound=c["diff"] + float(h))
    return out


def _num(c, key, scale=None):
    """A value of comparison ``c`` in its unit: accuracy in points, loss measures in nats."""
    scale = scale or (100 if c["measure"] == "test accuracy" else 1)
    return "—" if c.get(key) is None else f"{scale * c[key]:+.3f}"


def _p(p):
    return "—" if p is None else "< 1e-12" if p <= 1e-12 else f"{p:.3g}"


def interval_words(c):
    """One comparison ``c`` (``measure`` and the keys of :func:`.stats.paired_interval`) in words."""
    unit, p = "points" if c["measure"] == "test accuracy" else "nats", _p(c["p"])
    return (f"{_num(c, 'diff')} {unit}, 95 % interval [{_num(c, 'ci_low')}, {_num(c, 'ci_high')}] "
            f"({c['test']}; p {p if p.startswith('<') else '= ' + p}): "
            + ("excludes 0" if c["ci_low"] > 0 or c["ci_high"] < 0 else "does not exclude 0"))


def claims_markdown(comparisons):
    """What results.md says about the paper's claims: verdicts in words, the table, the procedures."""
    conf = [c for c in comparisons if "verdict" in c]
    table = ["| claim | network | measure | procedure | a − b | 95 % interval | p | Holm p | verdict |",
             "|---|---|---|---|---|---|---|---|---|"] + [
        f"| {c['claim']} | {c['model']} | {c['measure']} | {c['test']} | {_num(c, 'diff')} | "
        f"[{_num(c, 'ci_low')}, {_num(c, 'ci_high')}] | {_p(c['p'])} | {_p(c['p_holm'])} | {c['verdict']} |"
        for c in conf]
    return _verdicts(conf) + _bounds([c for c in comparisons if "bound" in c]) + [
        "", *table, "", f"The family is the {len(conf)} tests above, Holm-adjusted (family-wise error "
        "5 %): *settled* means a Holm p below 0.05 in the claimed direction, *refuted* in the other, "
        "*open* neither. An open claim is not evidence of no difference: its interval says how large "
        "the difference could be.", "", *_seeds_note(conf)]


def _verdicts(conf):
    """One line per claim: on which networks it is settled, refuted, open."""
    def nets(w, v):
        return ", ".join(c["model"] for c in conf if (c["claim"], c["verdict"]) == (w, v))
    return [f"* **{w}:** " + "; ".join(f"{v} on {nets(w, v)}" for v in ("settled", "refuted", "open")
                                       if nets(w, v)) + "." for w in dict.fromkeys(c["claim"] for c in conf)]


def _bounds(close):
    """Close to full precision, as upper bounds on float - HORQ-2 that hold together at 95 %."""
    if not close:
        return []
    level = (f"One-sided upper bounds, each at {100 * (1 - ALPHA / len(close)):.2f} % so that all "
             f"{len(close)} hold together at 95 %." if len(close) > 1 else "A one-sided 95 % upper bound.")
    return ["* **HORQ-2 comes close to full precision:** float − HORQ-2 is at most " + "; ".join(
        f"{100 * c['bound']:.2f} points on {c['model']} (estimate {_num(c, 'diff')}, {c['test']})"
        for c in close) + ". " + level]


def _seeds_note(conf):
    """What S seeds can and cannot settle, for the seed counts of this run."""
    counts = sorted({c["n_seeds"] for c in conf})
    t = ", ".join(f"{float(half_width(1.0, 0.0, S)):.2f} for {S} seeds" for S in counts)
    flip = ", ".join(f"{2.0 ** (1 - S):.3g} for {S}" for S in counts)
    return [f"What the seeds can settle: a measure with one number per seed (the loss area) is tested "
            f"by the paired t with S − 1 degrees of freedom (97.5 % quantile {t}), which assumes the "
            f"per-seed differences normal; without that assumption no exact paired test reaches p < 0.05 "
            f"with fewer than 6 seeds (the smallest two-sided sign-flip p is 2^(1 − S): {flip}). An "
            f"accuracy difference varies with the seed and with the test images, which every seed "
            f"shares: the two-way t adds both, and more seeds shrink only the first."]


def exploratory_markdown(comparisons):
    """Every other comparison, unadjusted, with the warning that an isolated one proves nothing."""
    rest = [c for c in comparisons if c["family"] == "exploratory"]
    return ["| network | a | b | measure | procedure | a − b | 95 % interval (unadjusted) | p "
            "(unadjusted) | resolved |", "|---|---|---|---|---|---|---|---|---|"] + [
        f"| {c['model']} | {c['a']} | {c['b']} | {c['measure']} | {c['test']} | {_num(c, 'diff')} | "
        f"[{_num(c, 'ci_low')}, {_num(c, 'ci_high')}] | {_p(c['p'])} | "
        f"{'yes' if c['resolved'] else 'no'} |" for c in rest] + [
        "", f"These {len(rest)} comparisons are exploratory and not adjusted for multiplicity: with no "
        f"real difference anywhere about {ALPHA * len(rest):.0f} of them would be resolved by chance, so "
        "no conclusion is drawn from an isolated resolved row, only from a pattern that repeats across "
        "orders and networks." + (" A row with one seed is about that one trained pair: its interval "
                                  "covers the test images only." if any(c["n_seeds"] == 1 for c in rest)
                                  else "")]
