"""The embedded DNS server: container names and aliases on user-defined
networks, everything else forwarded to the host's resolvers.

Where it listens: on each user-defined network's *gateway address*, port 53
(UDP), from the daemon's own namespace. Docker uses 127.0.0.11 inside every
container, which needs a socket and NAT rules *inside each container's
namespace* (a per-container cost on the run path, and state to rebuild after
a restart). The gateway is reachable from every container of the network by
construction (it is their default route's next hop, --internal networks
included), costs one socket per network, and being in the host namespace it
can forward to a host resolver on 127.0.0.53 as well.

One thread runs a selector over the sockets; forwarding happens on a small
thread pool so a slow upstream never stalls local answers.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from dockyard.network import dnsmsg

log = logging.getLogger("dockyard.dns")

IP_FREEBIND = 15  # linux/in.h: bind before the bridge has its address (restart)
# network id, name -> addresses (a known name), () (known, no address of that
# kind) or None (not ours: forward)
Lookup = Callable[[str, str], "tuple[str, ...] | None"]
# network id, address -> the name of the container there, or None (forward)
Reverse = Callable[[str, str], "str | None"]


class DnsServer:
    def __init__(self, lookup: Lookup, upstreams: Callable[[], tuple[str, ...]], *, port: int = 53,
                 forward_timeout: float = 2.0, reverse: Reverse | None = None) -> None:
        self._lookup = lookup
        self._reverse = reverse
        self._upstreams = upstreams
        self._port = port
        self._timeout = forward_timeout
        self._sel = selectors.DefaultSelector()
        self._socks: dict[str, socket.socket] = {}  # network id -> socket
        self._no_forward: set[str] = set()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns-forward")
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="dns", daemon=True)
        self._thread.start()

    def listen(self, network_id: str, address: str, *, forward: bool = True) -> None:
        """Serve the network on ``address``:53 (idempotent)."""
        with self._lock:
            if network_id in self._socks:
                return
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
            s.bind((address, self._port))
            s.setblocking(False)
            self._socks[network_id] = s
            if not forward:
                self._no_forward.add(network_id)
            self._sel.register(s, selectors.EVENT_READ, network_id)
        self._wake_w.send(b"x")

    def unlisten(self, network_id: str) -> None:
        with self._lock:
            s = self._socks.pop(network_id, None)
            self._no_forward.discard(network_id)
            if s is not None:
                self._sel.unregister(s)
                s.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ids = list(self._socks)
        for id in ids:
            self.unlisten(id)
        self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._wake_r.close()
        self._wake_w.close()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
            for key, _ in self._sel.select(timeout=1.0):
                if key.data is None:
                    try:
                        self._wake_r.recv(512)
                    except OSError:
                        pass
                    continue
                try:
                    data, peer = key.fileobj.recvfrom(4096)  # type: ignore[union-attr]
                except OSError:
                    continue
                self._answer(key.data, key.fileobj, data, peer)  # type: ignore[arg-type]

    def _answer(self, network_id: str, sock: socket.socket, data: bytes, peer: tuple[str, int]) -> None:
        try:
            q = dnsmsg.parse_query(data)
        except dnsmsg.DnsFormatError:
            out = dnsmsg.error_reply(data, dnsmsg.RCODE_FORMERR)
            if out:
                self._send(sock, out, peer)
            return
        ptr = dnsmsg.ptr_address(q.name) if q.qtype == dnsmsg.TYPE_PTR and self._reverse else None
        target = self._reverse(network_id, ptr) if ptr and self._reverse and q.qclass == dnsmsg.CLASS_IN else None
        found = self._lookup(network_id, q.name) if q.qclass == dnsmsg.CLASS_IN and not target else None
        if target:
            self._send(sock, dnsmsg.ptr_reply(q, target), peer)
        elif found is not None:
            addrs = found if q.qtype == dnsmsg.TYPE_A else ()
            self._send(sock, dnsmsg.reply(q, addrs), peer)
        elif network_id in self._no_forward:  # --internal: nothing leaves the host
            self._send(sock, dnsmsg.reply(q, rcode=dnsmsg.RCODE_SERVFAIL), peer)
        else:
            self._pool.submit(self._forward, sock, q, data, peer)

    def _forward(self, sock: socket.socket, q: dnsmsg.Question, data: bytes, peer: tuple[str, int]) -> None:
        for server in self._upstreams():
            with socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM) as up:
                up.settimeout(self._timeout)
                try:
                    up.sendto(data, (server, 53))
                    answer, _ = up.recvfrom(65535)
                except OSError:
                    continue
            self._send(sock, answer, peer)
            return
        self._send(sock, dnsmsg.reply(q, rcode=dnsmsg.RCODE_SERVFAIL), peer)

    @staticmethod
    def _send(sock: socket.socket, data: bytes, peer: tuple[str, int]) -> None:
        try:
            sock.sendto(data, peer)
        except OSError:
            pass


__all__ = ["DnsServer"]
