"""attach, exec, and the interactive session that run/start -a share with them.

A session is docker's hijacked-stream loop: output from the connection to
fds 1/2 on the main thread; our stdin to the connection on a thread (EOF →
half-close, so the daemon can close the process's stdin); with a TTY the
local terminal in raw mode, its size sent now and on SIGWINCH, and the
detach keys spotted on our side too (docker's CLI does both: the daemon
catches them for every client, we stop reading at once).
"""

from __future__ import annotations

import os
import sys

from dockyard.errors import EngineError

from . import UsageError

# signal, threading, socket, argparse and the terminal module load only when a session needs
# them: a plain ``exec C true`` is measured against the docker CLI (bench/exec_bench.py).

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

# Signals `run`/`start -a`/`attach` forward to the container (docker's sig-proxy): every
# catchable one but those about our own terminal and children.
_NOT_PROXIED = {"SIGCHLD", "SIGWINCH", "SIGPIPE", "SIGURG", "SIGKILL", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU",
                "SIGCONT"}


def not_a_tty_error() -> int:
    sys.stderr.write("the input device is not a TTY\n")
    return 1


def session(attached: Any, *, stdin: bool, tty: bool, detach_keys: str = "",
            resize: Callable[[int, int], None] | None = None) -> bool:
    """Run the streams until the daemon ends them; True when the user typed the detach keys."""
    from dockyard.client.streams import copy_to_fds

    detached: list[bool] = []  # set by the stdin thread
    proxy = None
    if tty and stdin:
        from dockyard.wire.detachkeys import DEFAULT, EscapeProxy, parse

        proxy = EscapeProxy(parse(detach_keys or DEFAULT))

    def pump_stdin() -> None:
        while True:
            try:
                raw = os.read(0, 65536)
            except OSError:
                raw = b""
            # The proxy may hold back a read's bytes (the first detach key, typed alone): that
            # is no EOF -- only an empty read is (it used to end the pump, so the second key,
            # read later, went nowhere).
            data = proxy.feed(raw) if proxy is not None and raw else raw
            try:
                if data:
                    attached.sock.sendall(data)
                if proxy is not None and proxy.detached:
                    detached.append(True)
                    attached.sock.shutdown(2)  # SHUT_RDWR: the output loop ends at once
                    return
                if not raw:
                    attached.close_write()
                    return
            except OSError:
                return

    if tty:
        from dockyard.cli.terminal import RawTerminal, watch_size
    with RawTerminal(0) if tty and stdin else _Nothing():
        stop_watch = watch_size(resize) if tty and resize is not None and os.isatty(1) else None
        try:
            if stdin:
                import threading

                threading.Thread(target=pump_stdin, daemon=True, name="stdin").start()
            else:
                attached.close_write()
            try:
                copy_to_fds(attached.output())
            except OSError:
                pass
        finally:
            if stop_watch is not None:
                stop_watch()
    return bool(detached)


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def proxy_signals(kill: Callable[[int], None]) -> Callable[[], None]:
    """Forward every catchable signal to the container; returns the function that stops it."""
    import signal

    previous: dict[int, Any] = {}

    def forward(signum: int, _frame: object) -> None:
        try:
            kill(signum)
        except EngineError:
            pass

    for sig in signal.Signals:
        if sig.name in _NOT_PROXIED:
            continue
        try:
            previous[sig] = signal.signal(sig, forward)
        except (OSError, ValueError):
            continue

    def stop() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return stop


def attach(ctx: Any, argv: list[str]) -> int:
    from . import Parser

    p = Parser("attach", "Attach local standard input, output, and error streams to a running container")
    p.add_argument("--detach-keys", default="")
    p.add_argument("--no-stdin", action="store_true")
    p.add_argument("--sig-proxy", default="true")
    p.add_argument("container")
    args = p.parse_args(argv)
    api = ctx.api
    info = api.inspect_container(args.container)
    cid, cfg, state = info["Id"], info.get("Config") or {}, info.get("State") or {}
    if not state.get("Running"):
        sys.stderr.write("You cannot attach to a stopped container, start it first\n")
        return 1
    if state.get("Paused"):
        sys.stderr.write("You cannot attach to a paused container, unpause it first\n")
        return 1
    tty, stdin = bool(cfg.get("Tty")), bool(cfg.get("OpenStdin")) and not args.no_stdin
    if tty and stdin and not os.isatty(0):
        return not_a_tty_error()
    attached = api.attach(cid, tty=tty, stdin=stdin, detach_keys=args.detach_keys or None)
    waiter = api.wait(cid, "not-running")
    stop = proxy_signals(lambda s: api.kill(cid, str(s))) if args.sig_proxy != "false" and not tty else None
    try:
        detached = session(attached, stdin=stdin, tty=tty, detach_keys=args.detach_keys,
                           resize=lambda h, w: api.resize(cid, h, w))
    finally:
        attached.close()
        if stop is not None:
            stop()
    if detached:
        waiter.close()
        sys.stderr.write("read escape sequence\r\n" if tty else "read escape sequence\n")
        return 1  # docker attach's exit after the detach keys
    return int(waiter.result().get("StatusCode", 0))


