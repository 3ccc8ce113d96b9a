"""A seeded fuzzer of the files horq-ref reads back: a training checkpoint, a packed model and a runs
record of ``reproduce``, each mutated at random and handed to the command that reads it.

Mutations (of one field, array or key of the real file, chosen at random): type swaps (a string, a
list, a dict, None, a bool where something else belongs), dtype changes (complex, half precision,
integers, big-endian), shape changes, deleted and extra keys, huge and non-finite numbers, inflated
metadata (many containers, deep nesting) and huge orders. The property for every mutation, as the
command line reports it (``horq_ref.commands.main`` in this process, the exit status of the console
command):

* exit status 0 and a result equal to the unmutated file's (the mutation was harmless: a big-endian
  array, say, or a timing that nothing reads), or
* exit status 2 and one line on standard error that names the file, and no traceback.

``export``, ``predict`` and ``train --resume`` run once per mutation of a checkpoint or packed
model. A runs record goes through :func:`horq_ref.experiments.reproduce_run.saved_run`, the code
that ``reproduce`` reads records with (same property: an equal record, or a one-line ``ValueError``
naming the file), and every ``REPRODUCE_EVERY``-th one through ``reproduce`` itself. Peak memory is
bounded (the process's maximum resident size grows by at most ``MEMORY_MB``); time is bounded by the
sizes the schema allows, not asserted. ``HORQ_FUZZ_COUNT`` sets the number of mutations (default
300, spread over the three kinds). The negative control disables the schema check of one field
(the checkpoint's history) and shows that the fuzzer then finds a failure.
"""

import contextlib
import copy
import io
import json
import os
import resource
import shutil

import numpy as np
import pytest

from horq_ref.commands import main
from horq_ref.io import schema
from horq_ref.io.checkpoint import load_state, save_state
from horq_ref.nn import train as train_mod

COUNT = int(os.environ.get("HORQ_FUZZ_COUNT", "300"))
REPRODUCE_EVERY = 25
MEMORY_MB = 500
TRAIN = ["--arch", "mlp", "--method", "horq2", "--hidden", "8", "--batch-size", "50",
         "--limit-train", "100", "--limit-test", "20"]
REPRODUCE = ["reproduce", "--quick", "--models", "mlp", "--seeds", "1", "--epochs", "1",
             "--limit-train", "100", "--limit-test", "40", "--hidden", "8", "--bound-groups", "5",
             "--jobs", "1"]
WRONG = [-1, -0.5, 2**200, float("nan"), float("inf"), -1e300, 1e300, "x", True, None, [], {}]  # no field
# takes any of these (a value in range, 0.5 for a loss say, would make another valid file)
DTYPES = [np.complex128, np.float16, np.int64, ">f4", ">f8", ">u8", np.bool_, np.uint8]


def cli(argv):
    """``(exit status, stdout, stderr)`` of ``horq-ref ARGV`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _line(text, start):
    """The first line of ``text`` that starts with ``start`` (the result a command prints)."""
    return next((line.split(", backend")[0] for line in text.splitlines() if line.startswith(start)), None)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A real checkpoint, packed model and reproduce folder, and what the commands give on them."""
    d = tmp_path_factory.mktemp("fuzz")
    assert cli(["train", "--epochs", "1", "--out", str(d / "t")] + TRAIN)[0] == 0
    assert cli(["export", "--checkpoint", str(d / "t" / "checkpoint.npz"), "--out", str(d / "m.npz")])[0] == 0
    code, out, _ = cli(["predict", "--model", str(d / "m.npz"), "--limit", "20"])
    shutil.copy(d / "t" / "checkpoint.npz", d / "ck.npz")
    resumed = cli(["train", "--epochs", "2", "--checkpoint", str(d / "ck.npz"), "--resume"] + TRAIN)
    assert code == 0 and resumed[0] == 0
    assert cli(REPRODUCE + ["--out", str(d / "r")])[0] == 0
    return {"dir": d, "checkpoint": d / "t" / "checkpoint.npz", "model": d / "m.npz",
            "exported": load_state(d / "m.npz", kind=None), "predicted": _line(out, "test accuracy"),
            "resumed": _line(resumed[1], "final test accuracy"), "runs": d / "r",
            "results": json.loads((d / "r" / "results.json").read_text())["runs"]}


