"""Registry servers for the pull/push tests, all on 127.0.0.1 with ports chosen at run time.

* ``DistributionRegistry``: Debian's ``docker-registry`` (CNCF distribution 2.8)
  as a child process -- plain, with htpasswd Basic auth, or with token auth.
* ``TokenServer``: a tiny token endpoint signing RS256 JWTs (via ``openssl``)
  that the registry trusts through its ``rootcertbundle``.
* ``StubRegistry``: an in-process, scriptable registry serving fixed blobs
  (tampered bytes, dropped connections) for the failure tests.

Every server is stopped by the test that started it; processes by pid.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _wait_http(url: str, proc: subprocess.Popen | None, log: Path | None, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text() if log else ''}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (401 is an answer)
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def _wait_tcp(port: int, proc: subprocess.Popen, log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not answer")


class TokenServer:
    """``GET /token?service=&scope=`` -> ``{"token": <JWT>}``; Basic credentials checked when ``users`` is set."""

    def __init__(self, base: Path, users: dict[str, str] | None = None, service: str = "test-registry",
                 issuer: str = "test-issuer") -> None:
        self.key, self.cert = base / "token.key", base / "token.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key),
                        "-out", str(self.cert), "-days", "1", "-subj", "/CN=dockyard-test-token"],
                       check=True, capture_output=True, timeout=60)
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"], check=True,
                             capture_output=True, timeout=30).stdout
        self.x5c = base64.b64encode(der).decode()
        self.users, self.service, self.issuer = users, service, issuer
        self.requests: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:
                q = parse_qs(urlsplit(self.path).query)
                outer.requests.append(q)
                account = ""
                if outer.users is not None:
                    auth = self.headers.get("Authorization", "")
                    try:
                        user, _, pw = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
                    except ValueError:
                        user, pw = "", ""
                    if outer.users.get(user) != pw or not user:
                        body = json.dumps({"details": "incorrect username or password"}).encode()
                        self.send_response(401)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                    account = user
                body = json.dumps({"token": outer.token(account, q.get("scope", [])), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def token(self, account: str, scopes: list[str]) -> str:
        access = []
        for s in scopes:
            for one in s.split(" "):
                kind, _, rest = one.partition(":")
                name, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": self.issuer, "sub": account, "aud": self.service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=signing.encode(),
                             check=True, capture_output=True, timeout=30).stdout
        return f"{signing}.{_b64url(sig)}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass(frozen=True)
class TestCA:
    """A throw-away CA with a server certificate for 127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_ca(base: Path) -> TestCA:
    base.mkdir(parents=True, exist_ok=True)

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60, cwd=base)

    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
        "-subj", "/CN=dockyard-test-ca")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        (base / f"{name}.ext").write_text(ext)
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN=dockyard-test-{name}")
        ssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "1", "-extfile", f"{name}.ext")
    return TestCA(base / "ca.crt", base / "server.crt", base / "server.key", base / "client.crt",
                  base / "client.key")


