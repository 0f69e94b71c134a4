"""``daemon stop|status`` and starting ``dockyardd`` on demand.

Auto-start (only for the default host): when the socket does not answer,
spawn ``dockyardd`` detached (new session, output to its log file) and poll
``/_ping`` until it answers or ~10 s pass.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable

from dockyard.errors import DaemonUnreachable

from . import Parser

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Plain strings, not pathlib: this module loads on every command (auto-start)
# and pathlib costs ~3 ms of start-up.
PID_FILE = "/run/dockyard/dockyardd.pid"
LOG_FILE = "/var/lib/dockyard/dockyardd.log"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0


def find_daemon_binary() -> str | None:
    beside = os.path.join(os.path.dirname(sys.executable), "dockyardd")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    import shutil  # lazily: only daemon start-up needs it

    return shutil.which("dockyardd")


def _answers(host: str) -> bool:
    from dockyard.client.api import APIClient

    client = APIClient(host)
    try:
        return client.ping()
    except Exception:
        return False
    finally:
        client.close()


def start_daemon(host: str, *, binary: str | None = None, log_file: str = LOG_FILE, timeout: float = START_TIMEOUT) -> None:
    """Spawn dockyardd in the background and wait until it answers."""
    import subprocess

    exe = binary or find_daemon_binary()
    if exe is None:
        raise DaemonUnreachable(
            f"Cannot connect to the Dockyard daemon at {host} and dockyardd was not found to start it"
        )
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [exe], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True, close_fds=True,  # setsid: survives this CLI
        )
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        if _answers(host):
            return
        if proc.poll() is not None:
            raise DaemonUnreachable(f"dockyardd exited with status {proc.returncode}; see {log_file}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    raise DaemonUnreachable(f"dockyardd did not answer on {host} within {timeout:.0f}s; see {log_file}")


def autostart_hook(host: str) -> Callable[[], bool]:
    def hook() -> bool:
        start_daemon(host)
        return True

    return hook


def read_pid(pid_file: str = PID_FILE) -> int | None:
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_daemon(pid_file: str = PID_FILE, timeout: float = STOP_TIMEOUT) -> str:
    pid = read_pid(pid_file)
    if pid is None:
        return "dockyardd is not running"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return f"dockyardd (pid {pid}) stopped"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    while _alive(pid) and time.monotonic() < deadline + 5:
        time.sleep(0.05)
    return f"dockyardd (pid {pid}) did not stop within {timeout:.0f}s: killed"


def daemon(ctx: Any, argv: list[str]) -> int:
    p = Parser("daemon", "Manage the dockyardd daemon")
    p.add_argument("action", choices=("stop", "status"))
    args = p.parse_args(argv)
    if args.action == "stop":
        print(stop_daemon())
        return 0
    pid = read_pid()
    if _answers(ctx.host):
        print(f"dockyardd is running (pid {pid if pid else 'unknown'}) on {ctx.host}")
        return 0
    print(f"dockyardd is not running on {ctx.host}" + (f" (pid {pid} exists but does not answer)" if pid else ""))
    return 1
