"""The bench's statistics (horq_ref.experiments.bench): median, spread, threads, a ratio withheld when
its range cannot say which side is faster, one reference row, every column defined. No timing goals."""

import pytest

from horq_ref.experiments.bench import BenchResult, BenchRow, format_bench, run_bench, timing_stats


def test_timing_stats_withhold_only_a_ratio_whose_range_contains_one():
    steady = timing_stats([1.0, 1.01, 0.99, 1.0, 1.0], [0.5, 0.5, 0.51, 0.49, 0.5])
    assert steady["ratio"] == pytest.approx(2.0, rel=0.02) and steady["reliable"]
    wide = timing_stats([1.0, 3.0, 0.6, 2.0, 1.2], [0.5, 0.5, 0.51, 0.49, 0.5])
    assert wide["reliable"]  # quartiles 1.0 and 2.0: anywhere in 1.96..4.08, but bits faster throughout
    slow = timing_stats([0.01, 0.03, 0.02, 0.01, 0.03], [1.0, 1.0, 1.0, 1.0, 1.0])
    assert slow["reliable"] and slow["ratio_high"] < 1  # 0.01-0.03: float faster throughout
    noisy = timing_stats([1.0, 3.0, 0.6, 2.0, 1.2], [0.5, 2.5, 0.51, 2.0, 1.5])
    assert not noisy["reliable"] and noisy["ratio_low"] < 1 < noisy["ratio_high"]


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
    assert "ratio withheld" in text and "contains 1" in text
    line = next(l for l in text.splitlines() if l.startswith(f"{1:5d} "))
    assert f"{row.ratio:7.2f}" not in line and "n/a" in line


def test_every_relative_column_divides_by_the_same_row():
    res = run_bench(batch=1, channels=8, size=6, filters=4, kernel=3, orders=(1, 2, 3), repeats=1,
                    threads=1)
    withheld = BenchRow(**{**res.rows[0].__dict__, "reliable": False})
    text = format_bench(BenchResult(**{**res.__dict__, "rows": [withheld] + res.rows[1:]}))
    rows = [line.split() for line in text.splitlines() if line[:5].strip() in ("1", "2", "3")]
    assert rows[0][8:10] == ["-", "2.00"]  # order 1 withheld: S_1 / S_2 = 2
    assert rows[1][8:10] == ["1.00", "1.00"] and "relative to order 2" in text
    for column in ("float ms", "bits ms", "IQR", "ratio range", "model S_K", "rel diff"):
        assert text.count(column) >= 2, f"{column} is not defined under the table"
