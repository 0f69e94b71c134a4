"""Interactive containers through real terminals (pexpect): our CLI and the docker CLI, same sessions."""

from __future__ import annotations

import os
import sys
import time

import pexpect
import pytest

from .conftest import ENV, Daemon

pytestmark = pytest.mark.root
T = 15  # seconds any single expectation may take


def _spawn(daemon: Daemon, client: str, *args: str, rows: int = 24, cols: int = 80) -> pexpect.spawn:
    if client == "dockyard":
        cmd, argv, env = sys.executable, ["-m", "dockyard.cli", "-H", daemon.host, *args], ENV
    else:
        env = {k: v for k, v in ENV.items() if not k.startswith("DOCKER_")}
        env["DOCKER_CONFIG"] = str(daemon.data_root / "docker-config")
        cmd, argv = "docker", ["-H", daemon.host, *args]
    child = pexpect.spawn(cmd, argv, env={**env, "TERM": "xterm"}, timeout=T, dimensions=(rows, cols))
    return child


def _wait_raw(child: pexpect.spawn) -> None:
    """Wait until the client has put its terminal in raw mode, as a person waits for the
    session to open before typing: control keys typed ahead into a cooked terminal
    are the tty driver's (Ctrl-Q is XON, eaten by IXON), for any client."""
    import termios

    deadline = time.monotonic() + T
    while termios.tcgetattr(child.child_fd)[3] & termios.ICANON:
        assert time.monotonic() < deadline, "the client never entered raw mode"
        time.sleep(0.01)


def _close(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF, timeout=T)
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)


CLIENTS = ["dockyard", "docker"]


@pytest.mark.parametrize("client", CLIENTS)
def test_shell_session_resize_ctrl_c_and_exit_code(daemon: Daemon, client: str) -> None:
    child = _spawn(daemon, client, "run", "--rm", "-it", "busybox", "sh", rows=30, cols=90)
    try:
        child.expect(r"/ # ", timeout=T)
        child.sendline("stty size; tty")
        child.expect(r"30 90\s+/dev/pts/0")
        child.setwinsize(41, 123)  # SIGWINCH → our CLI / docker → resize API → the pty
        deadline = time.monotonic() + T
        while True:
            child.sendline("stty size")
            if child.expect([r"41 123", r"\d+ \d+"]) == 0:
                break
            assert time.monotonic() < deadline, "resize never reached the container"
            time.sleep(0.1)
        child.sendline("echo sleep-starts; sleep 30; echo slept")
        child.expect(r"\nsleep-starts\r?\n")  # the output line, not the echo of the typed one
        time.sleep(0.3)  # sleep is now forked or about to be: ^C must reach it, not the prompt
        child.sendcontrol("c")  # the pty's line discipline: SIGINT to the foreground sleep
        child.sendline("echo after-$?")
        child.expect(r"after-130")
        child.sendline("exit 7")
        assert _close(child) == 7
    finally:
        child.close(force=True)


@pytest.mark.parametrize("client", CLIENTS)
def test_detach_reattach_and_exec(daemon: Daemon, client: str) -> None:
    name = f"itest-{client}"
    child = _spawn(daemon, client, "run", "--name", name, "-it", "busybox", "sh")
    try:
        child.expect(r"/ # ")
        child.sendline("export MARK=kept")
        child.sendcontrol("p")
        child.sendcontrol("q")
        assert _close(child) == 0
        assert daemon.cli("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == b"true"

        child = _spawn(daemon, client, "attach", name)
        _wait_raw(child)
        child.sendline("echo $MARK")
        child.expect(r"kept")
        child.sendcontrol("p")
        child.sendcontrol("q")
        child.expect("read escape sequence")  # docker attach says so, and exits 1
        assert _close(child) == 1

        child = _spawn(daemon, client, "exec", "-it", name, "sh")
        child.expect(r"/ # ")
        child.sendline("tty; echo $MARK-x; exit 3")
        child.expect(r"/dev/pts/1")
        child.expect(r"-x")
        assert _close(child) == 3
    finally:
        child.close(force=True)
        daemon.cli("rm", "-f", name)


@pytest.mark.parametrize("client", CLIENTS)
def test_piped_stdin_and_exit_codes(daemon: Daemon, client: str) -> None:
    run = daemon.cli if client == "dockyard" else daemon.docker
    cp = run("run", "--rm", "-i", "busybox", "sh", "-c", "cat; exit 4", input=b"hi there\n") \
        if client == "dockyard" else _docker_input(daemon, b"hi there\n", "run", "--rm", "-i", "busybox", "sh", "-c",
                                                   "cat; exit 4")
    assert cp.stdout == b"hi there\n" and cp.returncode == 4
    name = f"pipe-{client}"
    daemon.cli("run", "-d", "--name", name, "busybox", "sleep", "60", check=True)
    try:
        cp = run("exec", name, "sh", "-c", "echo $0 $HOME; exit 9")
        assert cp.stdout == b"sh /root\n" and cp.returncode == 9
        cp = run("exec", "-u", "nobody", "-w", "/tmp", "-e", "A=b", name, "sh", "-c", "id -u; pwd; echo $A")
        assert cp.stdout.split() == [b"65534", b"/tmp", b"b"]
        cp = run("exec", name, "nope")
        assert cp.returncode in (126, 127)
        assert run("exec", "-d", name, "touch", "/tmp/detached").returncode == 0
        deadline = time.monotonic() + T
        while run("exec", name, "test", "-e", "/tmp/detached").returncode != 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        daemon.cli("rm", "-f", name)


def _docker_input(daemon: Daemon, data: bytes, *args: str):  # type: ignore[no-untyped-def]
    import subprocess

    env = {k: v for k, v in ENV.items() if not k.startswith("DOCKER_")}
    env["DOCKER_CONFIG"] = str(daemon.data_root / "docker-config")
    return subprocess.run(["docker", "-H", daemon.host, *args], input=data, capture_output=True, timeout=60, env=env)


def test_sig_proxy_and_init_reaps_zombies(daemon: Daemon) -> None:
    # Without a TTY the CLI forwards signals: SIGTERM reaches the trap in the container.
    child = _spawn(daemon, "dockyard", "run", "--rm", "busybox", "sh", "-c",
                   "trap 'echo got-term; exit 11' TERM; echo ready; while true; do sleep 0.1; done")
    try:
        child.expect("ready")
        child.kill(15)
        child.expect("got-term")
        assert _close(child) == 11
    finally:
        child.close(force=True)
    # --init: PID 1 is the init and reaps the orphan; without it, PID 1 (sleep) leaves a zombie.
    script = "sh -c 'sleep 0.1 & exit'; exec sleep 30"
    for init, want_zombie in ((True, False), (False, True)):
        cid = daemon.cli("run", "-d", *(("--init",) if init else ()), "busybox", "sh", "-c", script,
                         check=True).stdout.decode().strip()
        try:
            deadline = time.monotonic() + T
            while True:
                ps = daemon.cli("exec", cid, "ps", "-o", "pid,stat,comm", check=True).stdout.decode()
                zombie = any(" Z" in line for line in ps.splitlines())
                sleeps = [line for line in ps.splitlines() if line.endswith(" sleep")]
                if zombie or len(sleeps) == 1:
                    break
                assert time.monotonic() < deadline, ps
                time.sleep(0.05)
            assert zombie is want_zombie, ps
            assert ("docker-init" in ps.splitlines()[1]) is init, ps  # PID 1
        finally:
            daemon.cli("rm", "-f", cid)
