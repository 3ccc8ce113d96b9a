"""``horq-ref reproduce`` on a tiny setting: the results.json schema, results.md, the figures."""

import importlib.util
import json
import math

import numpy as np
import pytest
from support import one_line_error

from horq_ref.commands import main
from horq_ref.experiments import reproduce
from horq_ref.experiments.claims import claims_markdown, exploratory_markdown
from horq_ref.experiments.report import binomial_se, render_markdown, summarize_ptq, summarize_runs
from horq_ref.experiments.stats import compare_records, encode_correct, half_width, holm, paired_interval

TINY = ["--limit-train", "200", "--limit-test", "100", "--epochs", "2", "--hidden", "16",
        "--channels", "2", "--bound-groups", "20"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rq")
    assert main(["reproduce", "--quick", "--out", str(out), "--seeds", "2"] + TINY) == 0
    return out, json.loads((out / "results.json").read_text())


def test_results_json_schema(tiny_run):
    _, res = tiny_run
    runs, ptq = res["runs"], res["ptq"]
    cnn_methods = reproduce.PRESETS["quick"]["cnn"]["methods"]
    assert [(r["model"], r["method"]) for r in runs] == [
        (m, meth) for m in ("mlp", "cnn") for meth in (reproduce.METHODS if m == "mlp" else cnn_methods)]
    for r in runs:
        assert r["dataset"] == "mnist-5k"
        assert r["order"] == {"float": 0, "horq1": 1, "horq2": 2, "horq3": 3,
                              "horq2-refit": 2}[r["method"]]
        assert r["seeds"] == [0, 1] and all(type(s) is int for s in r["seeds"])
        assert r["epochs"] == 2 and r["train_seconds"] > 0
        per = r["test_accuracy_per_seed"]
        assert all(0.0 <= a <= 1.0 for a in per)
        assert r["test_accuracy"] == pytest.approx(np.mean(per))
        assert r["test_accuracy_std"] == pytest.approx(np.std(per, ddof=1))
        assert all(isinstance(r[k], float) for k in ("test_accuracy", "test_accuracy_std"))
    alt = reproduce.PTQ_LIMITS["quick"]["conv_alternating"]
    assert [(p["model"], p["scales"], p["order"]) for p in ptq] == [
        (m, sc, k) for m in ("mlp", "cnn") for sc in reproduce.PTQ_SCALES for k in range(1, 7)
        if not (m == "cnn" and sc == "alternating" and k > alt)]
    for p in ptq:
        assert p["dataset"] == "mnist-5k" and 0.0 <= p["test_accuracy"] <= 1.0
    comp = res["comparisons"]
    assert {(c["model"], c["a"], c["b"]) for c in comp} >= {
        ("mlp", "horq2", "horq1"), ("mlp", "horq2-refit", "horq2"), ("cnn", "horq2", "horq1")}
    for c in comp:
        assert set(c) >= {"model", "a", "b", "diff", "ci_low", "ci_high", "test"}
        assert c["ci_low"] <= c["diff"] <= c["ci_high"] or c["measure"] != "test accuracy"
    assert any(c["a"] == "ptq refit K=2" for c in comp)
    assert set(res["checks"]) == {"mlp_horq2_above_horq1_and_closer_to_float",
                                  "mlp_ptq_not_falling_k1_to_k3", "cnn_ptq_not_falling_k1_to_k3"}
    assert all(row["measured_max"] <= row["refined_bound"] + 1e-9  # rounding slack, as in bound
               for b in res["bound"] for row in b["rows"])
    if importlib.util.find_spec("horq_ref.cost") is not None:
        speed = res["speed"]
        assert speed and all(row["K=1"] > row["K=2"] > row["K=3"] > row["K=4"] > 1 for row in speed)


def test_results_md_and_figures(tiny_run):
    out, res = tiny_run
    md = (out / "results.md").read_text()
    assert "fractions in [0, 1]" in md
    jobs, threads = res["info"]["jobs"], res["info"]["blas"]["threads"]  # the settings, in words
    assert f"{jobs} run(s) at once" in md and f"with {threads} thread(s) each" in md
    assert "1.25 %" in md and "1.96 %" in md and "paper" in md  # the paper's numbers, marked
    n = res["runs"][0]["n_test"]
    assert n == 100
    se = [binomial_se(r["test_accuracy"], n) for r in res["runs"]]
    assert f"{100 * min(se):.2f}–{100 * max(se):.2f} points" in md
    assert "| mlp | horq2 | 2 | 2 |" in md
    assert ("## Speed model" in md) == bool(res["speed"])
    assert "Checks of this run:" in md
    for name in reproduce.FIGURES:
        assert f"![{name}]({name})" in md
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p.name for p in out.iterdir() if p.name.startswith(".tmp")]


