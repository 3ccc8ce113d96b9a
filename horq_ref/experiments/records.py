"""The records ``horq-ref reproduce`` keeps of finished training runs (``OUT/runs/*.json``).

An interrupted run started again with the same data and settings reads them back instead of
training again; a record that claims this run's data and settings but is damaged is refused with
a ``ValueError`` naming the file (it may be a result the user wants to inspect).
"""

from __future__ import annotations

import json
import os

__all__ = ["PTQ_SCALES", "data_note", "saved_run"]

PTQ_SCALES = ("greedy", "refit", "alternating")


def data_note(ds):
    """One line on the data set: its name, sizes and split (records match on it)."""
    what = ("the embedded MNIST subset, stratified split" if ds.name == "mnist-5k"
            else "the full data set's own split, possibly limited")
    return f"{ds.name}: {ds.n_train:,} training / {ds.n_test:,} test images ({what})"


def saved_run(path, ds, spec):
    """The record of a run finished by an earlier, interrupted ``reproduce`` with the same data and
    settings, or None (missing, or made with other data or settings: it is then run again).

    A record that cannot be read, or that claims this run's data and settings but lacks or damages
    the fields the summary reads, is refused with a ``ValueError`` naming the file: it is not run
    again silently, since it may be a result the user wants to inspect."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
    except (OSError, ValueError, RecursionError) as exc:
        raise ValueError(f"{path} is damaged ({type(exc).__name__}); delete it to run it again")
    settings = json.loads(json.dumps({k: v for k, v in spec.items() if k != "seeds"}))
    if not isinstance(rec, dict) or rec.get("data") != data_note(ds) or rec.get("settings") != settings:
        return None
    _check_record(path, rec)
    for key in ("ptq", "ptq_correct"):  # JSON object keys are strings
        if key in rec:
            rec[key] = {sc: {int(k): v for k, v in by.items()} for sc, by in rec[key].items()}
    return rec


def _fraction(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0


def _ptq_ok(ptq):
    """``{scales: {K: accuracy}}`` with known scales, digit keys and fractions."""
    return isinstance(ptq, dict) and all(
        sc in PTQ_SCALES and isinstance(by, dict)
        and all(str(k).isdigit() and _fraction(v) for k, v in by.items()) for sc, by in ptq.items())


def _check_record(path, rec):
    """Raise ``ValueError`` naming ``path`` unless ``rec`` has the fields of :func:`_one_run`."""
    hist = rec.get("history")
    ok = (_fraction(rec.get("test_acc")) and isinstance(hist, list) and hist
          and all(isinstance(h, dict) and _fraction(h.get("test_acc"))
                  and isinstance(h.get("train_loss"), (int, float)) and isinstance(h.get("epoch"), int)
                  for h in hist)
          and all(isinstance(rec.get(k), (int, float)) and not isinstance(rec.get(k), bool)
                  and rec[k] >= 0 for k in ("train_seconds", "images_per_s", "order", "seed"))
          and ("ptq" not in rec or _ptq_ok(rec["ptq"])))
    if not ok:
        raise ValueError(f"{path} is damaged (a field is missing or out of range); delete it to run "
                         f"it again")
