"""ShimRuntime: stdin pipes, ptys from the container's devpts, resize, exec."""

from __future__ import annotations

import dataclasses

import pytest

from dockyard.core.mount import Mount
from dockyard.core.runtime import ExecSpec
from dockyard.errors import Conflict, RuntimeFailure

from .runtime_harness import ENV, Harness, make_spec

pytestmark = pytest.mark.root


def _create(h: Harness, *args: str, stdin: bool = False, terminal: bool = False) -> str:
    cid = h.new_id()
    spec = make_spec(args, cid)
    if terminal:
        spec = dataclasses.replace(spec, process=dataclasses.replace(spec.process, terminal=True))
    bundle = h.bundle(spec, cid)
    h.runtime.create(cid, bundle, [Mount("bind", str(h.rootfs), options=("rbind", "rw"))], h.log_path(cid),
                     stdin=stdin)
    return cid


def _out(pairs: object) -> bytes:
    return b"".join(d for _, d in pairs)  # type: ignore[attr-defined]


def test_stdin_pipe_reaches_the_process_and_eof_ends_it(harness: Harness) -> None:
    cid = _create(harness, "cat", stdin=True)
    out = harness.runtime.attach(cid)
    harness.runtime.start(cid)
    inp = harness.runtime.open_stdin(cid)
    inp.write(b"hello ")
    inp.write(b"world\n")
    inp.close_stdin()
    inp.close()
    assert _out(out) == b"hello world\n"
    status = harness.runtime.wait(cid, timeout=10)
    assert status is not None and status.code == 0


def test_terminal_comes_from_the_containers_devpts(harness: Harness) -> None:
    script = "tty; stty size; ls -1 /dev/pts; [ -c /dev/console ] && echo console"
    cid = _create(harness, "sh", "-c", script, terminal=True)
    harness.runtime.resize(cid, 40, 100)
    out = harness.runtime.attach(cid)
    harness.runtime.start(cid)
    text = _out(out).decode()
    lines = text.replace("\r\n", "\n").split("\n")
    assert lines[0] == "/dev/pts/0"
    assert lines[1] == "40 100"
    assert lines[2:5] == ["0", "ptmx", "console"]
    status = harness.runtime.wait(cid, timeout=10)
    assert status is not None and status.code == 0


def test_terminal_with_stdin_is_interactive(harness: Harness) -> None:
    cid = _create(harness, "sh", stdin=True, terminal=True)
    out = harness.runtime.attach(cid)
    harness.runtime.start(cid)
    inp = harness.runtime.open_stdin(cid)
    inp.write(b"echo $((6*7)); exit 5\n")
    inp.close()
    text = _out(out)
    assert b"42" in text
    status = harness.runtime.wait(cid, timeout=10)
    assert status is not None and status.code == 5


def test_exec_joins_the_container(harness: Harness) -> None:
    cid = _create(harness, "sleep", "30")
    harness.runtime.start(cid)
    init_pid = harness.runtime.state(cid).pid
    ex = harness.runtime.exec(cid, ExecSpec("e1", ("sh", "-c", "hostname; cat /proc/1/cmdline; echo; echo err >&2; exit 3"),
                                            ENV, "/", 0, 0))
    assert ex.pid > 0 and ex.pid != init_pid
    chunks = list(ex)
    stdout = b"".join(d for s, d in chunks if s == 1).decode().split("\n")
    assert stdout[0] == "c-" + cid[:8]
    assert stdout[1].startswith("sleep")
    assert b"".join(d for s, d in chunks if s == 2) == b"err\n"
    assert ex.exit is not None and ex.exit.code == 3
    assert harness.runtime.pids(cid) == [init_pid]  # in the container's cgroup, and reaped


def test_exec_user_cwd_stdin_and_tty(harness: Harness) -> None:
    cid = _create(harness, "sleep", "30")
    harness.runtime.start(cid)
    ex = harness.runtime.exec(cid, ExecSpec("u", ("sh", "-c", "id -u; pwd; cat"), ENV, "/tmp", 65534, 65534,
                                            stdin=True))
    ex.write(b"piped\n")
    ex.close_stdin()
    assert _out(ex).decode().split("\n")[:3] == ["65534", "/tmp", "piped"]
    assert ex.exit is not None and ex.exit.code == 0
    ex = harness.runtime.exec(cid, ExecSpec("t", ("sh",), ENV, "/", 0, 0, tty=True, stdin=True))
    harness.runtime.resize(cid, 33, 77, exec_id="t")
    ex.write(b"tty; stty size; exit 4\n")
    text = _out(ex).decode()
    assert "/dev/pts/0" in text and "33 77" in text
    assert ex.exit is not None and ex.exit.code == 4


def test_exec_failures(harness: Harness) -> None:
    cid = _create(harness, "sleep", "30")
    with pytest.raises(Conflict):  # created, not started
        harness.runtime.exec(cid, ExecSpec("x", ("true",), ENV, "/", 0, 0))
    harness.runtime.start(cid)
    with pytest.raises(RuntimeFailure) as info:
        harness.runtime.exec(cid, ExecSpec("x", ("nope",), ENV, "/", 0, 0))
    assert info.value.exit_code == 127
    with pytest.raises(RuntimeFailure) as info:
        harness.runtime.exec(cid, ExecSpec("y", ("true",), ENV, "/does/not/exist", 0, 0))
    ex = harness.runtime.exec(cid, ExecSpec("z", ("true",), ENV, "/", 0, 0))
    assert _out(ex) == b"" and ex.exit is not None and ex.exit.code == 0
