"""stop, kill, restart, pause, unpause, rename, wait, top, update, container prune."""

from __future__ import annotations

import sys

from dockyard.errors import EngineError

from . import Parser, UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


def _each(refs: list[str], op: Callable[[str], None]) -> int:
    """Run ``op`` per container; print the ref on success, docker's error line otherwise."""
    from dockyard.cli.main import error_text

    failed = []
    for ref in refs:
        try:
            op(ref)
        except EngineError as exc:
            failed.append(error_text(exc))
            continue
        print(ref)
    if failed:
        sys.stderr.write("\n".join(failed) + "\n")
        return 1
    return 0


def stop(ctx: Any, argv: list[str]) -> int:
    p = Parser("stop", "Stop one or more running containers")
    p.add_argument("-t", "--time", "--timeout", type=int, default=None, dest="timeout")
    p.add_argument("-s", "--signal", default=None)
    p.add_argument("containers", nargs="+")
    a = p.parse_args(argv)
    return _each(a.containers, lambda r: ctx.api.stop(r, timeout=a.timeout, signal=a.signal))


def restart(ctx: Any, argv: list[str]) -> int:
    p = Parser("restart", "Restart one or more containers")
    p.add_argument("-t", "--time", "--timeout", type=int, default=None, dest="timeout")
    p.add_argument("-s", "--signal", default=None)
    p.add_argument("containers", nargs="+")
    a = p.parse_args(argv)
    return _each(a.containers, lambda r: ctx.api.restart(r, timeout=a.timeout, signal=a.signal))


def kill(ctx: Any, argv: list[str]) -> int:
    p = Parser("kill", "Kill one or more running containers")
    p.add_argument("-s", "--signal", default=None)
    p.add_argument("containers", nargs="+")
    a = p.parse_args(argv)
    return _each(a.containers, lambda r: ctx.api.kill(r, a.signal))


def pause(ctx: Any, argv: list[str]) -> int:
    p = Parser("pause", "Pause all processes within one or more containers")
    p.add_argument("containers", nargs="+")
    return _each(p.parse_args(argv).containers, ctx.api.pause)


def unpause(ctx: Any, argv: list[str]) -> int:
    p = Parser("unpause", "Unpause all processes within one or more containers")
    p.add_argument("containers", nargs="+")
    return _each(p.parse_args(argv).containers, ctx.api.unpause)


def rename(ctx: Any, argv: list[str]) -> int:
    p = Parser("rename", "Rename a container")
    p.add_argument("container")
    p.add_argument("new_name")
    a = p.parse_args(argv)
    ctx.api.rename(a.container, a.new_name)
    return 0


def wait(ctx: Any, argv: list[str]) -> int:
    p = Parser("wait", "Block until one or more containers stop, then print their exit codes")
    p.add_argument("containers", nargs="+")
    a = p.parse_args(argv)
    from dockyard.cli.main import error_text

    rc = 0
    for ref in a.containers:
        try:
            result = ctx.api.wait_result(ref)
        except EngineError as exc:
            sys.stderr.write(error_text(exc) + "\n")
            rc = 1
            continue
        print(result.get("StatusCode", 0))
    return rc


def top(ctx: Any, argv: list[str]) -> int:
    p = Parser("top", "Display the running processes of a container")
    p.add_argument("container")
    # everything after the container goes to ps, flags included (docker: top CONTAINER [ps OPTIONS])
    if not argv or argv[0] in ("-h", "--help"):
        p.parse_args(argv)
    ref, ps_args = argv[0], argv[1:]
    from dockyard.cli.formatter import tabwrite

    result = ctx.api.top(ref, " ".join(ps_args) or None)
    lines = ["\t".join(result.get("Titles") or [])]
    lines += ["\t".join(row) for row in result.get("Processes") or []]
    sys.stdout.write(tabwrite(lines))
    return 0


def _memory(text: str) -> int:
    """docker's RAMInBytes: "512m", "1g", "1024" → bytes."""
    units = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    t = text.strip().lower()
    if len(t) > 1 and t.endswith("b") and t[-2] in "kmgt":
        t = t[:-1]
    mult = 1
    if t and t[-1] in units:
        mult, t = units[t[-1]], t[:-1]
    try:
        return int(float(t) * mult)
    except ValueError:
        raise UsageError(f"dockyard: invalid size: '{text}'") from None


