"""The records ``horq-ref reproduce`` keeps of finished training runs (``OUT/runs/*.json``).

An interrupted run started again in the same folder (which guarantees the same settings and data,
:func:`horq_ref.io.paths.claim`) reads them back instead of training again. Each record is checked
against :func:`horq_ref.io.schema.run_record` before it is used: it must agree with its name (model,
method, seed), with the run's settings and data, and hold one right-or-wrong mark per test image. A
record that does not is refused with a ``ValueError`` naming the file and the field; it is never run
again silently, since it may be a result the user wants to inspect.
"""

from __future__ import annotations

import os

from ..io.schema import read_json, run_record, validate

__all__ = ["PTQ_SCALES", "data_note", "saved_run"]

PTQ_SCALES = ("greedy", "refit", "alternating")


def data_note(ds):
    """One line on the data set: its name, sizes and split (records match on it)."""
    what = ("the embedded MNIST subset, stratified split" if ds.name == "mnist-5k"
            else "the full data set's own split, possibly limited")
    return f"{ds.name}: {ds.n_train:,} training / {ds.n_test:,} test images ({what})"


def saved_run(path, ds, key, spec):
    """The record of the run ``key`` = ``(model, method, seed)`` with the settings ``spec`` that an
    earlier ``reproduce`` finished in this folder, or None if there is none."""
    from .reproduce_run import ptq_plan

    if not os.path.exists(path):
        return None
    model, method, seed = key
    given = {"model": model, "method": method, "seed": seed, "n_test": ds.n_test,
             "order": int(method[4]) if method.startswith("horq") else 0, "data": data_note(ds),
             "settings": {k: v for k, v in spec.items() if k != "seeds"},
             "ptq": ptq_plan(model, spec["ptq"], ds.n_test) if method == "float" else None}
    rec = validate(run_record(given), read_json(path), path)
    for name in ("ptq", "ptq_correct"):  # JSON object keys are strings
        if name in rec:
            rec[name] = {sc: {int(k): v for k, v in by.items()} for sc, by in rec[name].items()}
    return rec
