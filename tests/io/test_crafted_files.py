"""Crafted checkpoint and packed-model files: each ends as a one-line error, in bounded memory and work.

Each case runs ``horq-ref export`` or ``horq-ref predict`` in a child process whose address space is
capped (RLIMIT_AS) and reports the child's peak resident size (VmHWM, at most 200 MB) and the bytes
its zip members delivered (the work of reading: no more than the file holds, since every refusal is
decided from declared sizes before a member is inflated). The wall time is printed, never asserted
(it depends on the machine's load); a hang is caught by the child's timeout. Tampered values (NaN,
negative scale or variance) are refused by ``predict`` and ``export``.
"""

import inspect
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from support import one_line_error

from horq_ref.commands import main
from horq_ref.data.datasets import load_dataset
from horq_ref.io.checkpoint import META_KEY, load_state, save_state
from horq_ref.io.export import export_model, load_packed
from horq_ref.nn.models import build_model
from horq_ref.nn.train import train

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc/self/status")

def count_member_reads(counter, set_attr=setattr):
    """Make every read of a zip member add the number of bytes it returns to ``counter[0]``.

    ``read`` and ``read1`` are the two ways out of a member (``readinto`` goes through ``read``);
    the bytes are counted after inflation, so a decompression bomb counts at its inflated size.
    """
    import zipfile

    for name in ("read", "read1"):
        original = getattr(zipfile.ZipExtFile, name)

        def counted(self, n=-1, _original=original):
            data = _original(self, n)
            counter[0] += len(data)
            return data

        set_attr(zipfile.ZipExtFile, name, counted)


CHILD = textwrap.dedent("""
    import resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
    {count_member_reads}
    delivered = [0]
    count_member_reads(delivered)
    from horq_ref.commands import main
    t0 = time.perf_counter()
    rc = main(sys.argv[1:])
    # VmHWM is the peak resident size of this process's own memory map; ru_maxrss is not used
    # because Linux carries the parent's peak over an exec (a large pytest process would show).
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print("SECONDS", time.perf_counter() - t0, "RSS_KIB", hwm, "MEMBER_BYTES", delivered[0], "RC", rc)
""")
CAP = 1 << 30       # the child may map 1 GiB (imports map ~400 MB of virtual space), ...
RSS_LIMIT_KIB = 200 * 1024  # ... but must stay below 200 MB resident
HANG_SECONDS = 120  # a refusal takes well under a second; this only turns a hang into a failure


def _run_capped(argv):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    child = CHILD.format(cap=CAP, count_member_reads=inspect.getsource(count_member_reads))
    out = subprocess.run([sys.executable, "-c", child] + argv, capture_output=True,
                         text=True, env=env, timeout=HANG_SECONDS)
    words = out.stdout.split("SECONDS")[-1].split()
    assert "RC" in words, (out.stdout, out.stderr)
    secs, rss, delivered, rc = float(words[0]), int(words[2]), int(words[4]), int(words[6])
    return rc, secs, rss, delivered, out.stderr


def _write_npz(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name + ".npy", data)


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _meta(kind, state):
    text = json.dumps({"kind": kind, "version": 1, "state": state}).encode()
    return _npy(np.frombuffer(text, dtype=np.uint8))


def _npy_header_only(shape, dtype="<f4"):
    """A .npy member whose header claims ``shape`` but which holds no data."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()  # magic, header length and header


def _write_bomb(path, meta, n):
    """An npz whose member ``w`` inflates to ``n`` float32 zeros (streamed: never held in memory)."""
    header = {"descr": "<f4", "fortran_order": False, "shape": (n,)}
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, header)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(META_KEY + ".npy", meta)
        with z.open("w.npy", "w", force_zip64=True) as fh:
            fh.write(head.getvalue())
            zeros = bytes(1 << 22)
            for _ in range(4 * n // len(zeros)):
                fh.write(zeros)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("crafted")
    ds = load_dataset(limit_train=200, limit_test=50)
    model = build_model("mlp", "horq2", hidden=16)
    ck = d / "ck.npz"
    train(model, ds, epochs=1, batch_size=100, log=None, checkpoint_path=ck,
          model_config=model.config)
    packed = d / "packed.npz"
    export_model(model, packed)
    return d, ck, packed


def _crafted(d, case, ck, packed):
    path = d / f"{case}.npz"
    if case == "huge-hidden":
        state = load_state(packed, kind="packed-model")
        state["header"]["model_config"]["hidden"] = [20000, 20000]
        save_state(path, state, kind="packed-model")
    elif case == "huge-member":
        state = {"w": {"__array__": "w"}}
        _write_npz(path, {META_KEY: _meta("checkpoint", state), "w": _npy_header_only((10 ** 12,))})
    elif case == "deep-json":
        deep = "[" * 100000 + "]" * 100000
        raw = ('{"kind": "checkpoint", "version": 1, "state": %s}' % deep).encode()
        _write_npz(path, {META_KEY: _npy(np.frombuffer(raw, dtype=np.uint8))})
    elif case == "deflate-bomb":
        state = {"w": {"__array__": "w"}}
        _write_bomb(path, _meta("checkpoint", state), 100_000_000)  # 400 MB of zeros, ~0.4 MB
    return path


@pytest.mark.slow
@pytest.mark.parametrize("case, command", [
    ("huge-hidden", "predict"), ("huge-member", "export"), ("deep-json", "export"),
    ("deflate-bomb", "export"),
])
def test_crafted_file_is_a_one_line_error_in_bounded_memory(files, case, command):
    d, ck, packed = files
    path = _crafted(d, case, ck, packed)
    if command == "predict":
        argv = ["predict", "--model", str(path), "--limit", "20"]
    else:
        argv = ["export", "--checkpoint", str(path), "--out", str(d / f"{case}-out.npz")]
    rc, secs, rss, delivered, err = _run_capped(argv)
    print(f"{case}: {secs:.3f} s (printed, not asserted), peak RSS {rss / 1024:.0f} MiB, "
          f"{delivered:,} bytes read from members of a {path.stat().st_size:,}-byte file")
    assert rc == 2, err
    one_line_error(err)
    assert rss < RSS_LIMIT_KIB, rss
    assert delivered <= path.stat().st_size, delivered  # refused before inflating anything


def test_the_count_of_member_bytes_sees_an_inflating_reader(files, monkeypatch):
    """Negative control of the count above: a reader that streams the bomb's member (as a loader
    that trusted its zip header would) is counted at the inflated size, far beyond the file's."""
    d, ck, packed = files
    path = _crafted(d, "deflate-bomb", ck, packed)
    delivered = [0]
    count_member_reads(delivered, monkeypatch.setattr)
    with zipfile.ZipFile(path) as z, z.open("w.npy") as fh:
        for _ in range(8):
            fh.read(1 << 20)
    assert delivered[0] == 8 << 20 > 10 * path.stat().st_size


