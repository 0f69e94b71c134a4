"""runtime/shimcreate.py: the create child hands the init's channel and stdio back to the shim.

A fake shim whose ``_create`` makes real pipes, a pty and a socketpair (no root needed): what
the parent adopts must be the very same open files, and every failure must come back as a
CreateFailed with a step, never as a hang.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from dockyard.runtime import messages as m
from dockyard.runtime.shim import _Sink
from dockyard.runtime.shimcreate import CreateFailed, create_in_child


class FakeShim:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.close_fds: list[int] = []
        self.init_pid = 0
        self.out: dict[int, int] = {}
        self.stdin: _Sink | None = None
        self.master = -1
        self.chan: m.Channel | None = None
        self.spec = SimpleNamespace(annotations={"dockyard.log.max-size": "1m"})
        self.cgroup = SimpleNamespace(dirs={"pids": Path("/sys/fs/cgroup/pids/p/c")})

    def _create(self) -> None:  # runs in the child
        if self.mode == "fail":
            self.init_pid = 4242
            raise CreateFailed("rootfs", "no such directory")
        if self.mode == "crash":
            raise RuntimeError("boom")
        if self.mode == "die":
            os._exit(3)
        parent, child = socket.socketpair()
        child.sendall(m.encode(m.Ready()))
        self.chan = m.Channel(parent)
        self.init_pid = 1234
        if self.mode == "pty":
            self.master, slave = os.openpty()
            os.set_blocking(self.master, False)
            self.out = {self.master: 1}
            self.stdin = _Sink(self.master, owns_fd=False)
            return
        (out_r, out_w), (err_r, err_w), (_in_r, in_w) = os.pipe(), os.pipe(), os.pipe()
        os.write(out_w, b"to stdout")
        os.write(err_w, b"to stderr")
        self.out = {out_r: 1, err_r: 2}
        self.stdin = _Sink(in_w)


def _close(shim: FakeShim) -> None:
    for fd in shim.out:
        os.close(fd)
    if shim.stdin is not None and shim.stdin.owns_fd:
        os.close(shim.stdin.fd)
    if shim.chan is not None:
        shim.chan.close()


def test_pipes_and_channel_are_adopted() -> None:
    shim = FakeShim("pipes")
    os.waitpid(create_in_child(shim), 0)
    try:
        assert shim.init_pid == 1234
        assert sorted(shim.out.values()) == [1, 2]
        got = {stream: os.read(fd, 100) for fd, stream in shim.out.items()}
        assert got == {1: b"to stdout", 2: b"to stderr"}
        assert isinstance(shim.chan.recv(), m.Ready)  # type: ignore[union-attr]
        assert shim.stdin is not None and stat.S_ISFIFO(os.fstat(shim.stdin.fd).st_mode)
        assert shim.master == -1
        assert shim.annotations == {"dockyard.log.max-size": "1m"}  # type: ignore[attr-defined]
        assert shim.cgroup_dirs == ("/sys/fs/cgroup/pids/p/c",)  # type: ignore[attr-defined]
    finally:
        _close(shim)


def test_a_pty_master_is_output_and_stdin() -> None:
    shim = FakeShim("pty")
    os.waitpid(create_in_child(shim), 0)
    try:
        assert list(shim.out) == [shim.master] and shim.out[shim.master] == 1
        assert os.isatty(shim.master)
        assert shim.stdin is not None and shim.stdin.fd == shim.master and not shim.stdin.owns_fd
    finally:
        _close(shim)


@pytest.mark.parametrize("mode, step, text, pid", [
    ("fail", "rootfs", "no such directory", 4242),  # the init pid comes back for the cleanup
    ("crash", "shim", "RuntimeError: boom", 0),
    ("die", "shim", "create child died", 0),
])
def test_failures_come_back_with_their_step(mode: str, step: str, text: str, pid: int) -> None:
    shim = FakeShim(mode)
    before = _children()
    with pytest.raises(CreateFailed) as info:
        create_in_child(shim)
    assert (info.value.step, info.value.message, shim.init_pid) == (step, text, pid)
    assert _children() == before  # the failed child was reaped


def _children() -> set[str]:
    return set(Path(f"/proc/self/task/{os.getpid()}/children").read_text().split())
