"""Checksummed downloads, against an HTTP server on 127.0.0.1 started for each test.

No test contacts any other address: tests/data/conftest.py switches proxies off and makes
``socket.create_connection`` refuse every host but the loopback interface.
"""

import hashlib
import io
import tarfile
import threading
from http.server import BaseHTTPRequestHandler

import numpy as np
import pytest
from support import http_server, mnist_like_files, one_line_error, write_cifar10_batch

from horq_ref import commands as cli
from horq_ref.data import download as dl
from horq_ref.data.datasets import load_dataset
from horq_ref.data.idx import IDX_STEMS

class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files``; ``/truncated/...`` announces the full length but sends half,
    ``/stall/...`` sends headers and then nothing, ``/nolength/...`` omits Content-Length,
    ``/moved/URL`` redirects to URL."""

    def do_GET(self):
        self.server.requests.append(self.path)
        mode, _, rest = self.path.partition("/")[2].partition("/")
        if mode == "moved":  # /moved/URL redirects there
            self.send_response(302)
            self.send_header("Location", rest)
            self.end_headers()
            return
        if mode not in ("truncated", "stall", "nolength"):
            mode, rest = "plain", self.path.lstrip("/")
        body = self.server.files.get(rest)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if mode != "nolength":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "stall":
            self.server.release.wait(5)
            return
        self.wfile.write(body[: len(body) // 2] if mode == "truncated" else body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving ``server.files``, shut down after the test."""
    with http_server(_Handler, files={}, requests=[], release=threading.Event()) as httpd:
        try:
            yield httpd
        finally:
            httpd.release.set()  # a stalled response ends before the server shuts down


def sha(data):
    return hashlib.sha256(data).hexdigest()


PAYLOAD = bytes(range(256)) * 300  # 76,800 bytes: more than one 64 KiB read


