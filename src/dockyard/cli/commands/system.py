"""version, info."""

from __future__ import annotations

import platform
import sys
from typing import Any

import dockyard

from . import Parser

_GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def _kv(indent: str, pairs: list[tuple[str, object]]) -> str:
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
    Parser("info", "Display system-wide information").parse_args(argv)
    from dockyard.wire.humanize import bytes_size

    i = ctx.api.info()
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