def _records():
    recs = []
    for method, order, accs in (("float", 0, [0.96, 0.95]), ("horq1", 1, [0.90, 0.93]),
                                ("horq2", 2, [0.94, 0.95])):
        for seed, a in enumerate(accs):
            hist = [{"epoch": 1, "test_acc": a - 0.1, "train_loss": 1.0},
                    {"epoch": 2, "test_acc": a, "train_loss": 0.5}]
            rec = {"model": "mlp", "method": method, "order": order, "seed": seed, "test_acc": a,
                   "history": hist, "train_seconds": 2.0, "images_per_s": 100.0, "settings": {}}
            if method == "float":
                rec["ptq"] = {"greedy": {1: 0.5 + seed / 10, 2: 0.8, 3: 0.9}}
            recs.append(rec)
    return recs


def test_summaries_from_synthetic_records():
    runs = summarize_runs(_records(), "mnist-5k", 1000)
    h1 = runs[1]
    assert h1["method"] == "horq1" and h1["test_accuracy"] == pytest.approx(0.915)
    assert h1["test_accuracy_std"] == pytest.approx(0.03 / math.sqrt(2))  # |a-b|/sqrt(2), ddof 1
    assert h1["curve_test_acc"] == pytest.approx([0.815, 0.915])
    ptq = summarize_ptq(_records(), "mnist-5k")
    assert [p["order"] for p in ptq] == [1, 2, 3]
    old = _records()  # records with a plain {K: accuracy} are read as greedy scales
    for r in old:
        r.pop("ptq", None) if r["method"] != "float" else r.update(ptq=r["ptq"]["greedy"])
    assert summarize_ptq(old, "mnist-5k") == ptq
    assert ptq[0]["test_accuracy"] == pytest.approx(0.55)
    checks = reproduce._checks(runs, ptq)
    assert checks == {"mlp_horq2_above_horq1_and_closer_to_float": True,
                      "mlp_ptq_not_falling_k1_to_k3": True}
    runs[2]["test_accuracy"] = 0.90  # horq2 below horq1: the check must say so
    ptq[1]["test_accuracy"] = 0.4  # K=2 below K=1
    assert not any(reproduce._checks(runs, ptq).values())


def test_markdown_states_resolution_without_the_sign_heuristic():
    runs = summarize_runs(_records(), "mnist-5k", 1000)
    res = {"runs": runs, "ptq": summarize_ptq(_records(), "mnist-5k"),
           "info": {"command": "c", "wall_seconds": 1.0, "cpus": 2, "data": "d", "figures": []}}
    md = render_markdown(res)
    # sqrt(p(1-p)/n) at p = 0.915 and 0.955, n = 1000: 0.88 and 0.66 points (by hand)
    assert "0.66–0.88 points" in md
    assert "within noise" not in md and "unless it keeps its" not in md  # agreement across seeds is
    assert "can still be an accident of these 1,000 images" in md  # no evidence about the test set


def _paired_records(rng, shift, seeds=4, n=400):
    """Records of float, horq1 and horq2 whose per-image correctness differs by about ``shift``."""
    recs = []
    for method, extra in (("float", shift), ("horq1", 0.0), ("horq2", shift)):
        for seed in range(seeds):
            ok = rng.random(n) < 0.85 + extra
            loss = [1.0, 0.6 - extra + 0.01 * rng.standard_normal()]
            recs.append({"model": "mlp", "method": method, "seed": seed, "correct": encode_correct(ok),
                         "history": [{"train_loss": v} for v in loss]})
    return recs


