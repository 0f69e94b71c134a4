"""Pure helpers for a container's networking config: the network mode, the
endpoints it asks for, --add-host and --link values, with Docker's errors."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Mapping

from dockyard.errors import InvalidArgument

PREDEFINED = ("bridge", "host", "none")


@dataclass(frozen=True, slots=True)
class Mode:
    kind: str  # "bridge" (any bridge network, default or user) | "host" | "none" | "container"
    network: str = ""  # the primary network's name or id (kind "bridge")
    container: str = ""  # kind "container"


def parse_mode(value: str | None) -> Mode:
    value = value or "default"
    if value == "default":
        return Mode("bridge", "bridge")
    if value in ("host", "none"):
        return Mode(value)
    if value.startswith("container:"):
        ref = value.partition(":")[2]
        if not ref:
            raise InvalidArgument("Invalid network mode: invalid container format container:<name|id>")
        return Mode("container", container=ref)
    return Mode("bridge", value)


@dataclass(frozen=True, slots=True)
class EndpointWish:
    network: str  # name or id as the user gave it
    aliases: tuple[str, ...] = ()
    ipv4: str = ""
    links: tuple[str, ...] = ()
    driver_opts: Mapping[str, str] = field(default_factory=dict)


def wishes(mode: Mode, endpoints_config: Mapping[str, Any] | None, links: list[str] | None) -> list[EndpointWish]:
    """The endpoints to record for a bridge-mode container: the primary
    network first, then any other network of NetworkingConfig."""
    # the docker CLI keys the primary network by the mode it sent ("default")
    cfgs = {("bridge" if k == "default" else k): v for k, v in (endpoints_config or {}).items()}
    order = [mode.network] + [n for n in cfgs if n != mode.network]
    out = []
    for name in order:
        c = cfgs.get(name) or {}
        if not isinstance(c, dict):
            raise InvalidArgument(f"invalid EndpointsConfig for network {name}")
        ipam = c.get("IPAMConfig") or {}
        aliases = tuple(a for a in (c.get("Aliases") or []) if a)
        out.append(EndpointWish(name, aliases, str(ipam.get("IPv4Address") or ""),
                                tuple(links or ()) if name == mode.network else ()))
    return out


def parse_extra_hosts(values: list[str] | None, host_gateway: str) -> list[tuple[str, str]]:
    """``name:ip`` or ``name=ip`` -> (name, ip); ``host-gateway`` becomes the
    default bridge's gateway (Docker's --host-gateway-ip default)."""
    out = []
    for v in values or []:
        sep = "=" if "=" in v else ":"
        name, _, ip = v.partition(sep)
        if ip == "host-gateway":
            ip = host_gateway
        try:
            ipaddress.ip_address(ip.strip("[]"))
        except ValueError:
            raise InvalidArgument(f"invalid IP address in add-host: \"{ip}\"") from None
        if not name:
            raise InvalidArgument(f"bad format for add-host: \"{v}\"")
        out.append((name, ip.strip("[]")))
    return out


def parse_link(value: str) -> tuple[str, str]:
    """``name[:alias]`` -> (name, alias)."""
    name, _, alias = value.partition(":")
    name = name.lstrip("/")
    if not name:
        raise InvalidArgument(f"invalid link: {value}")
    return name, (alias or name).lstrip("/").rsplit("/", 1)[-1]


__all__ = ["EndpointWish", "Mode", "PREDEFINED", "parse_extra_hosts", "parse_link", "parse_mode", "wishes"]
