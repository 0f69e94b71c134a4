"""network create/ls/inspect/rm/prune/connect/disconnect, and port."""

from __future__ import annotations

import json
import sys

from dockyard.errors import EngineError

from . import Parser, UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SUB = ("create", "ls", "list", "inspect", "rm", "remove", "prune", "connect", "disconnect")
USAGE = """\
Usage:  dockyard network COMMAND

Manage networks

Commands:
  connect     Connect a container to a network
  create      Create a network
  disconnect  Disconnect a container from a network
  inspect     Display detailed information on one or more networks
  ls          List networks
  prune       Remove all unused networks
  rm          Remove one or more networks
"""


def network(ctx: Any, argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    sub, rest = argv[0], argv[1:]
    if sub not in _SUB:
        raise UsageError(f"dockyard: unknown command: dockyard network {sub}")
    return {"create": _create, "ls": _ls, "list": _ls, "inspect": _inspect, "rm": _rm, "remove": _rm,
            "prune": _prune, "connect": _connect, "disconnect": _disconnect}[sub](ctx, rest)


def _labels(values: list[str]) -> dict[str, str]:
    return {k: v for k, _, v in (x.partition("=") for x in values)}


def _create(ctx: Any, argv: list[str]) -> int:
    p = Parser("network create", "Create a network")
    p.add_argument("-d", "--driver", default="bridge")
    p.add_argument("--subnet", action="append", default=[])
    p.add_argument("--gateway", action="append", default=[])
    p.add_argument("--ip-range", action="append", default=[])
    p.add_argument("--internal", action="store_true")
    p.add_argument("--attachable", action="store_true")
    p.add_argument("--ipv6", action="store_true")
    p.add_argument("-o", "--opt", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("name")
    a = p.parse_args(argv)
    if (a.gateway or a.ip_range) and not a.subnet:
        raise UsageError("dockyard: every ip-range or gateway must have a corresponding subnet")
    config = [{k: v for k, v in (("Subnet", s), ("Gateway", (a.gateway[i:i + 1] or [""])[0]),
                                 ("IPRange", (a.ip_range[i:i + 1] or [""])[0])) if v}
              for i, s in enumerate(a.subnet)]
    body = {"Name": a.name, "Driver": a.driver, "Internal": a.internal, "Attachable": a.attachable,
            "EnableIPv6": a.ipv6, "Options": _labels(a.opt), "Labels": _labels(a.label),
            "IPAM": {"Driver": "default", "Config": config, "Options": {}}, "CheckDuplicate": True}
    print(ctx.api.create_network(body)["Id"])
    return 0


def _ls(ctx: Any, argv: list[str]) -> int:
    p = Parser("network ls", "List networks")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-f", "--filter", action="append", default=[])
    a = p.parse_args(argv)
    filters: dict[str, list[str]] = {}
    for f in a.filter:
        k, _, v = f.partition("=")
        filters.setdefault(k, []).append(v)
    nets = ctx.api.networks(filters=json.dumps(filters) if filters else None)
    ids = [n["Id"] if a.no_trunc else n["Id"][:12] for n in nets]
    if a.quiet:
        sys.stdout.write("".join(i + "\n" for i in ids))
        return 0
    from dockyard.cli.render import table

    rows = [[i, n["Name"], n["Driver"], n["Scope"]] for i, n in zip(ids, nets)]
    sys.stdout.write(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], rows))
    return 0


def _inspect(ctx: Any, argv: list[str]) -> int:
    p = Parser("network inspect", "Display detailed information on one or more networks")
    p.add_argument("networks", nargs="+")
    a = p.parse_args(argv)
    found, missing = [], []
    for ref in a.networks:
        try:
            found.append(ctx.api.inspect_network(ref))
        except EngineError as exc:
            missing.append(str(exc))
    sys.stdout.write(json.dumps(found, indent=4) + "\n")
    for m in missing:
        sys.stderr.write(f"Error response from daemon: {m}\n")
    return 1 if missing else 0


def _rm(ctx: Any, argv: list[str]) -> int:
    p = Parser("network rm", "Remove one or more networks")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("networks", nargs="+")
    a = p.parse_args(argv)
    from dockyard.cli.commands.control import _each  # the shared per-ref loop

    return _each(a.networks, ctx.api.remove_network)


def _prune(ctx: Any, argv: list[str]) -> int:
    p = Parser("network prune", "Remove all unused networks")
    p.add_argument("-f", "--force", action="store_true")
    p.parse_args(argv)
    deleted = ctx.api.prune_networks().get("NetworksDeleted") or []
    if deleted:
        sys.stdout.write("Deleted Networks:\n" + "".join(n + "\n" for n in deleted))
    return 0


def _connect(ctx: Any, argv: list[str]) -> int:
    p = Parser("network connect", "Connect a container to a network")
    p.add_argument("--ip", default="")
    p.add_argument("--alias", action="append", default=[])
    p.add_argument("--link", action="append", default=[])
    p.add_argument("network")
    p.add_argument("container")
    a = p.parse_args(argv)
    ep: dict[str, Any] = {}
    if a.ip:
        ep["IPAMConfig"] = {"IPv4Address": a.ip}
    if a.alias:
        ep["Aliases"] = a.alias
    if a.link:
        ep["Links"] = a.link
    ctx.api.connect_network(a.network, a.container, ep)
    return 0


def _disconnect(ctx: Any, argv: list[str]) -> int:
    p = Parser("network disconnect", "Disconnect a container from a network")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("network")
    p.add_argument("container")
    a = p.parse_args(argv)
    ctx.api.disconnect_network(a.network, a.container, a.force)
    return 0


def port(ctx: Any, argv: list[str]) -> int:
    """``port CONTAINER [PRIVATE_PORT[/PROTO]]``: docker's output format."""
    p = Parser("port", "List port mappings or a specific mapping for the container")
    p.add_argument("container")
    p.add_argument("private", nargs="?")
    a = p.parse_args(argv)
    info = ctx.api.inspect_container(a.container)
    ports = (info.get("NetworkSettings") or {}).get("Ports") or {}
    want = None
    if a.private:
        want = a.private if "/" in a.private else a.private + "/tcp"
    lines = []
    for key, binds in sorted(ports.items(), key=lambda kv: (int(kv[0].split("/")[0]), kv[0])):
        if want and key != want:
            continue
        for b in binds or []:
            addr = f"{b['HostIp']}:{b['HostPort']}"
            lines.append(addr if want else f"{key} -> {addr}")
    if want and not lines:
        sys.stderr.write(f"Error: No public port '{want}' published for {a.container}\n")
        return 1
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0
