"""Auth scenarios with real clients: anonymous and wrong passwords refused, a
read-only user pulls but cannot push (htpasswd -B, Basic and Bearer), and TLS."""

from __future__ import annotations

import http.client
import ssl
import subprocess

import pytest

from .conftest import start_registry

CONFIG = """\
[auth]
mode = "{mode}"
htpasswd = "htpasswd"

[[access]]
account = "writer"
repository = "*"
actions = ["pull", "push", "delete"]

[[access]]
account = "reader"
repository = "*"
actions = ["pull"]
"""


def skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", *args], capture_output=True, timeout=60, text=True)


@pytest.fixture(params=["basic", "token"])
def secured(request, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    for i, (user, pw) in enumerate([("writer", "w-pass"), ("reader", "r-pass")]):
        subprocess.run(["htpasswd", "-B", "-b", *(["-c"] if i == 0 else []), str(conf / "htpasswd"), user, pw],
                       check=True, capture_output=True, timeout=30)
    (conf / "registry.toml").write_text(CONFIG.format(mode=request.param))
    reg = start_registry(tmp_path / "registry", "--config", str(conf / "registry.toml"))
    yield reg, request.param
    reg.stop()


def test_permissions(secured, seed_tar):
    reg, mode = secured
    dest = f"docker://{reg.hostport}/team/busybox:1"
    src = f"docker-archive:{seed_tar}"
    tls = "--dest-tls-verify=false"

    anon = skopeo("copy", tls, "--dest-no-creds", src, dest) if _has_no_creds() else skopeo("copy", tls, src, dest)
    assert anon.returncode != 0
    wrong = skopeo("copy", tls, "--dest-creds", "writer:nope", src, dest)
    assert wrong.returncode != 0
    reader_push = skopeo("copy", tls, "--dest-creds", "reader:r-pass", src, dest)
    assert reader_push.returncode != 0
    ok = skopeo("copy", tls, "--dest-creds", "writer:w-pass", src, dest)
    assert ok.returncode == 0, ok.stderr
    pull = skopeo("inspect", "--tls-verify=false", "--creds", "reader:r-pass", dest)
    assert pull.returncode == 0, pull.stderr
    assert skopeo("inspect", "--tls-verify=false", "--creds", "reader:bad", dest).returncode != 0

    conn = http.client.HTTPConnection(reg.hostport, timeout=10)
    conn.request("GET", "/v2/team/busybox/tags/list")
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 401
    challenge = resp.getheader("WWW-Authenticate")
    assert challenge.startswith("Basic " if mode == "basic" else "Bearer realm=")
    if mode == "token":
        assert 'scope="repository:team/busybox:pull"' in challenge


def _has_no_creds() -> bool:
    return "--dest-no-creds" in skopeo("copy", "--help").stdout


def test_tls(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    reg = start_registry(tmp_path / "registry", "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert reg.url.startswith("https://")
        ctx = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection(reg.hostport, context=ctx, timeout=10)
        conn.request("GET", "/v2/")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Docker-Distribution-API-Version") == "registry/2.0"
        conn.close()
        certs = tmp_path / "certs"
        certs.mkdir()
        (certs / "ca.crt").write_bytes(cert.read_bytes())
        cp = skopeo("inspect", "--cert-dir", str(certs), "--raw", f"docker://{reg.hostport}/none/x:1")
        assert "manifest unknown" in cp.stderr.lower()  # TLS verified, then a clean 404
    finally:
        reg.stop()