def test_members_not_named_in_the_metadata_are_refused(files, tmp_path):
    d, ck, packed = files
    with zipfile.ZipFile(ck) as z:
        members = {n[:-4]: z.read(n) for n in z.namelist()}
    members["extra"] = _npy(np.zeros(3))
    bad = tmp_path / "extra.npz"
    _write_npz(bad, members)
    with pytest.raises(ValueError, match="extra"):
        load_state(bad)


def test_npy_header_larger_than_its_member_is_refused(tmp_path):
    bad = tmp_path / "h.npz"
    _write_npz(bad, {META_KEY: _meta("checkpoint", {"w": {"__array__": "w"}}),
                     "w": _npy_header_only((1000,))})
    with pytest.raises(ValueError, match="w"):
        load_state(bad)


def test_a_member_claiming_more_bytes_than_the_file_is_refused(tmp_path):
    """Header and zip directory agree on 2 GB of data that the file does not hold."""
    head = _npy_header_only((500_000_000,))
    bad = tmp_path / "liar.npz"
    _write_npz(bad, {META_KEY: _meta("checkpoint", {"w": {"__array__": "w"}}), "w": head})
    raw = bytearray(bad.read_bytes())
    entry = raw.rindex(b"PK\x01\x02")  # the central directory entry of w.npy (written last)
    claimed = len(head) + 2_000_000_000
    raw[entry + 20:entry + 28] = claimed.to_bytes(4, "little") * 2  # compressed, uncompressed
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="more than the file holds"):
        load_state(bad)


def test_deep_json_is_refused_by_depth(tmp_path):
    bad = tmp_path / "deep.npz"
    raw = ('{"kind": "checkpoint", "version": 1, "state": %s}' % ("[" * 200 + "]" * 200)).encode()
    _write_npz(bad, {META_KEY: _npy(np.frombuffer(raw, dtype=np.uint8))})
    with pytest.raises(ValueError, match="deep"):
        load_state(bad)


def test_a_legitimate_round_trip_still_works(files):
    d, ck, packed = files
    assert load_packed(packed).config["hidden"] == 16


# ---- tampered values -------------------------------------------------------------------------

def _tamper(packed, tmp_path, edit):
    state = load_state(packed, kind="packed-model")
    edit(state)
    path = tmp_path / "t.npz"
    save_state(path, state, kind="packed-model")
    return path


@pytest.mark.parametrize("edit, word", [
    (lambda s: s["float"]["fc3.b"].__setitem__(0, np.nan), "fc3.b"),
    (lambda s: s["float"]["fc1.W"].__setitem__((0, 0), np.inf), "fc1.W"),
    (lambda s: s["binary"]["fc2.W"]["alpha"].__setitem__(0, -1.0), "alpha"),
    (lambda s: s["binary"]["fc2.W"]["alpha"].__setitem__(0, 0.0), "alpha"),
    (lambda s: s["float"]["bn1.running_var"].__setitem__(0, -1.0), "running_var"),
    (lambda s: s["header"]["model_config"].__setitem__("num_classes", 1), "num_classes"),
])
def test_predict_refuses_tampered_values(files, tmp_path, edit, word, capsys):
    d, ck, packed = files
    path = _tamper(packed, tmp_path, edit)
    with pytest.raises(ValueError, match=word):
        load_packed(path)
    assert main(["predict", "--model", str(path), "--limit", "20"]) == 2
    err = capsys.readouterr().err
    assert word in err and "Traceback" not in err


def test_export_refuses_a_nan_weight(files, tmp_path, capsys):
    d, ck, packed = files
    state = load_state(ck)
    state["model"]["fc3.b"][0] = np.nan
    bad = tmp_path / "nan.npz"
    save_state(bad, state)
    assert main(["export", "--checkpoint", str(bad), "--out", str(tmp_path / "o.npz")]) == 2
    assert "fc3.b" in capsys.readouterr().err
    assert not (tmp_path / "o.npz").exists()
