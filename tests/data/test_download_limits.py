"""Downloads stop at the expected size and leave no ``.part`` file behind, even after a kill."""

from http.server import BaseHTTPRequestHandler

import pytest
from support import http_server

from horq_ref.commands import main
from horq_ref.data import download as dl


class _Endless(BaseHTTPRequestHandler):
    """Sends bytes without Content-Length until the client hangs up (a hostile server)."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.server.sent = 0
        try:
            while self.server.sent < 50 * (1 << 20):
                self.wfile.write(b"\0" * 65536)
                self.server.sent += 65536
        except OSError:
            pass
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def endless():
    with http_server(_Endless, sent=0) as httpd:
        yield httpd


def test_transfer_stops_at_the_expected_size(endless, tmp_path):
    size = 100_000
    with pytest.raises(dl.DownloadError, match="more than"):
        dl.fetch_verified(endless.url + "/a.bin", tmp_path / "a.bin", None, size=size)
    assert list(tmp_path.iterdir()) == []
    assert endless.sent < 10 * (1 << 20)  # stopped reading long before the server's 50 MiB


def test_a_stale_part_file_from_a_killed_run_is_removed(endless, tmp_path, monkeypatch):
    stale = tmp_path / ".train-images-idx3-ubyte.gz.abc123.part"
    stale.write_bytes(b"half a file")
    monkeypatch.setitem(dl.REGISTRY, "mnist", dl.Source(endless.url + "/", (
        dl.RemoteFile("train-images-idx3-ubyte.gz", None, 1000),)))
    with pytest.raises(dl.DownloadError):
        dl.download("mnist", tmp_path, verify=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-3"])
def test_timeout_must_be_finite_and_positive(value, tmp_path, capsys):
    assert main(["download", "mnist", "--data-dir", str(tmp_path), "--timeout", value]) == 2
    assert "--timeout" in capsys.readouterr().err
    with pytest.raises(ValueError, match="timeout"):
        dl.fetch_verified("http://127.0.0.1:9/a", tmp_path / "a", None, timeout=float(value))