class _ExecArgs:
    def __init__(self, values: dict[str, Any], positionals: list[str]) -> None:
        self.__dict__.update(values)
        self.container, self.command = positionals[0], positionals[1:]


_EXEC_FLAGS = None


def _parse_exec(argv: list[str]) -> Any:
    """The common forms by hand (quickflags); argparse for --help and every error."""
    global _EXEC_FLAGS
    from dockyard.cli import quickflags

    if _EXEC_FLAGS is None:
        _EXEC_FLAGS = quickflags.FlagSpec(
            bools={"-d": "detach", "--detach": "detach", "-i": "interactive", "--interactive": "interactive",
                   "--privileged": "privileged", "-t": "tty", "--tty": "tty"},
            values={"--detach-keys": "detach_keys", "-e": "env", "--env": "env", "--env-file": "env_file",
                    "-u": "user", "--user": "user", "-w": "workdir", "--workdir": "workdir"},
            lists=frozenset({"env", "env_file"}))
    quick = quickflags.parse(_EXEC_FLAGS, argv)
    if quick is not None and len(quick[1]) >= 2:
        return _ExecArgs(*quick)
    from . import Parser

    p = Parser("exec", "Execute a command in a running container")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("--detach-keys", default="")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("--env-file", action="append", default=[])
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("--privileged", action="store_true")
    p.add_argument("-t", "--tty", action="store_true")
    p.add_argument("-u", "--user", default="")
    p.add_argument("-w", "--workdir", default="")
    p.add_argument("container")
    p.add_argument("command", nargs="+")  # argparse stops at the first positional after the container
    return p.parse_args(_split_at_command(argv))


def exec_(ctx: Any, argv: list[str]) -> int:
    args = _parse_exec(argv)
    env = _exec_env(args.env_file, args.env) if args.env_file or args.env else []
    if args.tty and args.interactive and not args.detach and not os.isatty(0):
        return not_a_tty_error()
    api = ctx.api
    config = {"User": args.user, "Privileged": args.privileged, "Tty": args.tty,
              "AttachStdin": args.interactive and not args.detach, "AttachStdout": not args.detach,
              "AttachStderr": not args.detach, "Detach": args.detach, "DetachKeys": args.detach_keys,
              "Env": env, "WorkingDir": args.workdir, "Cmd": args.command}
    exec_id = api.exec_create(args.container, config)
    if args.detach:
        api.exec_start(exec_id, tty=args.tty, detach=True)
        return 0
    attached = api.exec_start(exec_id, tty=args.tty)
    try:
        session(attached, stdin=args.interactive, tty=args.tty, detach_keys=args.detach_keys,
                resize=lambda h, w: api.resize(args.container, h, w, exec_id=exec_id))
    finally:
        attached.close()
    code = api.exec_inspect(exec_id).get("ExitCode")
    return int(code) if code is not None else 0


def _exec_env(env_files: list[str], flags: list[str]) -> list[str]:
    from dockyard.cli import specs

    env: list[str] = []
    try:
        for path in env_files:
            try:
                with open(path, encoding="utf-8") as fh:
                    env += specs.parse_env_file(fh.read(), os.environ.get)
            except OSError as exc:
                raise specs.SpecError(f"open {path}: {exc.strerror.lower() if exc.strerror else exc}") from None
        env += specs.env_from_flags(flags, os.environ.get)
    except specs.SpecError as exc:
        raise UsageError(f"dockyard: {exc}") from None
    return env


def _split_at_command(argv: list[str]) -> list[str]:
    """Flags before the container only (docker's SetInterspersed(false)): ``--`` after the container."""
    flags_with_value = {"--detach-keys", "-e", "--env", "--env-file", "-u", "--user", "-w", "--workdir"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv
        if arg.startswith("-") and arg != "-":
            i += 2 if arg in flags_with_value else 1
            continue
        return argv[: i + 1] + ["--"] + argv[i + 1:]
    return argv
