"""Host port reservation: a bound (never listening) socket per published
port. The kernel NAT rule takes the traffic before it could reach the
socket; the socket only makes the port *ours*, so that another container or
a host process cannot take it, and lets the kernel pick ephemeral ports.
"""

from __future__ import annotations

import errno
import socket
from typing import Protocol

from dockyard.errors import Internal


class PortInUse(Exception):
    """The host port is taken by someone else."""


class PortReserver(Protocol):
    def reserve(self, proto: str, host_ip: str, port: int) -> tuple[object, int]:
        """(handle, port actually reserved); port 0 = ephemeral. PortInUse if taken."""
        ...

    def release(self, handle: object) -> None: ...


class SocketPortReserver:
    def reserve(self, proto: str, host_ip: str, port: int) -> tuple[object, int]:
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((host_ip if host_ip != "0.0.0.0" else "", port))
        except OSError as exc:
            s.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(str(exc)) from None
            raise Internal(f"reserving {proto} port {host_ip}:{port}: {exc}") from None
        return s, s.getsockname()[1]

    def release(self, handle: object) -> None:
        if isinstance(handle, socket.socket):
            handle.close()


__all__ = ["PortInUse", "PortReserver", "SocketPortReserver"]
