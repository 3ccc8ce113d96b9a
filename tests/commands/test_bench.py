"""``horq-ref bench`` (horq_ref.commands.bench) through the CLI: structure and values, no timing goals."""

import pytest

from horq_ref.commands import main
from horq_ref.cost import speedup


@pytest.mark.parametrize("busy", [False, True], ids=["measured", "busy-machine-times"])
def test_bench_on_a_tiny_layer(busy, capsys, monkeypatch):
    """The printed table is the measured result, whatever the machine's load.

    The result is caught on its way to the printer, so each printed value is compared with the
    number it rounds: on a busy machine the bits side of one round can take 50 ms against 0.2 ms
    for the float side, a ratio that prints as 0.00 (``busy`` replays such times).
    """
    from horq_ref.commands import bench
    from horq_ref.experiments import bench as experiment
    from horq_ref.experiments.bench import run_bench

    if busy:
        monkeypatch.setattr(experiment, "interleaved_times", lambda fns, repeats: [[2e-4], [5e-2]])
    results = []

    def kept_run_bench(*args):
        results.append(run_bench(*args))
        return results[-1]

    monkeypatch.setattr(bench, "run_bench", kept_run_bench)
    argv = ["bench", "--batch", "1", "--channels", "64", "--size", "6", "--filters", "8",
            "--orders", "1", "2", "--repeats", "1", "--threads", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "N=1 C=64 6x6" in out and "threads: 1 (bits pool); BLAS threads:" in out
    (result,) = results
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["1"], ["2"])]
    assert [int(r[0]) for r in rows] == [r.order for r in result.rows] == [1, 2]
    for printed, r in zip(rows, result.rows):
        # one round: no spread, so the ratio is reliable and is exactly float time / bits time
        assert r.float_iqr == r.bits_iqr == 0 and r.reliable
        assert r.bits_seconds > 0 and r.float_seconds > 0
        assert r.ratio == r.float_seconds / r.bits_seconds
        assert printed[1:6] == [f"{r.float_seconds * 1e3:.2f}", "0.00",
                                f"{r.bits_seconds * 1e3:.2f}", "0.00", f"{r.ratio:.2f}"]
        assert r.model_speedup == speedup(64, 3, 3, r.order)
        assert float(printed[7]) == pytest.approx(r.model_speedup, abs=0.005)  # 2 decimals
        # bits against the float backend: rounding only (order one's beta_1 is a box sum, 576 terms)
        assert r.rel_diff < 1e-4 and printed[10] == f"{r.rel_diff:.1e}"


def test_bench_refuses_a_layer_larger_than_a_quarter_of_the_memory(capsys, monkeypatch):
    """The limit is read from the machine when the command runs (a value computed at import would
    not see the patched memory, and the layer would run)."""
    import os

    real = os.sysconf
    pages = {"SC_PHYS_PAGES": 256, "SC_PAGE_SIZE": 4096}  # 1 MiB of "physical memory"
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name] if name in pages else real(name))
    # im2col of this layer: 4 bytes x 1 x 16 x 16 x (64 x 9 + 8) = 598,016 bytes > 1 MiB / 4
    argv = ["bench", "--batch", "1", "--channels", "64", "--size", "16", "--filters", "8",
            "--orders", "1", "--repeats", "1", "--threads", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "im2col matrix" in err and "0.0 GiB allowed" in err
    pages["SC_PHYS_PAGES"] = 1024  # 4 MiB: 1 MiB allowed, the same layer runs
    assert main(argv) == 0


@pytest.mark.parametrize("flag, value", [("--batch", "0"), ("--threads", "0"), ("--orders", "0"),
                                         ("--repeats", "0")])
def test_bench_rejects_bad_arguments(flag, value, capsys):
    assert main(["bench", flag, value, "--size", "4", "--channels", "8", "--filters", "2"]) == 2
    assert flag in capsys.readouterr().err


def test_bench_rejects_a_kernel_larger_than_the_input(capsys):
    assert main(["bench", "--size", "2", "--padding", "0", "--kernel", "3", "--channels", "4",
                 "--filters", "2", "--repeats", "1"]) == 2
    assert "kernel" in capsys.readouterr().err
