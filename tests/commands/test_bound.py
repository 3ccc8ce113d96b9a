"""``horq-ref bound`` (horq_ref.commands.bound): the table of errors and bounds, the plot, bad arguments."""

import pytest

from horq_ref.commands import main


def test_bound_prints_table_and_writes_plot(tmp_path, capsys):
    png = tmp_path / "sub" / "bound.png"
    assert main(["bound", "--law", "uniform", "--n", "64", "--orders", "3", "--groups", "50",
                 "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    for k, r in enumerate(rows, start=1):
        measured, identity, closed, sharp, worst = map(float, (r[1], r[3], r[5], r[6], r[7]))
        assert measured <= sharp <= worst
        assert closed == pytest.approx(0.25**k, abs=5e-5)  # printed with 4 decimals
        assert abs(measured - identity) < 1e-12
    assert "all groups within the bounds" in out
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in png.parent.iterdir() if p.name.startswith(".tmp")]


def test_bound_on_embedded_mnist(capsys):
    assert main(["bound", "--law", "mnist", "--orders", "2", "--groups", "20"]) == 0
    assert "n=784" in capsys.readouterr().out


@pytest.mark.parametrize("flag, value", [("--n", "0"), ("--orders", "0"), ("--groups", "-1")])
def test_bound_rejects_bad_arguments(flag, value, capsys):
    assert main(["bound", flag, value]) == 2
    assert flag in capsys.readouterr().err
