"""Networking flags -> parts of the ``POST /containers/create`` body (pure).

``-p`` follows the docker CLI's ``nat.ParsePortSpec``:
``[ip:][hostPort[-end]:]containerPort[-end][/proto]``, e.g. ``80``,
``8080:80``, ``127.0.0.1:8080:80``, ``127.0.0.1::80``, ``8000-8001:80-81/udp``.
"""

from __future__ import annotations


from dockyard.cli.record import Options

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class NetSpecError(ValueError):
    pass


class NetOptions(Options):
    publish: list[str] = []
    publish_all: bool = False
    expose: list[str] = []
    network: str = ""
    ip: str = ""
    aliases: list[str] = []
    dns: list[str] = []
    dns_search: list[str] = []
    dns_option: list[str] = []
    add_host: list[str] = []
    links: list[str] = []
    mac_address: str = ""
    domainname: str = ""


def _range(text: str, what: str) -> tuple[int, int]:
    lo, _, hi = text.partition("-")
    if not lo.isdigit() or (hi and not hi.isdigit()):
        raise NetSpecError(f"invalid {what}: {text}")
    a, b = int(lo), int(hi or lo)
    if not (0 < a <= b < 65536) and not (what == "hostPort" and a == 0 == b):
        raise NetSpecError(f"invalid {what}: {text}")
    return a, b


def parse_publish(value: str) -> list[tuple[str, str, str]]:
    """One ``-p`` value -> [(container "port/proto", host ip, host port)]."""
    spec, _, proto = value.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise NetSpecError(f"invalid proto: {proto}")
    parts = spec.rsplit(":", 2) if not spec.startswith("[") else spec.split("]:", 1)
    ip, host, container = "", "", parts[-1]
    if len(parts) == 2:
        host = parts[0]
    elif len(parts) == 3:
        ip, host = parts[0], parts[1]
    if not container:
        raise NetSpecError(f"no port specified: {value}<empty>")
    c_lo, c_hi = _range(container, "containerPort")
    if host:
        h_lo, h_hi = _range(host, "hostPort")
        if c_hi - c_lo != h_hi - h_lo and h_lo != h_hi and c_lo != c_hi:
            raise NetSpecError(f"invalid ranges specified for container and host Ports: {container} and {host}")
    out = []
    for i, port in enumerate(range(c_lo, c_hi + 1)):
        if not host:
            hp = ""
        elif h_lo == h_hi:
            hp = str(h_lo) if c_lo == c_hi else f"{h_lo}"
        elif c_lo == c_hi:
            hp = f"{h_lo}-{h_hi}"  # one container port, a host range: the daemon picks
        else:
            hp = str(h_lo + i)
        out.append((f"{port}/{proto}", ip, hp))
    return out


def apply(body: dict[str, Any], opts: NetOptions) -> None:
    """Add the networking parts to a create body in place (docker CLI shapes)."""
    host = body.setdefault("HostConfig", {})
    exposed: dict[str, dict] = dict(body.get("ExposedPorts") or {})
    bindings: dict[str, list[dict[str, str]]] = {}
    for value in opts.publish:
        for key, ip, hp in parse_publish(value):
            exposed[key] = {}
            bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": hp})
    for value in opts.expose:
        port, _, proto = value.partition("/")
        lo, hi = _range(port, "containerPort")
        for p in range(lo, hi + 1):
            exposed[f"{p}/{proto or 'tcp'}"] = {}
    if exposed:
        body["ExposedPorts"] = exposed
    if bindings:
        host["PortBindings"] = bindings
    if opts.publish_all:
        host["PublishAllPorts"] = True
    mode = opts.network or "default"
    host["NetworkMode"] = mode
    for key, values in (("Dns", opts.dns), ("DnsSearch", opts.dns_search), ("DnsOptions", opts.dns_option),
                        ("ExtraHosts", opts.add_host), ("Links", opts.links)):
        if values:
            host[key] = list(values)
    if opts.domainname:
        body["Domainname"] = opts.domainname
    if opts.mac_address:
        body["MacAddress"] = opts.mac_address
    if opts.ip or opts.aliases:
        if mode in ("default", "bridge", "host", "none") or mode.startswith("container:"):
            what = "IP address" if opts.ip else "alias"
            if opts.ip:
                raise NetSpecError("user specified IP address is supported on user defined networks only")
            raise NetSpecError(f"network-scoped {what} is supported only for containers in user defined networks")
        ep: dict[str, Any] = {}
        if opts.ip:
            ep["IPAMConfig"] = {"IPv4Address": opts.ip}
        if opts.aliases:
            ep["Aliases"] = list(opts.aliases)
        body["NetworkingConfig"] = {"EndpointsConfig": {mode: ep}}


def add_flags(p: Any) -> None:
    """The run/create networking flags, on an argparse parser."""
    p.add_argument("-p", "--publish", action="append", default=[])
    p.add_argument("-P", "--publish-all", action="store_true")
    p.add_argument("--expose", action="append", default=[])
    p.add_argument("--network", "--net", default="")
    p.add_argument("--ip", default="")
    p.add_argument("--network-alias", "--net-alias", action="append", default=[])
    p.add_argument("--dns", action="append", default=[])
    p.add_argument("--dns-search", action="append", default=[])
    p.add_argument("--dns-option", "--dns-opt", action="append", default=[])
    p.add_argument("--add-host", action="append", default=[])
    p.add_argument("--link", action="append", default=[])
    p.add_argument("--mac-address", default="")
    p.add_argument("--domainname", default="")


def from_args(a: Any) -> NetOptions:
    return NetOptions(publish=a.publish, publish_all=a.publish_all, expose=a.expose, network=a.network, ip=a.ip,
                      aliases=a.network_alias, dns=a.dns, dns_search=a.dns_search, dns_option=a.dns_option,
                      add_host=a.add_host, links=a.link, mac_address=a.mac_address, domainname=a.domainname)


__all__ = ["NetOptions", "NetSpecError", "add_flags", "apply", "from_args", "parse_publish"]