def _places(tree, at=()):
    """Every ``(container, key)`` of the nested dicts and lists ``tree``, inner ones included."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for k, v in items:
        yield tree, k
        yield from _places(v, at + (k,))


def mutate(tree, rng):
    """Change one place of ``tree`` (in place) at random; return a short description."""
    places = list(_places(tree))
    box, key = places[rng.integers(len(places))]
    value, kind = box[key], rng.choice(["value", "dtype", "shape", "delete", "extra", "inflate"])
    if kind == "value" or (kind in ("dtype", "shape") and not isinstance(value, np.ndarray)):
        box[key] = WRONG[rng.integers(len(WRONG))]
        if isinstance(value, np.ndarray) and value.size and rng.random() < 0.5:
            box[key] = value.astype(np.float64).copy()  # one entry wrong, the rest intact
            box[key].flat[rng.integers(value.size)] = rng.choice([np.nan, np.inf, 1e30])
    elif kind == "dtype":
        box[key] = value.astype(DTYPES[rng.integers(len(DTYPES))])
    elif kind == "shape":  # (a shape that differs: the transpose of a square matrix would not)
        shapes = [value[:-1], value[None], value.T.copy(), value.reshape(-1)[:1].reshape(())]
        box[key] = [a for a in shapes if a.shape != value.shape][rng.integers(3)] if value.ndim else \
            value.reshape(1)
    elif kind == "delete" and isinstance(box, dict):
        del box[key]
    elif kind == "extra" and isinstance(box, dict):
        box["extra"] = 1
    else:  # inflated metadata: many containers, or deep nesting
        box[key] = [{}] * 100_000 if rng.random() < 0.5 else json.loads("[" * 200 + "]" * 200)
    return f"{kind} at {key!r}"


def _order(tree, rng):
    """A huge order in the model's configuration (a model file that would run for hours)."""
    config = tree["header"]["model_config"] if "header" in tree else tree["model_config"]
    config["order"] = [10**6, 2**70, 1180591620717411303424, 0][rng.integers(4)]
    return f"order {config['order']}"


def _check(code, err, path, same, what):
    """The property: ``(exit 0 and same)`` or ``(exit 2 and one line naming path)``."""
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 0 and same:
        return None
    if code == 2 and len(lines) == 1 and "Traceback" not in err and os.path.basename(path) in err:
        return None
    return f"{what}: exit {code}, same result {same}, stderr {err[-300:]!r}"


def _fuzz_npz(files, kind, rng, n, tmp):
    """``n`` mutations of the checkpoint or the packed model, each read by its commands."""
    source = files["checkpoint"] if kind == "checkpoint" else files["model"]
    original, failures = load_state(source, kind=None), []
    for i in range(n):
        tree, path = copy.deepcopy(original), tmp / f"{kind}{i}.npz"
        what = _order(tree, rng) if rng.random() < 0.05 else mutate(tree, rng)
        try:
            save_state(path, tree, kind=kind if kind == "checkpoint" else "packed-model")
        except TypeError:  # a value save_state cannot store (npz holds numbers only)
            continue
        for fail in _run_npz(files, kind, path, tmp / f"out{i}.npz"):
            failures.append(f"{kind} {i} ({what}): {fail}" if fail else None)
        os.remove(path)
    return [f for f in failures if f]


def _run_npz(files, kind, path, out):
    """The commands that read a mutated ``path``: one property check each."""
    if kind == "model":
        code, text, err = cli(["predict", "--model", str(path), "--limit", "20"])
        yield _check(code, err, path, _line(text, "test accuracy") == files["predicted"], "predict")
        return
    code, _, err = cli(["export", "--checkpoint", str(path), "--out", str(out)])
    same = code == 0 and _same_state(load_state(out, kind=None), files["exported"])
    yield _check(code, err, path, same, "export")
    code, text, err = cli(["train", "--epochs", "2", "--checkpoint", str(path), "--resume"] + TRAIN)
    yield _check(code, err, path, _line(text, "final test accuracy") == files["resumed"], "train --resume")
    if os.path.exists(out):
        os.remove(out)


