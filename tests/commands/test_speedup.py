"""``horq-ref speedup`` (horq_ref.commands.speedup): the table of the model's S_K, its values and options."""

import pytest

from horq_ref.commands import main
from horq_ref.cost import speedup


def table_rows(out):
    """Lines of the form '<kh>x<kw> <channels> <values...>'."""
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if parts and "x" in parts[0] and parts[0].replace("x", "").isdigit():
            rows.append(parts)
    return rows


def test_speedup_prints_the_model_table(capsys):
    assert main(["speedup"]) == 0
    out = capsys.readouterr().out
    assert "model" in out and "not a\nmeasurement" in out and "known here only" in out
    assert "c = input channels, N_W = kernel height x width" in out  # every symbol of the formula defined
    rows = table_rows(out)
    assert len(rows) == 3 * 4  # kernels 1, 3, 5 x channels 64..512
    for parts in rows:
        kh, kw = map(int, parts[0].split("x"))
        c = int(parts[1])
        for K, printed in enumerate(parts[2:], start=1):
            assert float(printed) == pytest.approx(speedup(c, kh, kw, K), abs=0.005)  # 2 decimals
    assert "   3x3      256    62.27    31.14" in out


def test_speedup_options(capsys):
    assert main(["speedup", "--orders", "2", "5", "--channels", "32", "--kernels", "7"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert rows == [["7x7", "32", f"{speedup(32, 7, 7, 2):.2f}", f"{speedup(32, 7, 7, 5):.2f}"]]
