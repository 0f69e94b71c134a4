"""run, create, start, ps, logs, rm, inspect."""

from __future__ import annotations

import os
import sys

from dockyard.errors import EngineError, NotFound, StartFailed

from . import UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from dockyard.cli.flagtable import FlagTable


def Parser(prog: str, description: str = "", **kw: Any) -> Any:
    """``commands.Parser``, imported (argparse, ~7 ms) only when a command builds one."""
    from .parser import Parser as _Parser

    return _Parser(prog, description, **kw)


def _flag_table(prog: str, description: str, **kw: Any) -> FlagTable:
    """Flags declared once; run/create/ps parse their common forms without argparse (cli/flagtable.py)."""
    from dockyard.cli.flagtable import FlagTable

    return FlagTable(lambda: Parser(prog, description, **kw))


def _add_create_flags(p: Any) -> None:  # a FlagTable (argparse's add_argument, recorded)
    p.add_argument("--name", default=None)
    p.add_argument("--rm", action="store_true", dest="auto_remove")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("--env-file", action="append", default=[])
    p.add_argument("-w", "--workdir", default=None)
    p.add_argument("-u", "--user", default=None)
    p.add_argument("--entrypoint", default=None)
    p.add_argument("-h", "--hostname", default=None)
    p.add_argument("-l", "--label", action="append", default=[])
    p.add_argument("-t", "--tty", action="store_true")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("-a", "--attach", action="append", default=[])
    p.add_argument("--init", action="store_const", const=True, default=None)
    p.add_argument("--sig-proxy", default="true")
    p.add_argument("--detach-keys", default="")
    p.add_argument("--cap-add", action="append", default=[])
    p.add_argument("--cap-drop", action="append", default=[])
    p.add_argument("--privileged", action="store_true")
    p.add_argument("--userns", default="")
    p.add_argument("--read-only", action="store_true")
    p.add_argument("--security-opt", action="append", default=[])
    p.add_argument("--sysctl", action="append", default=[])
    from dockyard.cli import netspecs

    netspecs.add_flags(p)
    from dockyard.cli import mountspecs

    mountspecs.add_flags(p)
    from dockyard.cli import resourcespecs

    resourcespecs.add_flags(p)
    p.add_argument("--pull", default="missing")
    p.add_argument("--platform", default=os.environ.get("DOCKER_DEFAULT_PLATFORM", ""))
    p.add_argument("image")
    from dockyard.cli.flagtable import REMAINDER

    p.add_argument("command", nargs=REMAINDER)


def _create(ctx: Any, args: argparse.Namespace, *, detach: bool, command: str) -> tuple[str, int]:
    """Create the container; on failure print docker's run/create error. → (id, rc)."""
    from dockyard.cli import specs

    try:
        env_texts = []
        for path in args.env_file:
            try:
                with open(path, encoding="utf-8") as fh:
                    env_texts.append(fh.read())
            except OSError as exc:
                raise specs.SpecError(f"open {path}: {exc.strerror.lower() if exc.strerror else exc}") from None
        security_opt, unconfined_paths = specs.security_opts(args.security_opt, _read_text)
        opts = specs.RunOptions(
            image=args.image, command=args.command, env=args.env, env_file_texts=env_texts,
            workdir=args.workdir, user=args.user, entrypoint=args.entrypoint, hostname=args.hostname,
            labels=args.label, auto_remove=args.auto_remove, detach=detach, tty=args.tty,
            interactive=args.interactive, attach=args.attach, init=args.init, cap_add=args.cap_add, cap_drop=args.cap_drop,
            privileged=args.privileged, read_only=args.read_only, security_opt=security_opt,
            systempaths_unconfined=unconfined_paths, sysctl=args.sysctl, userns=args.userns,
        )
        body = specs.create_body(opts, os.environ)
        from dockyard.cli import netspecs

        netspecs.apply(body, netspecs.from_args(args))
        from dockyard.cli import mountspecs

        mountspecs.apply_args(body, args)
        from dockyard.cli import resourcespecs

        resourcespecs.apply_args(body, args)
    except (specs.SpecError, ValueError) as exc:
        return "", _run_error(str(exc), command, 125, daemon=False)
    policy = args.pull
    if policy not in ("missing", "always", "never"):
        return "", _run_error(f"invalid pull option: '{policy}': must be one of \"always\", \"missing\" or "
                              "\"never\"", command, 125, daemon=False)
    try:
        if policy == "always":
            _pull_for_run(ctx, args.image, args.platform)
        try:
            created = ctx.api.create_container(body, args.name)
        except NotFound as exc:
            sys.stderr.write(f"Unable to find image '{specs.normalize_image_name(args.image)}' locally\n")
            if policy != "missing":
                return "", _run_error(str(exc), command, 125)
            _pull_for_run(ctx, args.image, args.platform)
            created = ctx.api.create_container(body, args.name)
    except EngineError as exc:
        return "", _run_error(str(exc), command, 125, daemon=_from_daemon(exc))
    for warning in created.get("Warnings") or []:
        sys.stderr.write(f"WARNING: {warning}\n")
    return created["Id"], 0


