"""version, info, events, system df."""

from __future__ import annotations

import platform
import sys

import dockyard

from . import Parser

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Sequence

_GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def _kv(indent: str, pairs: Sequence[tuple[str, object]]) -> str:
    width = max(len(k) for k, _ in pairs) + 2
    return "".join(f"{indent}{(k + ':').ljust(width)}{v}\n" for k, v in pairs)


def version(ctx: Any, argv: list[str]) -> int:
    Parser("version", "Show the Dockyard version information").parse_args(argv)
    from dockyard.client.api import API_PREFIX
    from dockyard.errors import EngineError

    arch = _GOARCH.get(platform.machine(), platform.machine())
    client = [
        ("Version", dockyard.__version__),
        ("API version", API_PREFIX.lstrip("/v")),
        ("Python version", platform.python_version()),
        ("OS/Arch", f"linux/{arch}"),
    ]
    sys.stdout.write("Client:\n" + _kv(" ", client))
    try:
        v = ctx.api.version()
    except EngineError:
        sys.stdout.write("\n")
        raise
    name = (v.get("Platform") or {}).get("Name", "")
    server = [
        ("Version", v.get("Version", "")),
        ("API version", f"{v.get('ApiVersion', '')} (minimum version {v.get('MinAPIVersion', '')})"),
        ("Runtime", v.get("GoVersion", "")),
        ("Git commit", v.get("GitCommit", "")),
        ("Built", v.get("BuildTime", "")),
        ("OS/Arch", f"{v.get('Os', '')}/{v.get('Arch', '')}"),
        ("Experimental", "false"),
    ]
    sys.stdout.write(f"\nServer: {name}\n Engine:\n" + _kv("  ", server))
    return 0


