"""HTTP/1.1 over a UNIX socket (or TCP, optionally TLS), just enough for the Engine API.

Hand-written rather than ``http.client`` because importing that costs more
than the CLI's whole start-up budget.  One idle connection is kept for reuse
(keep-alive); streaming and hijacked responses use their own.
"""

from __future__ import annotations

# ``_socket``, not ``socket``: socket.py (its enums, selectors, array) costs ~3 ms of
# every CLI start-up, and a UNIX-socket client needs none of it.  TCP/TLS
# imports ``socket`` where it connects.
import _socket

from dockyard.errors import DaemonUnreachable, InvalidArgument, PermissionDenied

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc imports all of collections: annotations only
    import socket
    from collections.abc import Callable, Iterable, Iterator

_RECV = 65536


class Response:
    """Status + headers; the body is read on demand (``read``/``iter_raw``)."""

    def __init__(self, conn: _Conn, status: int, headers: dict[str, str], method: str) -> None:
        self._conn = conn
        self.status = status
        self.headers = headers
        te = headers.get("transfer-encoding", "").lower()
        if method == "HEAD" or status in (101, 204, 304) or 100 <= status < 200:
            self._mode, self._left = "length", 0
        elif "chunked" in te:
            self._mode, self._left = "chunked", 0
        elif "content-length" in headers:
            self._mode, self._left = "length", int(headers["content-length"])
        else:
            self._mode, self._left = "close", -1
        self.done = self._mode == "length" and self._left == 0

    def iter_raw(self) -> Iterator[bytes]:
        """Body bytes as they arrive."""
        conn = self._conn
        while not self.done:
            if self._mode == "length":
                data = conn.read_some(min(self._left, _RECV))
                if not data:
                    raise DaemonUnreachable("connection closed before the response was complete")
                self._left -= len(data)
                self.done = self._left == 0
                yield data
            elif self._mode == "close":
                data = conn.read_some(_RECV)
                if not data:
                    self.done = True
                    conn.reusable = False
                    return
                yield data
            else:
                size_line = conn.read_line()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while conn.read_line() not in (b"", b"\r\n", b"\n"):
                        pass  # trailers
                    self.done = True
                    return
                yield conn.read_exact(size)
                conn.read_exact(2)

    def read(self) -> bytes:
        return b"".join(self.iter_raw())

    def close(self) -> None:
        self._conn.close()


class _Conn:
    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.reusable = True

    def read_some(self, n: int) -> bytes:
        if self.buf:
            data, self.buf = self.buf[:n], self.buf[n:]
            return data
        return self.sock.recv(n)

    def read_line(self) -> bytes:
        while b"\n" not in self.buf:
            data = self.sock.recv(_RECV)
            if not data:
                line, self.buf = self.buf, b""
                return line
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            data = self.sock.recv(_RECV)
            if not data:
                raise DaemonUnreachable("connection closed before the response was complete")
            self.buf += data
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def close(self) -> None:
        self.reusable = False
        self.sock.close()


def parse_host(host: str) -> str:
    """``unix:///run/x.sock`` → ``/run/x.sock``; other schemes are not supported yet."""
    if host.startswith("unix://"):
        path = host[len("unix://") :]
        if path:
            return path
    raise InvalidArgument(f"unsupported host {host!r}: only unix:///path and tcp://host:port are supported")


def parse_tcp_host(host: str, *, tls: bool) -> tuple[str, int]:
    """``tcp://h:p`` → (h, p); Docker's default port is 2376 with TLS, 2375 without."""
    rest = host[len("tcp://"):].rstrip("/")
    if rest.startswith("["):
        name, _, tail = rest[1:].partition("]")
        port = tail[1:]
    else:
        name, _, port = rest.partition(":")
    if not name or (port and not port.isdigit()):
        raise InvalidArgument(f"invalid host {host!r}: expected tcp://host:port")
    return name, int(port) if port else (2376 if tls else 2375)


