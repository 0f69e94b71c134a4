"""Published ports (pure): HostConfig.PortBindings -> requested bindings,
and the shapes Docker shows (``NetworkSettings.Ports``, ``Ports`` in ps).

Rules for them are rendered by ``network/rules.py``; host ports are
reserved (conflicts found, ephemeral ports picked) by ``sys/ports.py``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from dockyard.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class Request:
    """One binding asked for: host_port_lo == 0 means ephemeral."""

    proto: str
    container_port: int
    host_ip: str
    host_port_lo: int
    host_port_hi: int


@dataclass(frozen=True, slots=True)
class Binding:
    """One binding in effect."""

    proto: str
    container_port: int
    host_ip: str  # "0.0.0.0" for every address
    host_port: int

    def to_json(self) -> dict[str, Any]:
        return {"proto": self.proto, "container_port": self.container_port, "host_ip": self.host_ip,
                "host_port": self.host_port}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Binding":
        return cls(d["proto"], int(d["container_port"]), d["host_ip"], int(d["host_port"]))


def split_port_key(key: str) -> tuple[int, str]:
    """``"80/tcp"`` -> (80, "tcp"); "80" -> (80, "tcp")."""
    port, _, proto = key.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp") or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument(f"invalid port specification: \"{key}\"")
    return int(port), proto


def _host_range(value: str) -> tuple[int, int]:
    if not value:
        return 0, 0
    lo, _, hi = value.partition("-")
    if not lo.isdigit() or (hi and not hi.isdigit()):
        raise InvalidArgument(f"invalid hostPort: {value}")
    a, b = int(lo), int(hi or lo)
    if not (0 <= a <= b < 65536):
        raise InvalidArgument(f"invalid hostPort: {value}")
    return a, b


def requests(port_bindings: Mapping[str, Any] | None, exposed: Iterable[str] = (),
             publish_all: bool = False) -> list[Request]:
    """Validated requests, in a stable order; ``publish_all`` (-P) adds an
    ephemeral binding for every exposed port without one."""
    out: list[Request] = []
    seen: set[tuple[int, str]] = set()
    for key, binds in sorted((port_bindings or {}).items()):
        port, proto = split_port_key(key)
        seen.add((port, proto))
        for b in binds or [{}]:
            host_ip = (b or {}).get("HostIp") or ""
            if host_ip:
                try:
                    ipaddress.IPv4Address(host_ip)
                except ValueError:
                    raise InvalidArgument(f"invalid IP address: {host_ip}") from None
            lo, hi = _host_range((b or {}).get("HostPort") or "")
            out.append(Request(proto, port, host_ip or "0.0.0.0", lo, hi))
    if publish_all:
        for key in sorted(exposed):
            port, proto = split_port_key(key)
            if (port, proto) not in seen:
                out.append(Request(proto, port, "0.0.0.0", 0, 0))
    return out


def ports_json(bindings: Iterable[Binding], exposed: Iterable[str] = ()) -> dict[str, Any]:
    """``NetworkSettings.Ports``: every exposed or published port; null when unbound."""
    out: dict[str, Any] = {}
    for key in exposed:
        port, proto = split_port_key(key)
        out.setdefault(f"{port}/{proto}", None)
    for b in bindings:
        key = f"{b.container_port}/{b.proto}"
        if out.get(key) is None:
            out[key] = []
        out[key].append({"HostIp": b.host_ip, "HostPort": str(b.host_port)})
    return out


def summary_ports(bindings: Iterable[Binding], exposed: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``Ports`` of ``GET /containers/json``."""
    out: list[dict[str, Any]] = []
    bound = set()
    for b in bindings:
        bound.add((b.container_port, b.proto))
        out.append({"IP": b.host_ip, "PrivatePort": b.container_port, "PublicPort": b.host_port,
                    "Type": b.proto})
    for key in exposed:
        port, proto = split_port_key(key)
        if (port, proto) not in bound:
            out.append({"PrivatePort": port, "Type": proto})
    return out


__all__ = ["Binding", "Request", "ports_json", "requests", "split_port_key", "summary_ports"]
