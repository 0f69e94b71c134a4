"""TCP listeners for the API: TLS with client certificates, or a loud refusal.

The API is root on this host, so a TCP listener is a root door on the
network.  Policy (``tcp_policy``, pure):

* ``--tlsverify`` (+ ``--tlscacert``): only clients holding a certificate
  signed by that CA get in; any address is allowed.
* ``--tls`` without verification, or plain TCP: encrypted or not, anyone who
  reaches the port is root.  Refused beyond loopback; on loopback allowed
  with Docker's all-caps-style warning (any local user, and any web page a
  local browser opens, can reach it).

The handshake runs on the connection's own thread (``TcpListener.wrap``), so
a slow or hostile client cannot stall the accept loop.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Any

from dockyard.errors import InvalidArgument

log = logging.getLogger("dockyard.api.tls")

HANDSHAKE_TIMEOUT = 10.0  # seconds a client gets to finish the TLS handshake


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """Docker's daemon flags: ``--tls --tlsverify --tlscacert --tlscert --tlskey``."""

    tls: bool = False
    verify: bool = False
    cacert: str = ""
    cert: str = ""
    key: str = ""

    @property
    def enabled(self) -> bool:
        return self.tls or self.verify


@dataclass(frozen=True, slots=True)
class TcpAddress:
    host: str  # "" = every address
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host or "0.0.0.0"
        return f"tcp://{host}:{self.port}"


def parse_tcp_host(value: str, *, tls: bool) -> TcpAddress:
    """``tcp://ADDR:PORT`` -> TcpAddress; Docker's default ports (2376 TLS, 2375 plain)."""
    if not value.startswith("tcp://"):
        raise InvalidArgument(f"invalid bind address format: {value}")
    rest = value[len("tcp://"):].rstrip("/")
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else ""
    else:
        host, _, port_text = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if not port_text:
        port = 2376 if tls else 2375
    elif port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise InvalidArgument(f"invalid bind address format: {value}")
    if host in ("0.0.0.0", "::"):
        host = ""
    return TcpAddress(host, port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "" (every address) or a name: assume the network


def tcp_policy(addr: TcpAddress, opts: TlsOptions) -> list[str]:
    """Warnings to log loudly; raises InvalidArgument when the listener must not exist."""
    if opts.verify:
        if not opts.cacert:
            raise InvalidArgument("--tlsverify needs --tlscacert: without a CA no client certificate can be verified")
        if not (opts.cert and opts.key):
            raise InvalidArgument("--tlsverify needs --tlscert and --tlskey (the server's certificate and key)")
        return []
    what = "TLS without --tlsverify" if opts.tls else "plain TCP"
    if not is_loopback(addr.host):
        raise InvalidArgument(
            f"REFUSING to listen on {addr} with {what}: that would give root access on this machine "
            "to everyone who can reach it on the network. Use --tlsverify --tlscacert --tlscert --tlskey, "
            "or bind to 127.0.0.1")
    if opts.tls and not (opts.cert and opts.key):
        raise InvalidArgument("--tls needs --tlscert and --tlskey (the server's certificate and key)")
    return [f"Binding to {addr} without --tlsverify gives root access on this machine to every local user "
            "and to scripts run in a local web browser. Be safe out there!"]


def server_context(opts: TlsOptions) -> Any:
    """An SSLContext requiring (with ``verify``) a client certificate from ``cacert``."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # A client half-closing its attach stream (our CLI) sends a bare TCP FIN: read it as end
    # of input; without this OpenSSL 3 poisons the connection and the output cannot be sent.
    ctx.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    try:
        ctx.load_cert_chain(opts.cert, opts.key)
        if opts.verify:
            ctx.load_verify_locations(cafile=opts.cacert)
            ctx.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise InvalidArgument(f"could not load TLS certificates: {exc}") from exc
    return ctx


class TcpListener:
    """A bound TCP socket; ``accept`` is raw, ``wrap`` does the TLS handshake."""

    def __init__(self, addr: TcpAddress, opts: TlsOptions) -> None:
        self.addr = addr
        self._ctx = server_context(opts) if opts.enabled else None
        family = socket.AF_INET6 if ":" in addr.host else socket.AF_INET
        if addr.host == "" and socket.has_ipv6:
            family = socket.AF_INET6  # dual stack: every v4 and v6 address
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and addr.host == "":
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((addr.host, addr.port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise InvalidArgument(f"cannot listen on {addr}: {exc.strerror}") from exc
        self.sock = sock

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept(self) -> socket.socket:
        conn, _ = self.sock.accept()
        return conn

    def wrap(self, conn: socket.socket) -> socket.socket | None:
        """The connection ready for HTTP, or None (closed) when the handshake fails."""
        if self._ctx is None:
            return conn
        import ssl

        conn.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self._ctx.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            log.info("TLS handshake from %s refused: %s", _peer(conn), exc)
            conn.close()
            return None
        tls.settimeout(None)
        from dockyard.tlsstream import TlsStream

        return TlsStream(tls)  # type: ignore[return-value]  # attach reads and writes from two threads

    def close(self) -> None:
        self.sock.close()


def _peer(conn: socket.socket) -> str:
    try:
        return str(conn.getpeername()[0])
    except OSError:
        return "?"


def open_listeners(addrs: tuple[TcpAddress, ...], opts: TlsOptions | None) -> list[TcpListener]:
    """Bind every TCP host (policy re-checked here: this is the last door), logging the risk loudly."""
    opts = opts or TlsOptions()
    listeners: list[TcpListener] = []
    try:
        for addr in addrs:
            for warning in tcp_policy(addr, opts):
                log.warning("%s", warning)
            listeners.append(TcpListener(addr, opts))
            log.info("API listening on %s (%s)", addr,
                     "TLS, client certificates verified" if opts.verify else "TLS" if opts.tls else "plain TCP")
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners
