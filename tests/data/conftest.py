"""The download tests reach only the HTTP servers they start on 127.0.0.1."""

import socket

import pytest

LOOPBACK = {"127.0.0.1", "localhost"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """No proxy, and any connection to a non-loopback host fails the test."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        assert address[0] in LOOPBACK, f"test tried to reach {address[0]}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