def info(ctx: Any, argv: list[str]) -> int:
    p = Parser("info", "Display system-wide information")
    p.add_argument("-f", "--format", default=None)
    args = p.parse_args(argv)
    from dockyard.wire.humanize import bytes_size

    i = ctx.api.info()
    if args.format:
        return _info_format(args.format, i)
    lines = [
        "Client:",
        f" Version:    {dockyard.__version__}",
        " Context:    default",
        " Debug Mode: false",
        "",
        "Server:",
        f" Containers: {i.get('Containers', 0)}",
        f"  Running: {i.get('ContainersRunning', 0)}",
        f"  Paused: {i.get('ContainersPaused', 0)}",
        f"  Stopped: {i.get('ContainersStopped', 0)}",
        f" Images: {i.get('Images', 0)}",
        f" Server Version: {i.get('ServerVersion', '')}",
        f" Storage Driver: {i.get('Driver', '')}",
        f" Logging Driver: {i.get('LoggingDriver', '')}",
        f" Cgroup Driver: {i.get('CgroupDriver', '')}",
        f" Cgroup Version: {i.get('CgroupVersion', '')}",
        f" Default Runtime: {i.get('DefaultRuntime', '')}",
        f" Kernel Version: {i.get('KernelVersion', '')}",
        f" Operating System: {i.get('OperatingSystem', '')}",
        f" OSType: {i.get('OSType', '')}",
        f" Architecture: {i.get('Architecture', '')}",
        f" CPUs: {i.get('NCPU', 0)}",
        f" Total Memory: {bytes_size(i.get('MemTotal', 0))}",
        f" Name: {i.get('Name', '')}",
        f" ID: {i.get('ID', '')}",
        f" Docker Root Dir: {i.get('DockerRootDir', '')}",
        f" Debug Mode: {str(bool(i.get('Debug'))).lower()}",
        f" Experimental: {str(bool(i.get('ExperimentalBuild'))).lower()}",
        f" Live Restore Enabled: {str(bool(i.get('LiveRestoreEnabled'))).lower()}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    for warning in i.get("Warnings") or []:
        sys.stderr.write(f"WARNING: {warning}\n")
    return 0


def _info_format(fmt: str, server: dict[str, Any]) -> int:
    """``info --format``: the docker CLI's data, the server's fields with ``ClientInfo`` beside them
    (no warnings printed, as the docker CLI); ``json`` is ``{{json .}}``."""
    from dockyard.cli.commands import UsageError
    from dockyard.cli.gotemplate import Template, TemplateError
    from dockyard.client.api import API_PREFIX

    arch = _GOARCH.get(platform.machine(), platform.machine())
    client = {"Debug": False, "Version": dockyard.__version__, "DefaultAPIVersion": API_PREFIX.lstrip("/v"),
              "Os": "linux", "Arch": arch, "Context": "default", "Plugins": [], "Warnings": None}
    try:
        tpl = Template("{{json .}}" if fmt == "json" else fmt.replace("\\n", "\n").replace("\\t", "\t"))
        sys.stdout.write(tpl.render({**server, "ClientInfo": client}) + "\n")
    except TemplateError as exc:
        raise UsageError(f"dockyard: {exc}") from None
    return 0


def events(ctx: Any, argv: list[str]) -> int:
    p = Parser("events", "Get real time events from the server")
    p.add_argument("--since", default=None)
    p.add_argument("--until", default=None)
    p.add_argument("-f", "--filter", action="append", default=[])
    p.add_argument("--format", default=None)
    a = p.parse_args(argv)
    import time

    from dockyard.cli.filters import encode_flags
    from dockyard.cli.timeflags import to_timestamp

    now = time.time()
    since = to_timestamp(a.since, now) if a.since else None
    until = to_timestamp(a.until, now) if a.until else None
    stream = ctx.api.events(since=since, until=until, filters=encode_flags(a.filter))
    for ev in stream:
        sys.stdout.write(event_line(ev, a.format))
        sys.stdout.flush()
    return 0


def event_line(ev: dict[str, Any], fmt: str | None) -> str:
    """docker's default: "<time> <type> <action> <id> (k=v, ...)"."""
    if fmt:
        from dockyard.cli.formatter import format_items

        return format_items(fmt, [ev])
    from datetime import datetime

    ns = int(ev.get("timeNano") or int(ev.get("time", 0)) * 1_000_000_000)
    stamp = datetime.fromtimestamp(ns // 1_000_000_000).astimezone()
    when = stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}" + stamp.strftime("%z")
    when = when[:-2] + ":" + when[-2:]
    actor = ev.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    text = f"{when} {ev.get('Type', '')} {ev.get('Action', '')} {actor.get('ID', '')}"
    if attrs:
        text += " (" + ", ".join(f"{k}={v}" for k, v in sorted(attrs.items())) + ")"
    return text + "\n"


def system(ctx: Any, argv: list[str]) -> int:
    if not argv or argv[0] not in ("df", "events", "info", "prune"):
        from . import UsageError

        raise UsageError("dockyard: 'system' needs a command: df, events, info, prune")
    if argv[0] == "events":
        return events(ctx, argv[1:])
    if argv[0] == "info":
        return info(ctx, argv[1:])
    if argv[0] == "prune":
        from .control import prune

        return prune(ctx, argv[1:])
    return df(ctx, argv[1:])


def df(ctx: Any, argv: list[str]) -> int:
    p = Parser("system df", "Show docker disk usage")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--format", default=None)
    a = p.parse_args(argv)
    from dockyard.cli.formatter import format_items
    from dockyard.wire.humanize import human_size

    d = ctx.api.df()
    images, containers = d.get("Images") or [], d.get("Containers") or []
    active_images = sum(1 for i in images if i.get("Containers", 0) > 0)
    image_size = int(d.get("LayersSize") or 0)
    unused_images = sum(int(i.get("Size", 0)) for i in images if i.get("Containers", 0) == 0)
    running = sum(1 for c in containers if c.get("State") == "running")
    rw = sum(int(c.get("SizeRw") or 0) for c in containers)
    idle_rw = sum(int(c.get("SizeRw") or 0) for c in containers if c.get("State") != "running")

    def pct(part: int, whole: int) -> str:
        return f"{human_size(part)} ({int(part * 100 / whole) if whole else 0}%)"

    volumes = d.get("Volumes") or []

    def usage(v: dict[str, Any], key: str) -> int:
        return max(0, int((v.get("UsageData") or {}).get(key, 0) or 0))

    vol_size = sum(usage(v, "Size") for v in volumes)
    vol_idle = sum(usage(v, "Size") for v in volumes if usage(v, "RefCount") == 0)
    cache = d.get("BuildCache") or []
    cache_size = sum(int(c.get("Size") or 0) for c in cache)
    cache_idle = sum(int(c.get("Size") or 0) for c in cache if not c.get("InUse"))
    rows = [
        {"Type": "Images", "TotalCount": str(len(images)), "Active": str(active_images),
         "Size": human_size(image_size), "Reclaimable": pct(unused_images, image_size)},
        {"Type": "Containers", "TotalCount": str(len(containers)), "Active": str(running),
         "Size": human_size(rw), "Reclaimable": pct(idle_rw, rw)},
        {"Type": "Local Volumes", "TotalCount": str(len(volumes)),
         "Active": str(sum(1 for v in volumes if usage(v, "RefCount") > 0)),
         "Size": human_size(vol_size), "Reclaimable": pct(vol_idle, vol_size)},
        {"Type": "Build Cache", "TotalCount": str(len(cache)),
         "Active": str(sum(1 for c in cache if c.get("InUse"))),
         "Size": human_size(cache_size), "Reclaimable": human_size(cache_idle)},
    ]
    if a.verbose and not a.format:
        sys.stdout.write(_verbose_volumes(volumes, usage))
        return 0
    headers = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
               "Reclaimable": "RECLAIMABLE"}
    fmt = a.format or "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
    sys.stdout.write(format_items(fmt, rows, headers))
    return 0


def _verbose_volumes(volumes: list[dict[str, Any]], usage: Any) -> str:
    """The "Local Volumes space usage" section of ``system df -v`` (VOLUME NAME, LINKS, SIZE)."""
    from dockyard.wire.humanize import human_size

    rows = [(v.get("Name", ""), str(usage(v, "RefCount")), human_size(usage(v, "Size"))) for v in volumes]
    width = max([len("VOLUME NAME")] + [len(r[0]) for r in rows]) + 3
    lines = ["Local Volumes space usage:", "", f"{'VOLUME NAME':<{width}}{'LINKS':<8}SIZE"]
    lines += [f"{name:<{width}}{links:<8}{size}" for name, links, size in rows]
    return "\n".join(lines) + "\n"