class UnixTransport:
    """Requests over ``unix://`` sockets.

    ``on_unreachable`` (optional) is called once when connecting fails; if it
    returns True (e.g. it started the daemon) the connect is retried.
    """

    def __init__(self, host: str, *, on_unreachable: Callable[[], bool] | None = None, timeout: float | None = None,
                 tls: object | None = None) -> None:
        self.host = host
        # tcp:// hosts; ``tls`` (client/tls.py ClientTls) wraps the socket, imported only by its users
        self._tls = tls
        self._tcp = parse_tcp_host(host, tls=tls is not None) if host.startswith("tcp://") else None
        self.path = "" if self._tcp else parse_host(host)
        self._on_unreachable = on_unreachable
        self._timeout = timeout
        self._idle: _Conn | None = None

    def connect(self) -> _socket.socket:
        try:
            return self._connect_once()
        except DaemonUnreachable:
            hook, self._on_unreachable = self._on_unreachable, None
            if hook is None or not hook():
                raise
            return self._connect_once()

    def _connect_once(self) -> _socket.socket:
        if self._tcp is not None:
            return self._connect_tcp(self._tcp)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(self._timeout)
        try:
            sock.connect(self.path)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            sock.close()
            raise DaemonUnreachable(
                f"Cannot connect to the Dockyard daemon at {self.host}. Is the dockyard daemon running?"
            ) from exc
        except PermissionError as exc:
            sock.close()
            raise PermissionDenied(
                f"permission denied while trying to connect to the Dockyard daemon socket at {self.host}"
            ) from exc
        except OSError as exc:
            sock.close()
            raise DaemonUnreachable(f"Cannot connect to the Dockyard daemon at {self.host}: {exc}") from exc
        return sock

    def _connect_tcp(self, addr: tuple[str, int]) -> socket.socket:
        import socket

        try:
            sock = socket.create_connection(addr, timeout=self._timeout if self._timeout is not None else 30)
        except OSError as exc:
            raise DaemonUnreachable(
                f"Cannot connect to the Dockyard daemon at {self.host}. Is the dockyard daemon running?") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            try:
                sock = self._tls.wrap(sock, addr[0])  # type: ignore[attr-defined]
            except OSError as exc:  # ssl.SSLError is an OSError: bad or untrusted certificate
                sock.close()
                raise DaemonUnreachable(f"error during connect to {self.host}: {exc}") from exc
        sock.settimeout(self._timeout)
        return sock

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, object] | None = None,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send a request; the response body is left on the wire for the caller."""
        conn = self._idle
        self._idle = None
        if conn is None:
            conn = _Conn(self.connect())
        head = _head(method, path, query, headers, body)
        try:
            conn.sock.sendall(head + (body if isinstance(body, bytes) else b""))
            if body is not None and not isinstance(body, bytes):
                for chunk in body:  # chunked upload (e.g. images/load from stdin)
                    if chunk:
                        conn.sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                conn.sock.sendall(b"0\r\n\r\n")
            status, resp_headers = _read_head(conn)
        except OSError as exc:
            conn.close()
            raise DaemonUnreachable(f"error talking to the daemon at {self.host}: {exc}") from exc
        return Response(conn, status, resp_headers, method)

    def release(self, resp: Response) -> None:
        """Return a fully read response's connection for reuse."""
        conn = resp._conn
        if resp.done and conn.reusable and resp.headers.get("connection", "").lower() != "close" and self._idle is None:
            self._idle = conn
        else:
            conn.close()

    def hijack(self, method: str, path: str, *, query: dict[str, object] | None = None,
               body: bytes | None = None) -> tuple[int, dict[str, str], _socket.socket, bytes, Response]:
        """Send an Upgrade request; return (status, headers, socket, buffered bytes, response)."""
        conn = _Conn(self.connect())
        headers = {"Connection": "Upgrade", "Upgrade": "tcp"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        head = _head(method, path, query, headers, body)
        conn.sock.sendall(head + (body or b""))
        status, headers = _read_head(conn)
        resp = Response(conn, status, headers, method)
        return status, headers, conn.sock, conn.buf, resp

    def close(self) -> None:
        if self._idle is not None:
            self._idle.close()
            self._idle = None


# Percent-encoding by hand: urllib.parse costs ~3 ms of every CLI start-up.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str, safe: str = "") -> str:
    """RFC 3986 percent-encoding of UTF-8 ``text``, keeping ``safe`` characters."""
    keep = _UNRESERVED | frozenset(safe.encode())
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in text.encode())


def urlencode(items: dict[str, object], doseq: bool = False) -> str:
    """``k=v&k2=v2``; with ``doseq`` a list value repeats its key."""
    pairs = []
    for key, value in items.items():
        values = value if doseq and isinstance(value, (list, tuple)) else [value]
        pairs += [f"{quote(key)}={quote(str(v))}" for v in values]
    return "&".join(pairs)


def _head(method: str, path: str, query: dict[str, object] | None, headers: dict[str, str] | None, body: object) -> bytes:
    target = quote(path, safe="/:@")
    if query:
        items = {k: _qv(v) for k, v in query.items() if v is not None}
        if items:
            target += "?" + urlencode(items, doseq=True)
    lines = [f"{method} {target} HTTP/1.1", "Host: api.moby.localhost", "User-Agent: Dockyard-Client"]
    hdrs = dict(headers or {})
    if isinstance(body, bytes):
        hdrs.setdefault("Content-Length", str(len(body)))
    elif body is not None:
        hdrs["Transfer-Encoding"] = "chunked"
    elif method in ("POST", "PUT"):
        hdrs.setdefault("Content-Length", "0")
    lines += [f"{k}: {v}" for k, v in hdrs.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _qv(v: object) -> object:
    if isinstance(v, (list, tuple)):
        return [_qv(x) for x in v]  # a repeated parameter (names=a&names=b)
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


def _read_head(conn: _Conn) -> tuple[int, dict[str, str]]:
    line = conn.read_line()
    if not line:
        raise DaemonUnreachable("the daemon closed the connection without answering")
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise DaemonUnreachable(f"malformed response from the daemon: {line[:80]!r}")
    headers: dict[str, str] = {}
    while True:
        raw = conn.read_line()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers
