"""HTTP(S) to registries: the only module that opens sockets for registry traffic.

``Transport.open`` sends one request and returns a ``RawResponse`` whose body
is read on demand.  Idle keep-alive connections are pooled per
``scheme://host`` (a pull downloads layers concurrently over a few of them).
``GET``/``HEAD`` follow redirects (blob storage often answers 307 to a CDN);
the ``Authorization`` header is dropped when a redirect leaves the host.

TLS trust follows Docker: the system roots, plus for ``host[:port]`` every
``*.crt`` in ``<certs.d>/<host[:port]>/`` as an extra CA and each
``*.cert``/``*.key`` pair there as a client certificate.  Hosts where plain
HTTP is allowed (loopback, ``insecure-registries``) get HTTPS without
certificate verification first, as Docker's ``InsecureSkipVerify``.  Socket and TLS
failures become ``Unavailable`` (transient: the caller may retry).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from dockyard.errors import InvalidArgument, Unavailable

from .auth import HttpRequest
from .hosts import RegistryConfig, is_insecure, is_loopback

USER_AGENT = "dockyard/0.1 (registry client)"
_MAX_REDIRECTS = 5
_BLOCK = 1 << 20


class TransportError(Unavailable):
    """The connection failed or broke (transient); ``tls`` when the TLS handshake failed."""

    def __init__(self, message: str, *, tls: bool = False) -> None:
        super().__init__(message)
        self.tls = tls


class RawResponse:
    """Status and lower-cased headers; the body streams through ``read``."""

    def __init__(self, transport: "Transport", key: tuple[str, str], conn: http.client.HTTPConnection,
                 resp: http.client.HTTPResponse, url: str) -> None:
        self._transport, self._key, self._conn, self._resp = transport, key, conn, resp
        self.url = url
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.getheaders()}
        self._closed = False

    def read(self, n: int = -1) -> bytes:
        try:
            return self._resp.read(n) if n >= 0 else self._resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self._discard()
            raise TransportError(f"reading {self.url}: {_describe(exc)}") from exc

    def read_all(self, limit: int) -> bytes:
        """The whole body; InvalidArgument past ``limit`` bytes (a registry must not flood us)."""
        data = self.read(limit + 1)
        if len(data) > limit:
            self.close()
            raise InvalidArgument(f"response from {self.url} is larger than {limit} bytes")
        return data

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._resp.isclosed() and not self._resp.will_close:
            self._transport._release(self._key, self._conn)  # fully read: reuse the connection
        else:
            self._discard()

    def _discard(self) -> None:
        self._closed = True
        self._conn.close()

    def __enter__(self) -> "RawResponse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Transport:
    def __init__(self, certs_dir: Path | None = None, timeout: float = 60.0, max_idle: int = 8,
                 *, loopback_only: bool = False, insecure: tuple[str, ...] = ()) -> None:
        self.certs_dir = certs_dir
        self._insecure = RegistryConfig(insecure=insecure)
        self.loopback_only = loopback_only  # checked on every request, redirects included
        self.timeout = timeout
        self._max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str], list[http.client.HTTPConnection]] = {}
        self._contexts: dict[str, ssl.SSLContext] = {}

    def ssl_context(self, host: str) -> ssl.SSLContext:
        d = self.certs_dir / host if self.certs_dir else None
        # Keyed by the directory's mtime: certificates added or removed take
        # effect on the next connection, as Docker reads certs.d per pull.
        key = f"{host}@{_mtime(d)}"
        with self._lock:
            ctx = self._contexts.get(key)
        if ctx is not None:
            return ctx
        ctx = ssl.create_default_context()
        if is_insecure(host, self._insecure):
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if d is not None and d.is_dir():
            for ca in sorted(d.glob("*.crt")):
                ctx.load_verify_locations(cafile=str(ca))
            for cert in sorted(d.glob("*.cert")):
                keyfile = cert.with_suffix(".key")
                if not keyfile.exists():
                    raise InvalidArgument(f"missing key {keyfile.name} for client certificate {cert.name}")
                ctx.load_cert_chain(str(cert), str(keyfile))
        with self._lock:
            self._contexts[key] = ctx
        return ctx

    def open(self, request: HttpRequest) -> RawResponse:
        """Send ``request``; redirects followed for GET/HEAD.  TransportError on socket/TLS failure."""
        req = request
        for _ in range(_MAX_REDIRECTS + 1):
            resp = self._send(req)
            location = resp.headers.get("location")
            if resp.status not in (301, 302, 303, 307, 308) or not location or req.method not in ("GET", "HEAD"):
                return resp
            resp.close()
            target = urljoin(req.url, location)
            headers = dict(req.headers)
            if urlsplit(target).netloc != urlsplit(req.url).netloc:
                headers.pop("Authorization", None)
            req = HttpRequest(req.method, target, headers)
        raise Unavailable(f"too many redirects from {request.url}")

    def _send(self, req: HttpRequest) -> RawResponse:
        parts = urlsplit(req.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidArgument(f"unsupported registry URL {req.url!r}")
        if self.loopback_only and not is_loopback(parts.netloc):
            raise Unavailable(f"refusing {req.url}: the daemon allows only loopback registries "
                              "(--registry-loopback-only)")
        key = (parts.scheme, parts.netloc)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {"User-Agent": USER_AGENT, **req.headers}
        body = req.body
        if isinstance(body, bytes):
            headers.setdefault("Content-Length", str(len(body)))
        elif body is None and req.method in ("POST", "PUT", "PATCH"):
            headers.setdefault("Content-Length", "0")
        # A pooled connection may have been closed by the server meanwhile: retry
        # once on a fresh one, but only when the body can be sent again.
        for attempt in range(2):
            conn, reused = self._connection(key)
            try:
                conn.request(req.method, path, body=body, headers=headers)
                resp = conn.getresponse()
            except ssl.SSLError as exc:
                conn.close()
                raise TransportError(f"{req.method} {req.url}: {_describe(exc)}", tls=True) from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if reused and attempt == 0 and not hasattr(body, "read"):
                    continue
                raise TransportError(f"{req.method} {req.url}: {_describe(exc)}") from exc
            return RawResponse(self, key, conn, resp, req.url)
        raise AssertionError("unreachable")

    def _connection(self, key: tuple[str, str]) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop(), True
        scheme, netloc = key
        if scheme == "https":
            host = netloc
            return http.client.HTTPSConnection(host, timeout=self.timeout, context=self.ssl_context(host),
                                               blocksize=_BLOCK), False
        return http.client.HTTPConnection(netloc, timeout=self.timeout, blocksize=_BLOCK), False

    def _release(self, key: tuple[str, str], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self._max_idle:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in conns:
            c.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "i/o timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _x509(exc)
    if isinstance(exc, ssl.SSLError):
        if exc.reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE"):  # OpenSSL's reason code
            return "http: server gave HTTP response to HTTPS client"
        reason = (exc.reason or "").lower()
        if reason.startswith(("sslv3_alert_", "tlsv1_alert_")):  # the peer refused us (Go's wording)
            return "remote error: tls: " + reason.split("_alert_", 1)[1].replace("_", " ")
        return f"tls: {exc.reason or exc}".lower()
    if isinstance(exc, http.client.IncompleteRead):
        return "unexpected EOF"
    return str(exc) or type(exc).__name__


def _mtime(d: Path | None) -> int:
    try:
        return d.stat().st_mtime_ns if d is not None else 0
    except OSError:
        return 0


def _x509(exc: ssl.SSLCertVerificationError) -> str:
    """Go's crypto/x509 wording for OpenSSL's verify codes (what Docker prints)."""
    if exc.verify_code in (18, 19, 20, 21):  # self-signed / unknown issuer
        return "x509: certificate signed by unknown authority"
    if exc.verify_code == 10:
        return "x509: certificate has expired or is not yet valid"
    if exc.verify_code == 62:
        return "x509: certificate is not valid for this host"
    return f"x509: {exc.verify_message}"


__all__ = ["RawResponse", "Transport", "TransportError"]