def _pull_for_run(ctx: Any, image: str, platform: str) -> None:
    """``--pull``: pull with progress on stderr, as ``docker run`` does."""
    from dockyard.cli.commands.image_registry import pull_image

    pull_image(ctx, image, platform=platform, out=sys.stderr)


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _from_daemon(exc: BaseException) -> bool:
    from dockyard.client.errors import is_from_daemon

    return is_from_daemon(exc)


def _run_error(message: str, command: str, code: int, *, daemon: bool = True, period: bool = False) -> int:
    prefix = "Error response from daemon: " if daemon else ""
    dot = "." if period else ""
    sys.stderr.write(f"dockyard: {prefix}{message}{dot}\n\nRun 'dockyard {command} --help' for more information\n")
    return code


def _start_failed(exc: EngineError, command: str) -> int:
    if isinstance(exc, StartFailed):
        return _run_error(str(exc), command, exc.exit_code, period=True)
    return _run_error(str(exc), command, 125, daemon=_from_daemon(exc))


def _attach_start_wait(ctx: Any, cid: str, *, auto_remove: bool, command: str, tty: bool = False,
                       stdin: bool = False, stdout: bool = True, stderr: bool = True, sig_proxy: bool = True,
                       detach_keys: str = "") -> int:
    """docker's run flow: attach → wait (registered) → start → streams → exit code."""
    api = ctx.api
    attached = api.attach(cid, tty=tty, stdout=stdout, stderr=stderr, stream=True, stdin=stdin,
                          detach_keys=detach_keys or None)
    stop_proxy = None
    try:
        waiter = api.wait(cid, "removed" if auto_remove else "next-exit")
        try:
            api.start(cid)
        except EngineError as exc:
            waiter.close()
            return _start_failed(exc, command)
        if not stdin and not tty:
            attached.close_write()  # no stdin: tell the daemon at once, as docker does
            from dockyard.client.streams import copy_to_fds

            if sig_proxy:
                from dockyard.cli.commands.interactive import proxy_signals

                stop_proxy = proxy_signals(lambda s: api.kill(cid, str(s)))
            copy_to_fds(attached.output())
        else:
            from dockyard.cli.commands.interactive import proxy_signals, session

            if sig_proxy and not tty:
                stop_proxy = proxy_signals(lambda s: api.kill(cid, str(s)))
            if session(attached, stdin=stdin, tty=tty, detach_keys=detach_keys,
                       resize=lambda h, w: api.resize(cid, h, w)):
                waiter.close()
                return 0  # detached: the container runs on
    finally:
        attached.close()
        if stop_proxy is not None:
            stop_proxy()
    result = waiter.result()
    error = result.get("Error")
    if error and error.get("Message"):
        sys.stderr.write(f"dockyard: Error response from daemon: {error['Message']}\n")
        return 125
    return int(result.get("StatusCode", 0))


def _run_flags() -> FlagTable:
    p = _flag_table("run", "Create and run a new container from an image", hostname_flag=True)
    p.add_argument("-d", "--detach", action="store_true")
    _add_create_flags(p)
    return p


def run(ctx: Any, argv: list[str]) -> int:
    args = _run_flags().parse(argv)
    if args.tty and args.interactive and not args.detach and not os.isatty(0):
        from dockyard.cli.commands.interactive import not_a_tty_error

        return not_a_tty_error()
    cid, rc = _create(ctx, args, detach=args.detach, command="run")
    if rc:
        return rc
    if args.detach:
        try:
            ctx.api.start(cid)
        except EngineError as exc:
            return _start_failed(exc, "run")
        print(cid)
        return 0
    streams = {s.lower() for s in args.attach} or {"stdout", "stderr", *(("stdin",) if args.interactive else ())}
    return _attach_start_wait(ctx, cid, auto_remove=args.auto_remove, command="run", tty=args.tty,
                              stdin="stdin" in streams, stdout="stdout" in streams, stderr="stderr" in streams,
                              sig_proxy=args.sig_proxy != "false", detach_keys=args.detach_keys)


def _create_flags() -> FlagTable:
    p = _flag_table("create", "Create a new container", hostname_flag=True)
    _add_create_flags(p)
    return p


def create(ctx: Any, argv: list[str]) -> int:
    args = _create_flags().parse(argv)
    cid, rc = _create(ctx, args, detach=True, command="create")
    if not rc:
        print(cid)
    return rc