def _same_state(a, b):
    """Nested dicts equal, arrays equal in dtype, shape and values."""
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b)
    return json.dumps(a) == json.dumps(b)


def _fuzz_records(files, rng, n, tmp):
    """``n`` mutations of a runs record, read by saved_run (and every so often by reproduce)."""
    from horq_ref.data.datasets import load_dataset
    from horq_ref.experiments.reproduce import PRESETS, PTQ_LIMITS
    from horq_ref.experiments.reproduce_run import saved_run

    ds = load_dataset(limit_train=100, limit_test=40)
    spec = dict(PRESETS["quick"]["mlp"], seeds=1, epochs=1, hidden=(8, 8), ptq=PTQ_LIMITS["quick"])
    name, failures = "mlp-float-seed0.json", []
    path = files["runs"] / "runs" / name
    good = path.read_text()
    original = saved_run(str(path), ds, ("mlp", "float", 0), spec)
    for i in range(n):
        tree = json.loads(good)
        what = mutate(tree, rng)
        path.write_text(json.dumps(tree))
        if i % REPRODUCE_EVERY == 0:
            code, _, err = cli(REPRODUCE + ["--out", str(files["runs"])])
            same = code == 0 and _untimed(json.loads((files["runs"] / "results.json").read_text())[
                "runs"]) == _untimed(files["results"])
            fail = _check(code, err, path, same, "reproduce")
        else:
            fail = _saved(saved_run, str(path), ds, spec, original)
        failures += [f"record {i} ({what}): {fail}"] if fail else []
    path.write_text(good)
    return failures


def _untimed(tree):
    """``tree`` without its measured times and rates (any value of those is a valid file)."""
    if isinstance(tree, dict):
        return {k: _untimed(v) for k, v in tree.items() if not str(k).endswith(("seconds", "per_s"))}
    return [_untimed(v) for v in tree] if isinstance(tree, list) else tree


def _saved(saved_run, path, ds, spec, original):
    """The library form of the property: an equal record, or a one-line ValueError naming path."""
    try:
        same = _untimed(saved_run(path, ds, ("mlp", "float", 0), spec)) == _untimed(original)
    except ValueError as exc:
        return None if "\n" not in str(exc) and os.path.basename(path) in str(exc) else repr(exc)
    except Exception as exc:  # noqa: BLE001 - any other exception is what the fuzzer looks for
        return f"{type(exc).__name__}: {exc}"[:300]
    return None if same else "read back with another result"


def test_no_mutation_gives_a_traceback_a_wrong_result_or_unbounded_memory(files, tmp_path):
    rng = np.random.default_rng(20261206)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    n = COUNT // 3
    failures = (_fuzz_npz(files, "checkpoint", rng, n, tmp_path) + _fuzz_npz(files, "model", rng, n, tmp_path)
                + _fuzz_records(files, rng, COUNT - 2 * n, tmp_path))
    assert not failures, "\n".join(failures[:10])
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown <= MEMORY_MB, f"peak memory grew by {grown:.0f} MB"


def test_negative_control_a_field_left_unchecked_is_found(files, tmp_path, monkeypatch):
    """With the checkpoint's history accepted unchecked, a damaged history row reaches training and
    the report (a float of "x", a row without its epoch): the fuzzer finds that failure."""
    fields = dict(schema.CHECKPOINT.fields(None, None), history=lambda v, path, ctx: v)
    monkeypatch.setattr(train_mod, "CHECKPOINT", schema.Fields(**fields))
    rng, original, failures = np.random.default_rng(0), load_state(files["checkpoint"], kind=None), []
    for i in range(30):
        tree = copy.deepcopy(original)
        row = tree["history"][0]
        key = list(row)[rng.integers(len(row))]
        row[key] = WRONG[rng.integers(len(WRONG))]
        if rng.random() < 0.3:
            del row[key]
        save_state(tmp_path / "ck.npz", tree)
        code, text, err = cli(["train", "--epochs", "2", "--checkpoint", str(tmp_path / "ck.npz"),
                               "--resume", "--out", str(tmp_path / f"o{i}")] + TRAIN)
        failures += [i] if _check(code, err, tmp_path / "ck.npz", _line(
            text, "final test accuracy") == files["resumed"], "train") else []
    assert failures
