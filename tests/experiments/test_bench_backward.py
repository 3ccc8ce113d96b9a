"""``horq-ref bench --backward`` and ``horq-ref speedup --backward``: structure and values, no timing goals."""

import numpy as np
import pytest

from horq_ref.commands import main
from horq_ref.cost import backward_cost, speedup
from horq_ref.experiments.bench import Spread, interleaved_times
from horq_ref.experiments.bench_backward import _ratio, run_backward_bench


def test_backward_bench_rows_on_a_tiny_layer():
    r = run_backward_bench(batch=1, channels=8, size=5, filters=3, kernel=3, stride=2, padding=1,
                           orders=(1, 3), repeats=3, group=4)
    assert r.rows_M == 9 and [row.order for row in r.rows] == [1, 3] and r.group == 4
    for row in r.rows:
        assert list(row.times) == ["float", "reference", "lookup"]
        assert list(row.ratios) == ["reference/lookup", "float/lookup", "float/reference"]
        for s in list(row.times.values()) + list(row.ratios.values()):
            assert 0 < s.low <= s.median <= s.high
        assert row.rel_diff < 1e-5  # float32: about (n + 1) eps sum|terms|, n <= 28 (theory.md §14-15)
        cost = backward_cost(8, 3, 3, 9, 3, row.order, group=4)
        assert row.counted == (cost.binary_adds_input + cost.binary_adds_weight) / (
            cost.lut_adds_input + cost.lut_adds_weight)


@pytest.mark.parametrize("low,high,withheld", [(0.5, 2.0, True), (0.9, 1.0, True), (1.01, 3.0, False),
                                               (0.2, 0.9, False)])
def test_a_ratio_is_withheld_only_when_its_range_straddles_one(low, high, withheld):
    text = _ratio(Spread(median=(low + high) / 2, low=low, high=high))
    assert text.startswith("withheld") == withheld
    assert text.endswith(f"({low:.3g}-{high:.3g})")


@pytest.mark.parametrize("warm_up, order", [(False, "abba"), (True, "aabbbbaa")])
def test_interleaved_times_shape_and_order(warm_up, order):
    calls = []
    t = interleaved_times([lambda: calls.append("a"), lambda: calls.append("b")], 2, warm_up)
    assert np.shape(t) == (2, 2) and (np.asarray(t) >= 0).all()  # times[function][round]
    assert "".join(calls) == order  # the order alternates; a warm-up call precedes each timed one


def test_spread_of_percentiles():
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert Spread.of(values) == Spread(3.0, 1.0, 5.0)  # median and the whole range
    assert Spread.of(values, 25, 75) == Spread(3.0, 2.0, 4.0)  # median and quartiles


def test_cli_bench_backward(capsys):
    argv = ["bench", "--backward", "--batch", "1", "--channels", "4", "--size", "4", "--filters", "2",
            "--orders", "1", "2", "--repeats", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "binary operands" in out and "table lookup" in out and "M=16 rows" in out
    assert len([l for l in out.splitlines() if l.split()[:1] in (["1"], ["2"])]) == 4  # times, ratios


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
