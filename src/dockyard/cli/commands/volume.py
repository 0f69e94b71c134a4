"""volume create/ls/inspect/rm/prune."""

from __future__ import annotations

import json
import sys

from dockyard.errors import EngineError

from . import Parser, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

USAGE = """\
Usage:  dockyard volume COMMAND

Manage volumes

Commands:
  create      Create a volume
  inspect     Display detailed information on one or more volumes
  ls          List volumes
  prune       Remove unused local volumes
  rm          Remove one or more volumes
"""


def volume(ctx: Any, argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    sub, rest = argv[0], argv[1:]
    table = {"create": _create, "ls": _ls, "list": _ls, "inspect": _inspect, "rm": _rm, "remove": _rm,
             "prune": _prune}
    if sub not in table:
        raise UsageError(f"dockyard: unknown command: dockyard volume {sub}")
    return table[sub](ctx, rest)


def _pairs(values: list[str]) -> dict[str, str]:
    return {k: v for k, _, v in (x.partition("=") for x in values)}


def _filters(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in values:
        k, sep, v = f.partition("=")
        if not sep:
            raise UsageError(f"dockyard: bad format of filter (expected name=value): {f}")
        out.setdefault(k, []).append(v)
    return out


def _create(ctx: Any, argv: list[str]) -> int:
    from dockyard.client import volumes

    p = Parser("volume create", "Create a volume")
    p.add_argument("-d", "--driver", default="local")
    p.add_argument("-o", "--opt", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--name", default=None)
    p.add_argument("name_arg", nargs="?", default=None)
    a = p.parse_args(argv)
    if a.name and a.name_arg and a.name != a.name_arg:
        raise UsageError(f"dockyard: conflicting options: either specify --name or provide positional arg, not both")
    body = {"Name": a.name or a.name_arg or "", "Driver": a.driver, "DriverOpts": _pairs(a.opt),
            "Labels": _pairs(a.label)}
    print(volumes.create_volume(ctx.api, body)["Name"])
    return 0


def _ls(ctx: Any, argv: list[str]) -> int:
    from dockyard.client import volumes

    p = Parser("volume ls", "List volumes")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-f", "--filter", action="append", default=[])
    p.add_argument("--format", default=None)
    a = p.parse_args(argv)
    vols = volumes.list_volumes(ctx.api, _filters(a.filter)).get("Volumes") or []
    if a.quiet:
        sys.stdout.write("".join(v["Name"] + "\n" for v in vols))
        return 0
    if a.format:
        from dockyard.cli.formatter import format_items

        items = [{"Name": v["Name"], "Driver": v["Driver"], "Mountpoint": v["Mountpoint"], "Scope": v["Scope"],
                  "Labels": ",".join(f"{k}={val}" for k, val in (v.get("Labels") or {}).items())} for v in vols]
        sys.stdout.write(format_items(a.format, items, {"Name": "VOLUME NAME", "Driver": "DRIVER",
                                                        "Mountpoint": "MOUNTPOINT", "Scope": "SCOPE"}))
        return 0
    from dockyard.cli.formatter import tabwrite

    sys.stdout.write(tabwrite(["DRIVER\tVOLUME NAME", *(f"{v['Driver']}\t{v['Name']}" for v in vols)]))
    return 0


def _inspect(ctx: Any, argv: list[str]) -> int:
    from dockyard.client import volumes

    p = Parser("volume inspect", "Display detailed information on one or more volumes")
    p.add_argument("-f", "--format", default=None)
    p.add_argument("volumes", nargs="+")
    a = p.parse_args(argv)
    found, missing = [], []
    for name in a.volumes:
        try:
            found.append(volumes.inspect_volume(ctx.api, name))
        except EngineError as exc:
            missing.append(str(exc))
    if a.format:
        from dockyard.cli.formatter import format_items

        sys.stdout.write(format_items(a.format, found))
    else:
        sys.stdout.write(json.dumps(found, indent=4) + "\n")
    for m in missing:
        sys.stderr.write(f"Error response from daemon: {m}\n")
    return 1 if missing else 0


def _rm(ctx: Any, argv: list[str]) -> int:
    from dockyard.cli.main import error_text
    from dockyard.client import volumes

    p = Parser("volume rm", "Remove one or more volumes")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("volumes", nargs="+")
    a = p.parse_args(argv)
    failed = 0
    for name in a.volumes:
        try:
            volumes.remove_volume(ctx.api, name, force=a.force)
            print(name)
        except EngineError as exc:
            sys.stderr.write(error_text(exc) + "\n")
            failed += 1
    return 1 if failed else 0


def _prune(ctx: Any, argv: list[str]) -> int:
    from dockyard.client import volumes
    from dockyard.wire.humanize import human_size

    p = Parser("volume prune", "Remove unused local volumes")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--filter", action="append", default=[])
    a = p.parse_args(argv)
    filters = _filters(a.filter)
    if a.all:
        filters["all"] = ["true"]
    if not a.force:
        sys.stdout.write("WARNING! This will remove anonymous local volumes not used by at least one container.\n"
                         "Are you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    out = volumes.prune_volumes(ctx.api, filters)
    deleted = out.get("VolumesDeleted") or []
    if deleted:
        sys.stdout.write("Deleted Volumes:\n" + "".join(n + "\n" for n in deleted) + "\n")
    sys.stdout.write(f"Total reclaimed space: {human_size(out.get('SpaceReclaimed', 0))}\n")
    return 0