def start(ctx: Any, argv: list[str]) -> int:
    p = Parser("start", "Start one or more stopped containers")
    p.add_argument("-a", "--attach", action="store_true")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("--detach-keys", default="")
    p.add_argument("containers", nargs="+")
    args = p.parse_args(argv)
    if args.attach:
        if len(args.containers) > 1:
            raise UsageError("dockyard: you cannot start and attach multiple containers at once")
        info = ctx.api.inspect_container(args.containers[0])
        auto_remove = bool((info.get("HostConfig") or {}).get("AutoRemove"))
        cfg = info.get("Config") or {}
        tty, stdin = bool(cfg.get("Tty")), bool(args.interactive and cfg.get("OpenStdin"))
        if tty and stdin and not os.isatty(0):
            from dockyard.cli.commands.interactive import not_a_tty_error

            return not_a_tty_error()
        return _attach_start_wait(ctx, info["Id"], auto_remove=auto_remove, command="start", tty=tty,
                                  stdin=stdin, detach_keys=args.detach_keys)
    failed = []
    for ref in args.containers:
        try:
            ctx.api.start(ref)
        except EngineError as exc:
            failed.append(_error_line(exc))
            continue
        print(ref)
    return _report(failed)


def _error_line(exc: EngineError) -> str:
    from dockyard.cli.main import error_text

    return error_text(exc)


def _report(failed: list[str]) -> int:
    if failed:
        sys.stderr.write("\n".join(failed) + "\n")
        return 1
    return 0


def _ps_flags() -> FlagTable:
    p = _flag_table("ps", "List containers")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-n", "--last", type=int, default=-1)
    p.add_argument("-l", "--latest", action="store_true")
    p.add_argument("-f", "--filter", action="append", default=[])
    p.add_argument("--format", default=None)
    p.add_argument("-s", "--size", action="store_true")
    return p


def ps(ctx: Any, argv: list[str]) -> int:
    args = _ps_flags().parse(argv)
    limit = 1 if args.latest else args.last
    filters = None
    if args.filter:
        from dockyard.cli.filters import encode_flags

        filters = encode_flags(args.filter)
    size = args.size or bool(args.format and ".Size" in args.format)
    containers = ctx.api.containers(all=args.all or limit > 0, limit=limit if limit > 0 else None,
                                    filters=filters, size=size)
    if args.quiet:
        out = "".join((c["Id"] if args.no_trunc else c["Id"][:12]) + "\n" for c in containers)
    elif args.format or args.size:
        from dockyard.cli.formatter import PS_DEFAULT, format_ps

        from dockyard.cli.gotemplate import TemplateError

        fmt = args.format or PS_DEFAULT + "\t{{.Size}}"
        try:
            out = format_ps(fmt, containers, trunc=not args.no_trunc)
        except TemplateError as exc:
            raise UsageError(f"dockyard: {exc}") from None
    else:
        import time

        from dockyard.cli.render import ps_table

        out = ps_table(containers, time.time(), trunc=not args.no_trunc)
    sys.stdout.write(out)
    return 0


def logs(ctx: Any, argv: list[str]) -> int:
    p = Parser("logs", "Fetch the logs of a container")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.add_argument("-n", "--tail", default="all")
    p.add_argument("container")
    args = p.parse_args(argv)
    from dockyard.client.streams import copy_to_fds

    info = ctx.api.inspect_container(args.container)
    tty = bool((info.get("Config") or {}).get("Tty"))
    copy_to_fds(ctx.api.logs(info["Id"], tty=tty, follow=args.follow, tail=args.tail, timestamps=args.timestamps))
    return 0


def rm(ctx: Any, argv: list[str]) -> int:
    p = Parser("rm", "Remove one or more containers")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("-v", "--volumes", action="store_true")
    p.add_argument("containers", nargs="+")
    args = p.parse_args(argv)
    failed = []
    for ref in args.containers:
        try:
            ctx.api.remove_container(ref, force=args.force, volumes=args.volumes)
        except NotFound as exc:
            if not args.force:  # docker: rm -f ignores missing containers
                failed.append(_error_line(exc))
            continue
        except EngineError as exc:
            failed.append(_error_line(exc))
            continue
        print(ref)
    return _report(failed)


def inspect(ctx: Any, argv: list[str]) -> int:
    p = Parser("inspect", "Return low-level information on Docker objects")
    p.add_argument("--type", choices=("container", "image"), default=None)
    p.add_argument("-f", "--format", default=None)
    p.add_argument("-s", "--size", action="store_true")
    p.add_argument("names", nargs="+")
    args = p.parse_args(argv)
    import json

    found: list[Any] = []
    missing: list[str] = []
    for name in args.names:
        obj = None
        for kind in ("container", "image"):
            if args.type not in (None, kind):
                continue
            try:
                obj = (ctx.api.inspect_container(name, size=args.size) if kind == "container"
                       else ctx.api.inspect_image(name))
                break
            except NotFound:
                continue
        if obj is None:
            missing.append(name)
        else:
            found.append(obj)
    if args.format and args.format != "json":
        from dockyard.cli.gotemplate import Template, TemplateError

        try:
            tpl = Template(args.format.replace("\\n", "\n").replace("\\t", "\t"))
            sys.stdout.write("".join(tpl.render(obj) + "\n" for obj in found))
        except TemplateError as exc:
            raise UsageError(f"dockyard: {exc}") from None
    else:
        sys.stdout.write(json.dumps(found, indent=4, ensure_ascii=False) + "\n")
    for name in missing:
        sys.stderr.write(f"Error: No such object: {name}\n")
    return 1 if missing else 0
