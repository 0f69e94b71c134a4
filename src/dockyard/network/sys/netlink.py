"""``Netlink`` seam and ``RtNetlink``: links, addresses and routes over a raw
NETLINK_ROUTE socket (no pyroute2, no ``ip`` subprocess).

Why raw netlink: the handful of messages we need (bridge, veth pair with the
peer created directly inside the container's namespace, address, route,
delete) fit in ~200 lines; it costs nothing to import, and it needs no
helper process: pyroute2's ``NetNS`` forks, which is unsafe in the threaded
daemon. To act inside another network namespace we open the socket there
(``netns.socket_in``): a netlink socket stays bound to the namespace it was
created in.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import threading
from typing import Protocol

from dockyard.network.sys import netns

# linux/rtnetlink.h, linux/netlink.h, linux/if_link.h, linux/veth.h
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK = 16, 17, 18, 19
RTM_NEWADDR, RTM_NEWROUTE = 20, 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE, NLM_F_REPLACE = 0x1, 0x4, 0x200, 0x400, 0x100
NLMSG_ERROR = 2
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = 1, 3, 4, 10, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
VETH_INFO_PEER = 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_GATEWAY = 5
IFF_UP = 0x1
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 3, 0, 1
NLA_F_NESTED = 0x8000


class Netlink(Protocol):
    """What the bridge driver needs from the kernel. ``netns`` is a path
    such as ``/proc/<pid>/ns/net``; ``None`` means the host namespace."""

    def link_exists(self, name: str, netns: str | None = None) -> bool: ...

    def add_bridge(self, name: str, mtu: int = 1500) -> None: ...

    def add_veth(self, host_name: str, peer_name: str, peer_netns: str, *, master: str,
                 peer_mac: bytes | None = None, mtu: int = 1500) -> None: ...

    def set_up(self, name: str, netns: str | None = None) -> None: ...

    def add_address(self, name: str, address: str, prefix_len: int, netns: str | None = None) -> None: ...

    def add_default_route(self, gateway: str, name: str, netns: str | None = None) -> None: ...

    def delete_link(self, name: str, netns: str | None = None) -> bool:
        """True when a link was deleted; False when there was none."""
        ...


def _attr(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + b"\0" * ((4 - length % 4) % 4)


def _nested(kind: int, *attrs: bytes) -> bytes:
    return _attr(kind | NLA_F_NESTED, b"".join(attrs))


def _ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


def _name(name: str) -> bytes:
    return _attr(IFLA_IFNAME, name.encode() + b"\0")


class RtNetlink:
    """``Netlink`` over NETLINK_ROUTE. One socket per namespace per call
    (cheap: ~20 µs); calls are serialised per instance by a lock only for
    the sequence counter."""

    def __init__(self) -> None:
        self._seq = 0
        self._lock = threading.Lock()

    def _next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def _socket(self, ns: str | None) -> socket.socket:
        if ns is None:
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        else:
            s = netns.socket_in(ns, socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        s.bind((0, 0))
        return s

    def _request(self, sock: socket.socket, msg_type: int, flags: int, payload: bytes) -> None:
        seq = self._next_seq()
        header = struct.pack("=IHHII", 16 + len(payload), msg_type, flags | NLM_F_REQUEST | NLM_F_ACK, seq, 0)
        sock.sendall(header + payload)
        while True:
            data = sock.recv(65536)
            off = 0
            while off + 16 <= len(data):
                length, kind, _, rseq, _ = struct.unpack_from("=IHHII", data, off)
                if kind == NLMSG_ERROR and rseq == seq:
                    code = struct.unpack_from("=i", data, off + 16)[0]
                    if code:
                        raise OSError(-code, os.strerror(-code))
                    return
                off += (length + 3) & ~3

    def _call(self, ns: str | None, msg_type: int, flags: int, payload: bytes) -> None:
        with self._socket(ns) as s:
            self._request(s, msg_type, flags, payload)

    def _index(self, name: str, ns: str | None) -> int:
        def lookup() -> int:
            try:
                return socket.if_nametoindex(name)
            except OSError:  # Python raises it without an errno
                raise OSError(errno.ENODEV, f"no interface named {name}") from None
        return lookup() if ns is None else netns.run_in(ns, lookup)

    def link_exists(self, name: str, netns: str | None = None) -> bool:
        try:
            self._index(name, netns)
            return True
        except OSError:
            return False

    def add_bridge(self, name: str, mtu: int = 1500) -> None:
        payload = _ifinfo(flags=IFF_UP, change=IFF_UP) + _name(name) + _attr(IFLA_MTU, struct.pack("=I", mtu)) \
            + _nested(IFLA_LINKINFO, _attr(IFLA_INFO_KIND, b"bridge\0"))
        self._call(None, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, payload)

    def add_veth(self, host_name: str, peer_name: str, peer_netns: str, *, master: str,
                 peer_mac: bytes | None = None, mtu: int = 1500) -> None:
        # One message: the host end is created up and enslaved to the bridge,
        # the peer is created directly inside the container's namespace with
        # its final name (no temporary name, no move, no rename).
        fd = os.open(peer_netns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            peer = _ifinfo() + _name(peer_name) + _attr(IFLA_NET_NS_FD, struct.pack("=I", fd)) \
                + _attr(IFLA_MTU, struct.pack("=I", mtu))
            if peer_mac:
                peer += _attr(IFLA_ADDRESS, peer_mac)
            info = _nested(IFLA_LINKINFO, _attr(IFLA_INFO_KIND, b"veth\0"),
                           _nested(IFLA_INFO_DATA, _attr(VETH_INFO_PEER, peer)))
            master_index = self._index(master, None)
            payload = _ifinfo(flags=IFF_UP, change=IFF_UP) + _name(host_name) \
                + _attr(IFLA_MTU, struct.pack("=I", mtu)) + _attr(IFLA_MASTER, struct.pack("=I", master_index)) + info
            self._call(None, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, payload)
        finally:
            os.close(fd)

    def set_up(self, name: str, netns: str | None = None) -> None:
        with self._socket(netns) as s:
            index = self._index(name, netns)
            self._request(s, RTM_NEWLINK, 0, _ifinfo(index, IFF_UP, IFF_UP))

    def add_address(self, name: str, address: str, prefix_len: int, netns: str | None = None) -> None:
        with self._socket(netns) as s:
            index = self._index(name, netns)
            raw = socket.inet_aton(address)
            payload = struct.pack("=BBBBI", socket.AF_INET, prefix_len, 0, RT_SCOPE_UNIVERSE, index) \
                + _attr(IFA_LOCAL, raw) + _attr(IFA_ADDRESS, raw)
            try:
                self._request(s, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, payload)
            except OSError as exc:
                if exc.errno != errno.EEXIST:  # already there (restore after a restart)
                    raise

    def add_default_route(self, gateway: str, name: str, netns: str | None = None) -> None:
        with self._socket(netns) as s:
            index = self._index(name, netns)
            payload = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT,
                                  RT_SCOPE_UNIVERSE, RTN_UNICAST, 0) \
                + _attr(RTA_GATEWAY, socket.inet_aton(gateway)) + _attr(4, struct.pack("=I", index))  # RTA_OIF
            self._request(s, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, payload)

    def delete_link(self, name: str, netns: str | None = None) -> bool:
        try:
            with self._socket(netns) as s:
                index = self._index(name, netns)
                self._request(s, RTM_DELLINK, 0, _ifinfo(index))
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENXIO, errno.ENOENT):
                return False
            raise
        return True


__all__ = ["Netlink", "RtNetlink"]