def test_file_sha256_matches_the_fips_test_vector(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")  # FIPS 180-2, appendix B.1
    assert dl.file_sha256(tmp_path / "abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_fetch_verified_success(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    dest = tmp_path / "sub" / "a.bin"
    digest = dl.fetch_verified(server.url + "/a.bin", dest, sha(PAYLOAD), size=len(PAYLOAD))
    assert digest == sha(PAYLOAD)
    assert dest.read_bytes() == PAYLOAD
    assert [p.name for p in dest.parent.iterdir()] == ["a.bin"]       # no temporary file left


def test_fetch_verified_without_content_length(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    dl.fetch_verified(server.url + "/nolength/a.bin", tmp_path / "a.bin", sha(PAYLOAD))
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD


def test_wrong_bytes_are_rejected_naming_both_hashes(server, tmp_path):
    tampered = PAYLOAD[:-1] + b"\x00"
    server.files["a.bin"] = tampered
    with pytest.raises(dl.ChecksumError) as excinfo:
        dl.fetch_verified(server.url + "/a.bin", tmp_path / "a.bin", sha(PAYLOAD))
    assert sha(PAYLOAD) in str(excinfo.value) and sha(tampered) in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


def test_failed_fetch_keeps_an_existing_file(server, tmp_path):
    (tmp_path / "a.bin").write_bytes(b"previous")
    server.files["a.bin"] = b"attacker"
    with pytest.raises(dl.ChecksumError):
        dl.fetch_verified(server.url + "/a.bin", tmp_path / "a.bin", sha(b"expected"))
    assert (tmp_path / "a.bin").read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_truncated_transfer_is_rejected(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    with pytest.raises(dl.DownloadError, match="truncated") as excinfo:
        dl.fetch_verified(server.url + "/truncated/a.bin", tmp_path / "a.bin", sha(PAYLOAD))
    assert f"{len(PAYLOAD) // 2} of the {len(PAYLOAD)} bytes" in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


def test_truncated_transfer_is_rejected_even_unverified(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    with pytest.raises(dl.DownloadError, match="truncated"):
        dl.fetch_verified(server.url + "/truncated/a.bin", tmp_path / "a.bin", None)
    assert list(tmp_path.iterdir()) == []


def test_wrong_size_is_rejected(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    with pytest.raises(dl.DownloadError, match="expected a file of"):
        dl.fetch_verified(server.url + "/a.bin", tmp_path / "a.bin", None, size=len(PAYLOAD) + 1)
    assert list(tmp_path.iterdir()) == []


def test_stalled_transfer_times_out(server, tmp_path):
    """The timeout also bounds the wait for the headers: it must leave a busy machine's server
    thread time to send them (0.3 s might not), and end before the server gives up (5 s)."""
    server.files["a.bin"] = PAYLOAD
    with pytest.raises(dl.DownloadError, match="transfer failed after 0 bytes"):
        dl.fetch_verified(server.url + "/stall/a.bin", tmp_path / "a.bin", sha(PAYLOAD),
                          timeout=2.0)
    assert list(tmp_path.iterdir()) == []


def test_http_error_and_bad_arguments(server, tmp_path):
    with pytest.raises(dl.DownloadError, match="HTTP 404"):
        dl.fetch_verified(server.url + "/missing.bin", tmp_path / "m.bin", sha(b""))
    with pytest.raises(ValueError, match="url"):
        dl.fetch_verified("file:///etc/hostname", tmp_path / "m.bin", sha(b""))
    with pytest.raises(ValueError, match="sha256"):
        dl.fetch_verified(server.url + "/missing.bin", tmp_path / "m.bin", "abc")
    assert list(tmp_path.iterdir()) == []
    assert server.requests == ["/missing.bin"]                       # bad arguments never connect


def test_registry_is_complete_and_matches_the_readers():
    assert set(dl.REGISTRY) == {"mnist", "fashion-mnist", "cifar10"}
    for source in dl.REGISTRY.values():
        assert source.base_url.startswith(("http://", "https://")) and source.base_url.endswith("/")
        for f in source.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0 and f.size > 0
            assert "/" not in f.filename
    for name in ("mnist", "fashion-mnist"):
        names = {f.filename for f in dl.REGISTRY[name].files}
        assert names == {stem + ".gz" for stem in IDX_STEMS.values()}


def _register(monkeypatch, name, url, files, extract=False):
    entries = tuple(dl.RemoteFile(n, sha(b), len(b)) for n, b in files.items())
    monkeypatch.setitem(dl.REGISTRY, name, dl.Source(url, entries, extract))


def test_download_then_load_and_skip_when_present(server, tmp_path, rng, monkeypatch):
    files, arrays = mnist_like_files(rng)
    server.files.update(files)
    _register(monkeypatch, "mnist", server.url + "/", files)
    lines = []
    paths = dl.download("mnist", tmp_path, log=lines.append)
    assert sorted(p.name for p in paths) == sorted(files)
    assert all((tmp_path / n).read_bytes() == b for n, b in files.items())
    ds = load_dataset("mnist", data_dir=tmp_path)
    np.testing.assert_array_equal(np.rint(ds.x_test[:, 0] * 255), arrays["test_images"])
    n_requests = len(server.requests)
    dl.download("mnist", tmp_path, log=lines.append)
    assert len(server.requests) == n_requests                         # verified copies are reused
    assert sum("present, SHA-256 verified" in line for line in lines) == 4


def test_download_refuses_unknown_hash_unless_unverified(server, tmp_path, monkeypatch):
    server.files["x.bin"] = PAYLOAD
    monkeypatch.setitem(dl.REGISTRY, "mnist",
                        dl.Source(server.url + "/", (dl.RemoteFile("x.bin", None),)))
    with pytest.raises(ValueError, match="no SHA-256"):
        dl.download("mnist", tmp_path)
    assert list(tmp_path.iterdir()) == []
    lines = []
    dl.download("mnist", tmp_path, verify=False, log=lines.append)
    assert (tmp_path / "x.bin").read_bytes() == PAYLOAD
    assert any("NOT verified" in line and sha(PAYLOAD) in line for line in lines)


def _tar_gz(members):
    """A tar.gz of ``members``: name -> bytes (a file) or ("symlink", target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def test_cifar_download_unpacks_and_loads(server, tmp_path, rng, monkeypatch):
    batches = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        write_cifar10_batch(tmp_path / name, rng.integers(0, 256, (3, 3, 32, 32), dtype=np.uint8),
                            rng.integers(0, 10, 3))
        batches["cifar-10-batches-bin/" + name] = (tmp_path / name).read_bytes()
        (tmp_path / name).unlink()
    archive = _tar_gz(batches)
    server.files["cifar-10-binary.tar.gz"] = archive
    _register(monkeypatch, "cifar10", server.url + "/", {"cifar-10-binary.tar.gz": archive},
              extract=True)
    dl.download("cifar10", tmp_path / "data")
    ds = load_dataset("cifar10", data_dir=tmp_path / "data")
    assert ds.x_train.shape == (15, 3, 32, 32) and ds.x_test.shape == (3, 3, 32, 32)
    assert (tmp_path / "data" / "cifar-10-batches-bin" / "test_batch.bin").read_bytes() == (
        batches["cifar-10-batches-bin/test_batch.bin"])


@pytest.mark.parametrize("bad", ["../evil.bin", "/tmp/evil.bin", "a/../../evil.bin", "link"])
def test_extract_tar_refuses_paths_leaving_the_destination(tmp_path, bad):
    members = {"ok/first.bin": b"fine", bad: ("symlink", "/etc/passwd") if bad == "link" else b"x"}
    (tmp_path / "a.tar.gz").write_bytes(_tar_gz(members))
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(ValueError, match="refusing member"):
        dl.extract_tar(tmp_path / "a.tar.gz", dest)
    assert list(dest.iterdir()) == []                                # nothing written, not even ok/
    assert not (tmp_path / "evil.bin").exists()


def test_extract_tar_rejects_a_damaged_archive(tmp_path):
    (tmp_path / "a.tar.gz").write_bytes(_tar_gz({"f": b"x" * 5000})[:40])
    with pytest.raises(ValueError, match="damaged or not a tar archive"):
        dl.extract_tar(tmp_path / "a.tar.gz", tmp_path)


def test_cli_downloads_through_base_url(server, tmp_path, rng, monkeypatch, capsys):
    files, arrays = mnist_like_files(rng)
    server.files.update({"mirror/" + n: b for n, b in files.items()})
    _register(monkeypatch, "mnist", "https://unused.invalid/", files)
    rc = cli.main(["download", "mnist", "--data-dir", str(tmp_path), "--base-url",
                   server.url + "/mirror", "--timeout", "10"])
    assert rc == 0
    assert "4 files in place" in capsys.readouterr().out
    assert sorted(server.requests) == sorted("/mirror/" + n for n in files)
    assert load_dataset("mnist", data_dir=tmp_path).n_train == len(arrays["train_labels"])


def test_cli_with_the_real_registry_rejects_other_bytes(server, tmp_path, rng, capsys):
    files, _ = mnist_like_files(rng)
    server.files.update(files)
    rc = cli.main(["download", "mnist", "--data-dir", str(tmp_path), "--base-url", server.url])
    assert rc == 2
    err = capsys.readouterr().err
    assert "SHA-256 mismatch" in err and dl.REGISTRY["mnist"].files[0].sha256 in err
    assert list(tmp_path.iterdir()) == []
    rc = cli.main(["download", "mnist", "--data-dir", str(tmp_path), "--base-url", server.url,
                   "--no-verify"])
    assert rc == 0 and sorted(p.name for p in tmp_path.iterdir()) == sorted(files)


def test_cli_rejects_bad_timeout(tmp_path, capsys):
    assert cli.main(["download", "mnist", "--data-dir", str(tmp_path), "--timeout", "0"]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_redirects_are_followed_to_http_only(server, tmp_path):
    server.files["a.bin"] = PAYLOAD
    target = server.url + "/a.bin"
    assert dl.fetch_verified(server.url + "/moved/" + target, tmp_path / "a.bin", sha(PAYLOAD)) == sha(PAYLOAD)
    with pytest.raises(ValueError, match="redirects: the target must be an http:// or https:// URL, got 'ftp://"):
        dl.fetch_verified(server.url + "/moved/ftp://127.0.0.1/a.bin", tmp_path / "b.bin", sha(PAYLOAD))
    assert not (tmp_path / "b.bin").exists()


@pytest.mark.parametrize("base, words", [("http://[::1", "is not a URL"), ("ftp://x/", "http://"),
                                          ("http://", "http://")])
def test_a_bad_base_url_is_refused_before_any_transfer(tmp_path, capsys, base, words):
    assert cli.main(["download", "mnist", "--data-dir", str(tmp_path), "--base-url", base]) == 2
    one_line_error(capsys.readouterr().err, "base_url", words)
    assert list(tmp_path.iterdir()) == []
