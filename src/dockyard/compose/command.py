"""The ``dockyard compose`` process: flags → loader → executor (exec'd by ``cli/commands/compose.py``)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from dockyard.errors import EngineError

USAGE_COMMANDS = ("build", "config", "down", "exec", "images", "logs", "ps", "pull", "push", "restart", "run",
                  "start", "stop", "top", "up")


class _Ctx:
    """What the CLI's command functions need (``exec`` reuses the CLI's session)."""

    def __init__(self, api: Any) -> None:
        self.api = api


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dockyard compose", description="Define and run multi-container applications")
    p.add_argument("-H", "--host", default=os.environ.get("DOCKYARD_HOST") or "unix:///run/dockyard/dockyard.sock")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--tlsverify", action="store_true")
    p.add_argument("--tlscacert", default="")
    p.add_argument("--tlscert", default="")
    p.add_argument("--tlskey", default="")
    p.add_argument("-f", "--file", action="append", default=[])
    p.add_argument("-p", "--project-name")
    p.add_argument("--project-directory")
    p.add_argument("--env-file", action="append", default=[])
    p.add_argument("--profile", action="append", default=None)
    p.add_argument("--ansi", default="auto")
    # Docker Compose's default is -1 (unlimited); None here tells "not given" so COMPOSE_PARALLEL_LIMIT can apply.
    p.add_argument("--parallel", type=int, default=None, help="Control max parallelism, -1 for unlimited")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    up = sub.add_parser("up")
    up.add_argument("-d", "--detach", action="store_true")
    up.add_argument("--build", action="store_true")
    up.add_argument("--no-build", action="store_true")
    up.add_argument("--force-recreate", action="store_true")
    up.add_argument("--no-recreate", action="store_true")
    up.add_argument("--no-deps", action="store_true")
    up.add_argument("--no-start", action="store_true")
    up.add_argument("--wait", action="store_true")
    up.add_argument("--wait-timeout", type=int, default=0)
    # Same as the top-level --parallel (Docker Compose v2 only has that one); the top-level flag wins.
    up.add_argument("--parallel", dest="up_parallel", type=int, default=None)
    up.add_argument("--remove-orphans", action="store_true")
    up.add_argument("--scale", action="append", default=[])
    up.add_argument("--pull", default="missing")
    up.add_argument("-t", "--timeout", type=int)
    up.add_argument("services", nargs="*")
    down = sub.add_parser("down")
    down.add_argument("-v", "--volumes", action="store_true")
    down.add_argument("--remove-orphans", action="store_true")
    down.add_argument("--rmi", default="", choices=["", "all", "local"])
    down.add_argument("-t", "--timeout", type=int)
    ps = sub.add_parser("ps")
    ps.add_argument("-a", "--all", action="store_true")
    ps.add_argument("-q", "--quiet", action="store_true")
    ps.add_argument("--services", dest="list_services", action="store_true")
    ps.add_argument("--format", default="table")
    ps.add_argument("services", nargs="*")
    cfg = sub.add_parser("config")
    cfg.add_argument("-q", "--quiet", action="store_true")
    cfg.add_argument("--services", dest="list_services", action="store_true")
    cfg.add_argument("--volumes", action="store_true")
    cfg.add_argument("--format", default="yaml")
    cfg.add_argument("--hash", default=None)
    logs = sub.add_parser("logs")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-t", "--timestamps", action="store_true")
    logs.add_argument("--tail", default="all")
    logs.add_argument("--no-color", action="store_true")
    logs.add_argument("--no-log-prefix", action="store_true")
    logs.add_argument("services", nargs="*")
    for verb in ("start", "stop", "restart", "pull", "push", "images", "top"):
        sp = sub.add_parser(verb)
        if verb in ("stop", "restart"):
            sp.add_argument("-t", "--timeout", type=int)
        if verb == "images":
            sp.add_argument("-q", "--quiet", action="store_true")
        sp.add_argument("services", nargs="*")
    b = sub.add_parser("build")
    b.add_argument("--no-cache", action="store_true")
    b.add_argument("-q", "--quiet", action="store_true")
    b.add_argument("services", nargs="*")
    ex = sub.add_parser("exec")
    _exec_flags(ex)
    ex.add_argument("--index", type=int, default=1)
    run = sub.add_parser("run")
    _exec_flags(run)
    run.add_argument("--rm", action="store_true")
    run.add_argument("--name")
    run.add_argument("--entrypoint")
    run.add_argument("--no-deps", action="store_true")
    run.add_argument("--service-ports", action="store_true")
    return p


def _exec_flags(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("-d", "--detach", action="store_true")
    sp.add_argument("-T", "--no-TTY", dest="no_tty", action="store_true")
    sp.add_argument("-e", "--env", action="append", default=[])
    sp.add_argument("-u", "--user", default="")
    sp.add_argument("-w", "--workdir", default="")
    sp.add_argument("service")
    sp.add_argument("command", nargs=argparse.REMAINDER)


def _warn(msg: str) -> None:
    sys.stderr.write(f"WARN[0000] {msg}\n")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not args.cmd:
        _parser().print_help()
        return 0
    try:
        return run(args)
    except EngineError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def client_tls(args: argparse.Namespace) -> Any:
    """TLS for a tcp:// host, as the launching CLI resolved it (flags) or from DOCKYARD_TLS_VERIFY & co."""
    if not args.host.startswith("tcp://"):
        return None
    from dockyard.client.tls import resolve

    flags = {k: v for k, v in (("--tlscacert", args.tlscacert), ("--tlscert", args.tlscert),
                               ("--tlskey", args.tlskey)) if v}
    if args.tls:
        flags["--tls"] = "true"
    if args.tlsverify:
        flags["--tlsverify"] = "true"
    return resolve(flags, os.environ)


def run(args: argparse.Namespace) -> int:
    from . import verbs
    from .loader import load
    from .scheduler import parallel_limit

    flag = args.parallel if args.parallel is not None else getattr(args, "up_parallel", None)
    args.parallel_limit = parallel_limit(flag, os.environ)

    wanted = list(getattr(args, "services", None) or [])
    if getattr(args, "service", None):
        wanted.append(args.service)
    stdin_text = sys.stdin.read() if "-" in args.file else None
    project = load(args.file, cwd=os.getcwd(), project_name=args.project_name, project_dir=args.project_directory,
                   env_files=args.env_file, profiles=args.profile if args.profile is not None else (),
                   wanted=wanted, warn=_warn, stdin_text=stdin_text)
    if args.cmd == "config":
        return verbs.config(project, args)
    from .hostkeys import unsupported

    for msg in unsupported(project.model):
        _warn(msg)
    from dockyard.client.api import APIClient

    api = APIClient(args.host, tls=client_tls(args))
    try:
        return int(getattr(verbs, args.cmd.replace("-", "_") + "_")(api, project, args) or 0)
    finally:
        api.close()