def test_comparisons_name_their_family_procedure_and_verdict(rng):
    comp = compare_records(_paired_records(rng, 0.1))
    by = {(c["a"], c["b"], c["measure"]): c for c in comp}
    acc, auc = by["horq2", "horq1", "test accuracy"], by["horq2", "horq1", "train-loss AUC"]
    assert acc["family"] == auc["family"] == "confirmatory"
    assert acc["verdict"] == auc["verdict"] == "settled"  # +10 points, 0.1 nats lower: both resolved
    assert [acc["p_holm"], auc["p_holm"]] == pytest.approx(list(holm([acc["p"], auc["p"]])))
    assert acc["test"] == "two-way t, 4 seeds x 400 images" and auc["test"] == "paired t, 4 seeds (3 df)"
    close = by["float", "horq2", "test accuracy"]
    one_sided = half_width(close["v_seeds"], close["v_images"], 4, 0.95)  # one network: level 95 %
    assert close["family"] == "confirmatory" and close["bound"] == pytest.approx(close["diff"] + one_sided)
    assert by["horq2", "horq1", "train-loss total rise"]["family"] == "exploratory"
    md = "\n".join(claims_markdown(comp) + exploratory_markdown(comp))
    assert "* **HORQ-2 is more accurate than XNOR-Net:** settled on mlp." in md
    assert f"float − HORQ-2 is at most {100 * close['bound']:.2f} points on mlp" in md
    assert "Holm-adjusted" in md and "not adjusted for multiplicity" in md
    flipped = compare_records(_paired_records(rng, -0.1))  # horq2 worse: the claim is refuted
    assert {c["verdict"] for c in flipped if c.get("claim", "").startswith("HORQ-2 is more")} == {"refuted"}
    same = compare_records(_paired_records(rng, 0.0))
    verdict = next(c["verdict"] for c in same if c["measure"] == "test accuracy" and c["b"] == "horq1")
    assert verdict == "open"


def test_binomial_se():
    assert binomial_se(0.97, 1000) == pytest.approx(0.0053944, rel=1e-4)  # sqrt(.0291)/sqrt(1000)
    assert binomial_se(1.0, 10) == 0.0
    with pytest.raises(ValueError, match="p must"):
        binomial_se(1.5, 10)


@pytest.mark.parametrize("argv, word", [
    (["--seeds", "0"], "--seeds"), (["--epochs", "-1"], "--epochs"),
    (["--models", "mlp,rnn"], "--models"), (["--data", "cifar10"], "--data-dir"),
    (["--limit-test", "0"], "--limit-test"),
])
def test_bad_arguments_exit_2(argv, word, tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path)] + argv) == 2
    assert word in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written


def test_interrupted_reproduce_resumes_from_finished_runs(tiny_run, capsys):
    """Each finished run is kept in DIR/runs/; a rerun with the same settings reads them back and
    writes the same results; a run with other settings is refused, and trained anew with --force."""
    out, res = tiny_run
    saved = sorted(p.name for p in (out / "runs").iterdir())
    assert len(saved) == 2 * (5 + 4) and "mlp-horq2-seed1.json" in saved
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]  # no temp files
    (out / "runs" / "cnn-horq3-seed1.json").unlink()  # as if interrupted in the last run
    capsys.readouterr()
    assert main(["reproduce", "--quick", "--out", str(out), "--seeds", "2"] + TINY) == 0
    log = capsys.readouterr().out
    assert log.count("finished earlier") == 17
    again = json.loads((out / "results.json").read_text())
    assert res["info"]["runs_read_from_earlier"] == 0 and again["info"]["runs_read_from_earlier"] == 17
    assert "17 of the 18 training runs were read back from an earlier call" in (out / "results.md").read_text()
    assert " ± " in log and "over 2 seeds" in log and "seed(s)" not in log.split("checks:")[0][-400:]
    for r, r2 in zip(res["runs"], again["runs"]):
        assert r2["test_accuracy_per_seed"] == r["test_accuracy_per_seed"]  # same seeds, same weights
    assert again["ptq"] == res["ptq"]
    other = [a if a != "2" or TINY[i - 1] != "--epochs" else "1" for i, a in enumerate(TINY)]
    argv = ["reproduce", "--quick", "--out", str(out), "--seeds", "1", "--models", "mlp"] + other
    assert main(argv) == 2  # the folder holds a run with other settings: refused, nothing replaced
    one_line_error(capsys.readouterr().err, "holds another run's results", "epochs", "--force")
    assert json.loads((out / "results.json").read_text()) == again
    assert main(argv + ["--force"]) == 0
    log = capsys.readouterr().out
    assert "finished earlier" not in log
    assert "mlp float: " in log and "% (1 seed)" in log and "± 0.00" not in log  # one seed: no spread


def test_paired_interval_resolves_a_real_difference_and_not_noise(rng):
    a = rng.random((3, 2000)) < 0.95
    b = a.copy()
    flip = rng.random(a.shape) < 0.05  # b loses 5 % of a's correct answers: a real difference
    b[flip & a] = False
    r = paired_interval(a, b)
    assert r["ci_low"] > 0 and r["diff"] > 0.03
    noise = rng.random((3, 2000)) < 0.95  # negative control: two independent equal-rate sets
    r0 = paired_interval(noise, rng.random((3, 2000)) < 0.95)
    assert r0["ci_low"] < 0 < r0["ci_high"]
