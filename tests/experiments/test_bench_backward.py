"""``horq-ref bench --backward`` and ``horq-ref speedup --backward``: structure and values, no timing goals."""

import pytest

from horq_ref.commands import main
from horq_ref.cost import backward_cost, speedup
from horq_ref.experiments.bench_backward import alternating_times, run_backward_bench


def test_backward_bench_rows_on_a_tiny_layer():
    r = run_backward_bench(batch=1, channels=8, size=5, filters=3, kernel=3, stride=2, padding=1,
                           orders=(1, 3), repeats=2)
    assert r.rows_M == 9 and [row.order for row in r.rows] == [1, 3]
    for row in r.rows:
        assert row.ratio_min <= row.ratio <= row.ratio_max
        assert row.rel_diff < 1e-5  # float32: (n + 1) eps sum|terms| with n <= 28 terms
        cost = backward_cost(8, 3, 3, 9, 3, row.order)
        assert row.counted_ratio == cost.float_ops / cost.binary_ops


def test_alternating_times_shape_and_order():
    calls = []
    t = alternating_times([lambda: calls.append("a"), lambda: calls.append("b")], 2)
    assert t.shape == (2, 2) and (t >= 0).all()
    assert calls == ["a", "b", "b", "a"]  # the order alternates


def test_cli_bench_backward(capsys):
    argv = ["bench", "--backward", "--batch", "1", "--channels", "4", "--size", "4", "--filters", "2",
            "--orders", "1", "2", "--repeats", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "binary operands" in out and "M=16 rows" in out
    assert len([l for l in out.splitlines() if l.split()[:1] in (["1"], ["2"])]) == 2


def test_cli_speedup_backward_table(capsys):
    assert main(["speedup", "--backward", "--orders", "1", "3", "--channels", "256", "--kernels", "3"]) == 0
    out = capsys.readouterr().out
    assert "one float operand" in out
    rows = [l.split() for l in out.splitlines() if l.strip().startswith("3x3 ") and len(l.split()) == 10]
    assert [r[2] for r in rows] == ["1", "3"]
    for r in rows:
        K = int(r[2])
        c = backward_cost(256, 3, 3, 1024, 256, K)
        assert float(r[3]) == pytest.approx(speedup(256, 3, 3, K), abs=0.005)
        assert float(r[8]) == pytest.approx(c.mults_ratio, abs=0.5)
        assert float(r[9]) == pytest.approx(c.float_ops / c.binary_ops, abs=0.005)