def update(ctx: Any, argv: list[str]) -> int:
    p = Parser("update", "Update configuration of one or more containers")
    p.add_argument("--restart", default=None)
    p.add_argument("-m", "--memory", default=None)
    p.add_argument("--memory-swap", default=None)
    p.add_argument("--pids-limit", type=int, default=None)
    p.add_argument("-c", "--cpu-shares", type=int, default=None)
    p.add_argument("containers", nargs="+")
    a = p.parse_args(argv)
    body: dict[str, Any] = {}
    if a.restart is not None:
        name, _, count = a.restart.partition(":")
        try:
            body["RestartPolicy"] = {"Name": name, "MaximumRetryCount": int(count) if count else 0}
        except ValueError:
            raise UsageError(f"dockyard: invalid restart policy: '{a.restart}'") from None
    if a.memory is not None:
        body["Memory"] = _memory(a.memory)
    if a.memory_swap is not None:
        body["MemorySwap"] = -1 if a.memory_swap == "-1" else _memory(a.memory_swap)
    if a.pids_limit is not None:
        body["PidsLimit"] = a.pids_limit
    if a.cpu_shares is not None:
        body["CpuShares"] = a.cpu_shares
    if not body:
        raise UsageError("dockyard: you must provide one or more flags when using this command")
    return _each(a.containers, lambda r: _warn(ctx.api.update_container(r, body)))


def _warn(result: dict[str, Any]) -> None:
    for w in result.get("Warnings") or []:
        sys.stderr.write(f"WARNING: {w}\n")


def prune(ctx: Any, argv: list[str]) -> int:
    p = Parser("container prune", "Remove all stopped containers")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--filter", action="append", default=[])
    a = p.parse_args(argv)
    from dockyard.cli.filters import encode_flags
    from dockyard.wire.humanize import human_size

    if not a.force:
        sys.stdout.write("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    result = ctx.api.prune_containers(encode_flags(a.filter))
    deleted = result.get("ContainersDeleted") or []
    if deleted:
        sys.stdout.write("Deleted Containers:\n" + "".join(d + "\n" for d in deleted) + "\n")
    sys.stdout.write(f"Total reclaimed space: {human_size(result.get('SpaceReclaimed') or 0)}\n")
    return 0


# ``dockyard container <sub>``: docker's management-command spelling
SUBCOMMANDS = {
    "ls": ("container", "ps"), "ps": ("container", "ps"), "list": ("container", "ps"),
    "run": ("container", "run"), "create": ("container", "create"), "start": ("container", "start"),
    "logs": ("container", "logs"), "rm": ("container", "rm"), "remove": ("container", "rm"),
    "inspect": ("container", "inspect"), "stop": ("control", "stop"), "kill": ("control", "kill"),
    "restart": ("control", "restart"), "pause": ("control", "pause"), "unpause": ("control", "unpause"),
    "rename": ("control", "rename"), "wait": ("control", "wait"), "top": ("control", "top"),
    "update": ("control", "update"), "prune": ("control", "prune"),
}


def container(ctx: Any, argv: list[str]) -> int:
    if not argv or argv[0] not in SUBCOMMANDS:
        raise UsageError("dockyard: 'container' needs a command: " + ", ".join(sorted(SUBCOMMANDS)))
    import importlib

    module, func = SUBCOMMANDS[argv[0]]
    mod = importlib.import_module(f"dockyard.cli.commands.{module}")
    if argv[0] == "inspect":
        argv = [argv[0], "--type", "container", *argv[1:]]
    return int(getattr(mod, func)(ctx, argv[1:]) or 0)


def stats(ctx: Any, argv: list[str]) -> int:
    """``stats [-a] [--no-stream] [--no-trunc] [CONTAINER...]``: a live table (redrawn each second)."""
    p = Parser("stats", "Display a live stream of container(s) resource usage statistics")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("--no-stream", action="store_true")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("containers", nargs="*")
    a = p.parse_args(argv)
    import threading

    from dockyard.cli.formatter import tabwrite
    from dockyard.cli.statsfmt import HEADER, row

    refs = a.containers or [c["Id"] for c in ctx.api.containers(all=a.all)]
    latest: dict[str, tuple[str, ...]] = {}
    errors: list[str] = []

    def follow(ref: str) -> None:
        try:
            for frame in ctx.api.stats(ref, stream=not a.no_stream):
                latest[ref] = row(frame, no_trunc=a.no_trunc)
        except Exception as exc:  # noqa: BLE001 - shown to the user, as docker's
            errors.append(str(exc))

    threads = [threading.Thread(target=follow, args=(r,), daemon=True) for r in refs]
    for t in threads:
        t.start()

    def render() -> str:
        return tabwrite(["\t".join(HEADER)] + ["\t".join(latest[r]) for r in refs if r in latest])

    if a.no_stream:
        for t in threads:
            t.join()
        if errors:
            sys.stderr.write(f"Error response from daemon: {errors[0]}\n")
            return 1
        sys.stdout.write(render())
        return 0
    import time

    try:
        while any(t.is_alive() for t in threads) or not threads:
            time.sleep(1.0)
            sys.stdout.write("\033[2J\033[H" + render())
            sys.stdout.flush()
    except KeyboardInterrupt:
        return 0
    return 1 if errors else 0
