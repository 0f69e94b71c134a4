"""One function per ``dockyard compose`` subcommand: ``verb_(api, project, args) -> exit code``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from typing import Any

from dockyard.client.api import APIClient
from dockyard.errors import InvalidArgument, NotFound

from .executor import Executor
from .loader import Project
from .planner import dependency_order, with_restart_dependents
from .secrets import copy_in, plan as secrets_plan
from .translate import NUMBER, SERVICE, config_hash, create_body

_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


def config(project: Project, args: argparse.Namespace) -> int:
    import yaml

    if args.quiet:
        return 0
    if args.list_services:
        print("\n".join(project.services))
        return 0
    if args.volumes:
        print("\n".join(project.model.get("volumes") or {}))
        return 0
    if args.hash:
        names = list(project.services) if args.hash == "*" else args.hash.split(",")
        for n in names:
            print(f"{n} {config_hash(project.services[n])}")
        return 0
    if args.format == "json":
        print(json.dumps(project.model, indent=2))
    else:
        sys.stdout.write(yaml.safe_dump(project.model, sort_keys=False, default_flow_style=False))
    return 0


def _scale(args: argparse.Namespace) -> dict[str, int]:
    out = {}
    for s in args.scale:
        name, _, n = s.partition("=")
        if not n.isdigit():
            raise InvalidArgument(f"invalid --scale {s!r}: want SERVICE=NUM")
        out[name] = int(n)
    return out


def up_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    from .waitall import check_timeout

    wait_timeout = check_timeout(getattr(args, "wait_timeout", 0))
    ex = Executor(api, project, parallel=getattr(args, "parallel_limit", None))
    ex.up(args.services or None, no_deps=args.no_deps, build=args.build and not args.no_build,
          force_recreate=args.force_recreate, no_recreate=args.no_recreate, scale=_scale(args),
          remove_orphans=args.remove_orphans, no_start=args.no_start, wait=args.wait, timeout=args.timeout,
          pull=args.pull, wait_timeout=wait_timeout)
    if args.detach or args.no_start or args.wait:  # --wait implies detached mode
        return 0
    rows = ex.containers(services=args.services or None)
    try:
        return _stream_logs(api, rows, follow=True)
    except KeyboardInterrupt:
        # Attached `up`: Ctrl-C stops the project, as Docker Compose does.
        sys.stderr.write("Gracefully stopping... (press Ctrl+C again to force)\n")
        for c in reversed(rows):
            ex.out(f" Container {_name(c)}  Stopping")
            api.stop(c["Id"], timeout=args.timeout)
            ex.out(f" Container {_name(c)}  Stopped")
        return 130


def down_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    Executor(api, project, parallel=getattr(args, "parallel_limit", None)).down(
        volumes=args.volumes, remove_orphans=args.remove_orphans, rmi=args.rmi, timeout=args.timeout)
    return 0


def _name(c: dict[str, Any]) -> str:
    return str(c["Names"][0]).lstrip("/")


def _ports(c: dict[str, Any]) -> str:
    parts = []
    for p in c.get("Ports") or []:
        if p.get("PublicPort"):
            ip = p.get("IP") or "0.0.0.0"
            parts.append(f"{ip}:{p['PublicPort']}->{p['PrivatePort']}/{p.get('Type', 'tcp')}")
        else:
            parts.append(f"{p['PrivatePort']}/{p.get('Type', 'tcp')}")
    return ", ".join(sorted(set(parts)))


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("   ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def ps_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    rows = Executor(api, project).containers(all=args.all, services=args.services or None)
    if args.list_services:
        seen: list[str] = []
        for c in rows:
            s = c["Labels"].get(SERVICE, "")
            if s not in seen:
                seen.append(s)
        print("\n".join(seen) if seen else "", end="\n" if seen else "")
        return 0
    if args.quiet:
        for c in rows:
            print(c["Id"])
        return 0
    if args.format == "json":
        print(json.dumps([{"ID": c["Id"], "Name": _name(c), "Image": c.get("Image"), "Command": c.get("Command"),
                           "Project": project.name, "Service": c["Labels"].get(SERVICE), "State": c.get("State"),
                           "Status": c.get("Status"), "Publishers": c.get("Ports") or []} for c in rows]))
        return 0
    table = [["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"]]
    import time

    from dockyard.wire.humanize import human_duration

    for c in rows:
        cmd = str(c.get("Command") or "")
        table.append([_name(c), str(c.get("Image", "")), f'"{cmd[:20]}…"' if len(cmd) > 20 else f'"{cmd}"',
                      c["Labels"].get(SERVICE, ""), human_duration(time.time() - int(c.get("Created", 0))) + " ago", str(c.get("Status", "")),
                      _ports(c)])
    _table(table)
    return 0


def _stream_logs(api: APIClient, rows: list[dict[str, Any]], *, follow: bool, tail: str = "all",
                 timestamps: bool = False, colour: bool | None = None, prefix: bool = True) -> int:
    if not rows:
        return 0
    colour = sys.stdout.isatty() if colour is None else colour
    width = max(len(_name(c)) for c in rows)
    lock = threading.Lock()

    def pump(i: int, c: dict[str, Any]) -> None:
        label = _name(c).ljust(width) + "  | " if prefix else ""
        if colour and prefix:
            label = f"\x1b[{_COLOURS[i % len(_COLOURS)]}m{label}\x1b[0m"
        tty = bool(api.inspect_container(c["Id"])["Config"].get("Tty"))
        pending = b""
        try:
            for _, data in api.logs(c["Id"], tty=tty, follow=follow, tail=tail, timestamps=timestamps):
                pending += data
                *lines, pending = pending.split(b"\n")
                if lines:
                    with lock:
                        for line in lines:
                            sys.stdout.write(label + line.decode(errors="replace") + "\n")
                        sys.stdout.flush()
        except (NotFound, OSError):
            pass
        if pending:
            with lock:
                sys.stdout.write(label + pending.decode(errors="replace") + "\n")
                sys.stdout.flush()

    threads = [threading.Thread(target=pump, args=(i, c), daemon=True) for i, c in enumerate(rows)]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
    return 0


def logs_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    rows = Executor(api, project).containers(services=args.services or None)
    return _stream_logs(api, rows, follow=args.follow, tail=args.tail, timestamps=args.timestamps,
                        colour=False if args.no_color else None, prefix=not args.no_log_prefix)


def start_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    ex = Executor(api, project)
    for s in dependency_order(project.services, args.services or None):
        ex.wait_dependencies(s, [s2 for s2 in project.services])
        for c in ex.containers(services=[s]):
            if c.get("State") != "running":
                ex.start(c["Id"], _name(c))
    return 0


def stop_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    ex = Executor(api, project)
    for s in reversed(dependency_order(project.services, args.services or None, with_deps=False)):
        for c in ex.containers(services=[s], all=False):
            ex.out(f" Container {_name(c)}  Stopping")
            api.stop(c["Id"], timeout=args.timeout)
            ex.out(f" Container {_name(c)}  Stopped")
    return 0


def restart_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    ex = Executor(api, project)
    # Dependents declared with `depends_on: {x: {restart: true}}` restart with x.
    wanted = with_restart_dependents(project.services, args.services) if args.services else None
    for s in dependency_order(project.services, wanted, with_deps=False):
        for c in ex.containers(services=[s]):
            ex.out(f" Container {_name(c)}  Restarting")
            api.restart(c["Id"], timeout=args.timeout)
            ex.out(f" Container {_name(c)}  Started")
    return 0


def pull_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    from .build import pull_image

    ex = Executor(api, project)
    for s in args.services or project.services:
        svc = project.services[s]
        if "image" in svc:
            pull_image(api, svc["image"], ex.out)
    return 0


def push_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    from .build import push_image

    ex = Executor(api, project)
    for s in args.services or project.services:
        svc = project.services[s]
        if "image" in svc and "build" in svc:
            push_image(api, svc["image"], ex.out)
    return 0


def build_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    from .build import build_service

    ex = Executor(api, project)
    for s in args.services or project.services:
        svc = project.services[s]
        if "build" in svc:
            if args.no_cache:
                svc["build"]["no_cache"] = True
            build_service(api, project, s, ex.out)
    return 0


def images_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    from dockyard.wire.humanize import human_size as human

    rows = Executor(api, project).containers(services=args.services or None)
    table = [["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"]]
    for c in rows:
        img = api.inspect_image(c["ImageID"])
        if args.quiet:
            print(img["Id"])
            continue
        repo, _, tag = str(c.get("Image", "")).rpartition(":") if ":" in str(c.get("Image", "")).rsplit("/", 1)[-1] \
            else (str(c.get("Image", "")), "", "latest")
        table.append([_name(c), repo, tag, img["Id"].split(":")[-1][:12], human(int(img.get("Size", 0)))])
    if not args.quiet:
        _table(table)
    return 0


def top_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    for c in Executor(api, project).containers(services=args.services or None, all=False):
        top = api.top(c["Id"])
        print(_name(c))
        _table([list(top["Titles"])] + [list(map(str, p)) for p in top["Processes"]])
        print()
    return 0


def _find(ex: Executor, service: str, index: int = 1) -> dict[str, Any]:
    for c in ex.containers(services=[service], all=False):
        if c["Labels"].get(NUMBER) == str(index):
            return c
    raise NotFound(f"service \"{service}\" is not running")


def exec_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    from dockyard.cli.commands.interactive import exec_ as cli_exec

    from .command import _Ctx

    c = _find(Executor(api, project), args.service, args.index)
    tty = not args.no_tty and os.isatty(0)
    flags = (["-d"] if args.detach else []) + (["-i", "-t"] if tty else (["-i"] if not args.detach else []))
    for e in args.env:
        flags += ["-e", e]
    if args.user:
        flags += ["-u", args.user]
    if args.workdir:
        flags += ["-w", args.workdir]
    if not args.command:
        raise InvalidArgument("exec requires a command")
    return cli_exec(_Ctx(api), [*flags, c["Id"], *args.command])


def run_(api: APIClient, project: Project, args: argparse.Namespace) -> int:
    import secrets

    from dockyard.cli.commands.interactive import session

    ex = Executor(api, project)
    if not args.no_deps:
        deps = [d for d in dependency_order(project.services, [args.service]) if d != args.service]
        if deps:
            ex.up(deps)
    ex.ensure_images([args.service])
    ex.ensure_networks([args.service])
    ex.ensure_volumes([args.service])
    body = create_body(project.model, args.service, 1, working_dir=project.working_dir,
                       config_files=",".join(project.config_files), oneoff=True)
    if not args.service_ports:
        body["HostConfig"]["PortBindings"] = {}
    if args.command:
        body["Cmd"] = args.command
    if args.entrypoint is not None:
        import shlex

        body["Entrypoint"] = shlex.split(args.entrypoint)
    body["Env"] = list(body.get("Env") or []) + list(args.env)
    if args.user:
        body["User"] = args.user
    if args.workdir:
        body["WorkingDir"] = args.workdir
    tty = not args.no_tty and os.isatty(0) and not args.detach
    body.update({"Tty": tty, "OpenStdin": not args.detach, "StdinOnce": not args.detach,
                 "AttachStdin": not args.detach, "AttachStdout": not args.detach, "AttachStderr": not args.detach})
    if args.rm:
        body["HostConfig"]["AutoRemove"] = False  # removed below, after the exit code is read
    name = args.name or f"{project.name}-{args.service}-run-{secrets.token_hex(6)}"
    cid = str(api.create_container(body, name=name)["Id"])
    try:
        copy_in(api, cid, secrets_plan(project.model, args.service, project.env)[1])
        if args.detach:
            api.start(cid)
            print(name)
            return 0
        attached = api.attach(cid, tty=tty, stdin=True)
        waiter = api.wait(cid, condition="next-exit")
        api.start(cid)
        try:
            session(attached, stdin=True, tty=tty)
        finally:
            attached.close()
        return int(waiter.result().get("StatusCode", 0))
    finally:
        if args.rm and not args.detach:
            api.remove_container(cid, force=True)