class DistributionRegistry:
    """Debian's ``docker-registry`` on a free port; ``auth`` is None, ``"htpasswd"`` or a TokenServer.

    ``tls``: serve HTTPS with the CA's server certificate; ``client_auth``: and
    require a client certificate the CA signed."""

    def __init__(self, base: Path, auth: object = None, users: dict[str, str] | None = None,
                 tls: TestCA | None = None, client_auth: bool = False) -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        lines = ["version: 0.1", "log:", "  level: warn", "storage:", "  filesystem:",
                 f"    rootdirectory: {base / 'data'}", "  delete:", "    enabled: true",
                 "http:", f"  addr: 127.0.0.1:{self.port}"]
        if tls is not None:
            lines += ["  tls:", f"    certificate: {tls.server_cert}", f"    key: {tls.server_key}"]
            if client_auth:
                lines += ["    clientcas:", f"      - {tls.ca}"]
        if auth == "htpasswd":
            pw = base / "htpasswd"
            pw.write_text("".join(subprocess.run(["htpasswd", "-Bbn", u, p], check=True, capture_output=True,
                                                 timeout=30).stdout.decode().strip() + "\n"
                                  for u, p in (users or {}).items()))
            lines += ["auth:", "  htpasswd:", "    realm: test-realm", f"    path: {pw}"]
        elif isinstance(auth, TokenServer):
            lines += ["auth:", "  token:", f"    realm: {auth.realm}", f"    service: {auth.service}",
                      f"    issuer: {auth.issuer}", f"    rootcertbundle: {auth.cert}"]
        (base / "config.yml").write_text("\n".join(lines) + "\n")
        self.log = base / "registry.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(["docker-registry", "serve", str(base / "config.yml")], stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            if tls is None:
                _wait_http(f"http://127.0.0.1:{self.port}/v2/", self.proc, self.log)
            else:
                _wait_tcp(self.port, self.proc, self.log)
        except BaseException:
            self.stop()
            raise

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class StubRegistry:
    """Serves ``manifests`` (by tag or digest) and ``blobs`` (by digest) over plain HTTP.

    ``tamper``: digests served with wrong bytes (same length).  ``drop_after``:
    digest -> bytes after which the first GET of that blob loses its connection.
    ``Range`` requests are honoured.  ``hits`` counts GETs per path.
    """

    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # ref -> (media type, body)
    blobs: dict[str, bytes] = field(default_factory=dict)
    tamper: set[str] = field(default_factory=set)
    drop_after: dict[str, int] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    ranges: list[str] = field(default_factory=list)

    def start(self) -> "StubRegistry":
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: object) -> None:
                pass

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                      head: bool = False) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                path = urlsplit(self.path).path
                outer.hits[path] = outer.hits.get(path, 0) + (0 if head else 1)
                if path == "/v2/":
                    return self._send(200, b"{}", head=head)
                parts = path.split("/")
                by_digest = {sha256(b): (m, b) for m, b in outer.manifests.values()}
                if len(parts) >= 5 and parts[-2] == "manifests" and (parts[-1] in outer.manifests
                                                                     or parts[-1] in by_digest):
                    mt, body = outer.manifests.get(parts[-1]) or by_digest[parts[-1]]
                    return self._send(200, body, {"Content-Type": mt, "Docker-Content-Digest": sha256(body)}, head)
                if len(parts) >= 5 and parts[-2] == "blobs" and parts[-1] in outer.blobs:
                    dg = parts[-1]
                    body = outer.blobs[dg]
                    if dg in outer.tamper:
                        body = bytes(b ^ 0xFF for b in body)
                    rng = self.headers.get("Range")
                    if rng and rng.startswith("bytes="):
                        outer.ranges.append(rng)
                        start = int(rng[6:].split("-")[0])
                        part = body[start:]
                        return self._send(206, part, {"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"},
                                          head)
                    cut = outer.drop_after.pop(dg, None)
                    if cut is not None and not head:
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body[:cut])
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    return self._send(200, body, {"Content-Type": "application/octet-stream"}, head)
                err = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
                self._send(404, err, {"Content-Type": "application/json"}, head)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def tiny_layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A gzip layer holding ``files``; (compressed blob, diff id)."""
    import gzip
    import io
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            tf.addfile(info, io.BytesIO(data))
    tar = raw.getvalue()
    return gzip.compress(tar, mtime=0), sha256(tar)


def image_blobs(arch: str, layer: bytes, diff_id: str, media: str = "application/vnd.oci.image.manifest.v1+json"
                ) -> tuple[dict[str, bytes], bytes]:
    """(blobs by digest, manifest body) of a one-layer image for ``arch``."""
    config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/hello"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    oci = media.startswith("application/vnd.oci")
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": media,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json" if oci else
                   "application/vnd.docker.container.image.v1+json", "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip" if oci else
                    "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": sha256(layer),
                    "size": len(layer)}]}).encode()
    return {sha256(config): config, sha256(layer): layer}, manifest


def push_raw(host: str, repo: str, blobs: dict[str, bytes], ref: str, media: str, body: bytes) -> None:
    """Upload blobs and one manifest to a plain-HTTP registry without auth (distribution API by hand)."""
    for dg, data in blobs.items():
        req = urllib.request.Request(f"http://{host}/v2/{repo}/blobs/uploads/", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as r:
            loc = r.headers["Location"]
        loc = loc if loc.startswith("http") else f"http://{host}{loc}"
        sep = "&" if "?" in loc else "?"
        req = urllib.request.Request(f"{loc}{sep}digest={dg}", method="PUT", data=data,
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(req, timeout=10).close()
    req = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{ref}", method="PUT", data=body,
                                 headers={"Content-Type": media})
    urllib.request.urlopen(req, timeout=10).close()
