"""The bench's statistics (horq_ref.experiments.bench): median, spread, threads, and a ratio withheld
when the spread makes it unreliable. No timing goals."""

import pytest

from horq_ref.experiments.bench import BenchResult, BenchRow, format_bench, run_bench, timing_stats


def test_timing_stats_say_when_the_ratio_is_unreliable():
    steady = timing_stats([1.0, 1.01, 0.99, 1.0, 1.0], [0.5, 0.5, 0.51, 0.49, 0.5])
    assert steady["ratio"] == pytest.approx(2.0, rel=0.02) and steady["reliable"]
    noisy = timing_stats([1.0, 3.0, 0.6, 2.0, 1.2], [0.5, 0.5, 0.51, 0.49, 0.5])
    assert not noisy["reliable"]  # quartiles 1.0 and 2.0: the ratio lies anywhere in 1.96..4.08
    assert noisy["ratio_low"] < noisy["ratio"] < noisy["ratio_high"]


def test_bench_reports_median_spread_and_threads(capsys):
    res = run_bench(batch=1, channels=8, size=6, filters=4, kernel=3, orders=(1,), repeats=3,
                    threads=1)
    text = format_bench(res)
    assert "median" in text and "IQR" in text and "threads: 1" in text
    assert res.blas["threads_requested"] == 1
    assert res.rows[0].float_iqr >= 0 and res.rows[0].bits_iqr >= 0


def test_unreliable_ratio_is_not_printed_as_a_number(monkeypatch):
    res = run_bench(batch=1, channels=8, size=6, filters=4, kernel=3, orders=(1,), repeats=3,
                    threads=1)
    row = res.rows[0]
    shaky = BenchRow(**{**row.__dict__, "reliable": False})
    text = format_bench(BenchResult(**{**res.__dict__, "rows": [shaky]}))
    assert "ratio unreliable" in text
    line = next(l for l in text.splitlines() if l.startswith(f"{1:5d} "))
    assert f"{row.ratio:7.2f}" not in line and "n/a" in line
