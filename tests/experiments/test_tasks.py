"""What the small commands compute (horq_ref.experiments.tasks): the bound report and its warning."""

import warnings

import numpy as np
import pytest

from horq_ref.cost import speedup, speedup_table
from horq_ref.experiments.tasks import SubnormalWarning, bound_report, speedup_text
from horq_ref.theory import closed_form_ratio, refined_bound, worst_case_bound


def test_bound_report_rows_hold_the_theory_on_normal_inputs(rng):
    X = rng.standard_normal((200, 16))
    rows = bound_report(X, 3, law="normal")
    assert [r["order"] for r in rows] == [1, 2, 3] and all(r["n"] == 16 for r in rows)
    for r in rows:
        assert r["measured_max"] <= r["worst_case_bound"] == worst_case_bound(16, r["order"])
        assert r["measured_max"] <= r["refined_bound"] == refined_bound(16, r["order"])
        assert r["identity_max_abs_gap"] < 1e-12  # the energy identity, to rounding
        assert r["closed_form"] == closed_form_ratio("normal", r["order"])  # None where unknown


def test_bound_report_warns_when_subnormal_scales_underflow():
    X = np.array([[5e-324, 0.0, 0.0, 0.0], [1.0, -2.0, 3.0, 0.5]])  # mean |x| of row 0 rounds to 0
    with pytest.warns(SubnormalWarning, match="underflow"):
        rows = bound_report(X, 2)
    assert rows[0]["measured_max"] > rows[0]["worst_case_bound"]  # what the warning is about
    assert rows[0]["underflow_groups"] == 1


def test_bound_report_on_normal_inputs_does_not_warn(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = bound_report(rng.standard_normal((5, 16)) * 1e-300, 2)  # small but normal
    assert rows[0]["underflow_groups"] == 0


def test_speedup_text_has_a_line_per_kernel_and_channel_count():
    table = speedup_table(orders=(1, 2, 3), channels=(64, 512), kernel_sizes=(1, (3, 5)))
    lines = speedup_text(table).splitlines()
    assert len(lines) == 1 + 4 and lines[0].split()[-3:] == ["K=1", "K=2", "K=3"]
    assert lines[-1].split() == ["3x5", "512"] + [f"{speedup(512, 3, 5, K):.2f}" for K in (1, 2, 3)]
