"""Write docs/results.md from docs/results/results.json: the page is the report of a real run.

``horq-ref reproduce --full --out DIR`` writes ``DIR/results.json``, ``DIR/results.md`` and the
figures; ``docs/results/`` keeps a copy of the JSON and the figures of the run shown here. This script
renders the same report from that JSON (``horq_ref.experiments.report.render_markdown``, the code
behind ``DIR/results.md``), with the figure links pointing into ``results/`` and a preface that says
which run it is. ``tests/test_docs.py`` checks that the committed page is what this script writes.

    python docs/gen_results.py
"""

from __future__ import annotations

import json
import pathlib
import re

DOCS = pathlib.Path(__file__).resolve().parent
RESULTS = DOCS / "results" / "results.json"
PAGE = DOCS / "results.md"

CHANGES = (
    "Since the page before it, the comparisons are calibrated (a paired t over seeds for a number per "
    "seed; a two-way interval over seeds and test images for accuracies, chosen by simulated coverage, "
    "`tests/experiments/test_calibration.py`), the paper's direction claims form one Holm-adjusted "
    "family, \"close to float\" is stated as an upper bound on the gap, and the MLPs have 12 seeds "
    "instead of 5 so that the claims on them can be settled.")


def preface(results):
    """Which run the page shows: the command, its wall time, the seeds per network, what changed."""
    info, runs = results["info"], results["runs"]
    seeds = {}
    for r in runs:
        seeds.setdefault(r["model"], len(r["seeds"]))
    per_net = ", ".join(f"{m} {n} seeds x {next(r['epochs'] for r in runs if r['model'] == m)} epochs"
                        for m, n in seeds.items())
    return (f"This page is the report of one run of `{info['command']}` ({per_net}), "
            f"{info['wall_seconds'] / 60:.0f} minutes on {info['cpus']} CPUs, rendered from its "
            f"[`results.json`](results/results.json) by `python docs/gen_results.py`; the figures are "
            f"in [`results/`](results/). {CHANGES}")


def generate(results=None):
    """The text of docs/results.md."""
    from horq_ref.experiments.report import render_markdown

    results = json.loads(RESULTS.read_text(encoding="utf-8")) if results is None else results
    body = render_markdown(results)
    body = re.sub(r"!\[([^\]]*)\]\(([\w.-]+\.png)\)", r"![\1](results/\2)", body)  # figures live in results/
    title, rest = body.split("\n\n", 1)
    return f"{title}\n\n{preface(results)}\n\n{rest}"


if __name__ == "__main__":
    PAGE.write_text(generate(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(DOCS.parent)}")
