"""kill -9 in the middle of an upload loses no committed blob and leaves no corrupt one."""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import socket
import time

from .conftest import start_registry


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_kill_mid_upload(tmp_path):
    root = tmp_path / "registry"
    reg = start_registry(root)
    committed = os.urandom(2 << 20)
    host, port = reg.hostport.split(":")
    try:
        conn = http.client.HTTPConnection(reg.hostport, timeout=10)
        conn.request("POST", f"/v2/crash/blobs/uploads/?digest={sha(committed)}", body=committed)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201
        conn.request("POST", "/v2/crash/blobs/uploads/")
        resp = conn.getresponse()
        resp.read()
        loc = resp.getheader("Location")
        conn.close()
        # A PATCH announcing 64 MiB that stops after 8 MiB; then the server dies.
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(f"PATCH {loc} HTTP/1.1\r\nHost: {reg.hostport}\r\nContent-Length: {64 << 20}\r\n"
                  f"Content-Type: application/octet-stream\r\n\r\n".encode())
        s.sendall(os.urandom(8 << 20))
        deadline = time.monotonic() + 10
        while not any((root / "content" / "ingest").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.02)
        reg.proc.send_signal(signal.SIGKILL)
        reg.proc.wait(timeout=10)
        s.close()
    finally:
        reg.stop()

    reg = start_registry(root)  # same storage
    try:
        conn = http.client.HTTPConnection(reg.hostport, timeout=10)
        conn.request("GET", f"/v2/crash/blobs/{sha(committed)}")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == committed
        conn.request("GET", loc)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 404  # the session died with the process
        conn.close()
        assert list((root / "content" / "ingest").iterdir()) == []  # leftovers removed at start
        for blob in (root / "content" / "blobs" / "sha256").iterdir():
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    finally:
        reg.stop()
