"""``horq-ref bench`` (horq_ref.commands.bench) through the CLI: structure and values, no timing goals."""

import pytest

from horq_ref.commands import main
from horq_ref.cost import speedup


def test_bench_on_a_tiny_layer(capsys):
    argv = ["bench", "--batch", "1", "--channels", "64", "--size", "6", "--filters", "8",
            "--orders", "1", "2", "--repeats", "1", "--threads", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "N=1 C=64 6x6" in out and "threads: 1 (bits pool); BLAS threads:" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["1"], ["2"])]
    assert [int(r[0]) for r in rows] == [1, 2]
    for r in rows:
        K, float_ms, f_iqr, bits_ms, b_iqr, ratio = int(r[0]), *map(float, r[1:6])
        model, rel = float(r[7]), float(r[10])
        assert bits_ms > 0 and ratio > 0 and f_iqr == b_iqr == 0  # one round: no spread
        # ratio = float time / bits time; the times are printed to +-0.005 ms and the ratio to
        # +-0.005, which bounds how far the ratio of the printed times can be from the printed ratio
        slack = 0.005 * (1 + float_ms / bits_ms) / (bits_ms - 0.005) + 0.005
        assert abs(ratio - float_ms / bits_ms) <= slack
        assert model == pytest.approx(speedup(64, 3, 3, K), abs=0.005)
        # bits against the float backend: rounding only (order one's beta_1 is a box sum, 576 terms)
        assert rel < 1e-4


@pytest.mark.parametrize("flag, value", [("--batch", "0"), ("--threads", "0"), ("--orders", "0"),
                                         ("--repeats", "0")])
def test_bench_rejects_bad_arguments(flag, value, capsys):
    assert main(["bench", flag, value, "--size", "4", "--channels", "8", "--filters", "2"]) == 2
    assert flag in capsys.readouterr().err


def test_bench_rejects_a_kernel_larger_than_the_input(capsys):
    assert main(["bench", "--size", "2", "--padding", "0", "--kernel", "3", "--channels", "4",
                 "--filters", "2", "--repeats", "1"]) == 2
    assert "kernel" in capsys.readouterr().err
