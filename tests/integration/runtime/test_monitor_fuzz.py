"""Hostile input on a container's shim socket, served by the native monitor (dymon.c).

The monitor is built here with AddressSanitizer and UndefinedBehaviorSanitizer (UB
aborts), so a silent over-read or overflow in its frame or JSON handling kills it
or leaves a report: either fails these tests.  What must hold after any input: the
monitor lives, the container runs, a State request answers, the log still grows;
each reply is a well-formed control frame; a message the Python decoder
(messages.py) reads gets the reply the Python shim gives (shim._handle).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dockyard.runtime import messages as m, monitor
from dockyard.runtime import state as rst

from .. import conftest
from ..conftest import Daemon, start_daemon, stop_daemon

SANITIZE = ("-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


@dataclass
class Target:
    d: Daemon
    cid: str
    shim: int
    init: int
    binary: Path
    reports: Path


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, seed_tar: Path) -> Iterator[Target]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    assert shutil.which("gcc"), "gcc is needed to build the monitor (setup.sh installs it)"
    bindir = tmp_path_factory.mktemp("fuzzbin")
    binary = bindir / "dockyard-monitor"
    src = monitor.SOURCE_DIR
    subprocess.run(["gcc", *monitor.CFLAGS, *SANITIZE, "-o", str(binary), *(str(src / s) for s in monitor.SOURCES)],
                   check=True, capture_output=True)
    reports = bindir / "reports"
    reports.mkdir()
    saved = dict(conftest.ENV)
    conftest.ENV[monitor.ENV_PATH] = str(binary)
    # The daemon's environment reaches the monitor (spawner -> shim -> execve).
    conftest.ENV["ASAN_OPTIONS"] = f"log_path={reports}/asan:detect_leaks=0:abort_on_error=0"
    conftest.ENV["UBSAN_OPTIONS"] = f"log_path={reports}/ubsan:print_stacktrace=1:halt_on_error=1"
    try:
        d = start_daemon(tmp_path_factory.mktemp("fuzzd"))
    finally:
        conftest.ENV.clear()
        conftest.ENV.update(saved)
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        cid = d.cli("run", "-d", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.05; done",
                    check=True).stdout.decode().strip()
        state = json.loads((d.exec_root / "runtime" / cid / "state.json").read_text())
        shim, init = state["shim_pid"], state["pid"]
        deadline = time.monotonic() + 10
        while os.readlink(f"/proc/{shim}/exe") != str(binary):
            assert time.monotonic() < deadline, os.readlink(f"/proc/{shim}/exe")
            time.sleep(0.01)
        yield Target(d, cid, shim, init, binary, reports)
        d.cli("rm", "-f", cid, check=True)
    finally:
        stop_daemon(d)


def _connect(t: Target) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    rst.unix_socket_op(sock.connect, t.d.exec_root / "runtime" / t.cid, rst.SOCKET_FILE)
    sock.settimeout(10)
    return sock


def _exchange(t: Target, data: bytes, chunks: tuple[int, ...] | list[int] = ()) -> list[m.Message]:
    """Sends ``data`` (split at ``chunks``), half-closes, reads to EOF: the control replies."""
    sock = _connect(t)
    raw = b""
    try:
        cuts = sorted({c % (len(data) + 1) for c in chunks} | {0, len(data)})
        try:
            for a, b in zip(cuts, cuts[1:]):
                sock.sendall(data[a:b])
            sock.shutdown(socket.SHUT_WR)  # the monitor sees EOF: whatever it held, it must let go
        except (BrokenPipeError, ConnectionResetError):
            pass  # it closed the connection before reading it all: its replies are still queued
        try:
            while chunk := sock.recv(65536):  # a 10 s timeout raises: a hung monitor fails the test
                raw += chunk
        except ConnectionResetError:
            pass  # closed with our bytes unread (AF_UNIX reports that after the queued replies)
    finally:
        sock.close()
    dec = m.Decoder()
    msgs = dec.feed(raw)  # raises ProtocolError on a malformed reply
    assert dec.pending == 0, raw[-100:]
    return [x for x in msgs if not isinstance(x, m.Output)]  # Attach brings the ticks


def _assert_healthy(t: Target) -> None:
    assert os.readlink(f"/proc/{t.shim}/exe") == str(t.binary)
    assert "Z" not in Path(f"/proc/{t.shim}/stat").read_text().rsplit(")", 1)[1].split()[0]
    assert not list(t.reports.iterdir()), [p.read_text()[:4000] for p in t.reports.iterdir()]
    assert _exchange(t, m.encode(m.State())) == [m.StateReply("running", t.init)]


def _frame(kind: int, payload: bytes) -> bytes:
    return bytes([kind]) + len(payload).to_bytes(4, "big") + payload


def _ctl(obj: object) -> bytes:
    return _frame(1, json.dumps(obj).encode())


# ---------------------------------------------------------------- strategies

SAFE_TYPES = ["attach", "wait", "state", "start", "close_stdin", "resize", "exec_console", "ok", "failed",
              "ready", "spawn", "state_reply", "exited", "pid", "created", "console", "spawn_exec"]  # no exec, kill
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_value = st.recursive(json_leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                            max_size=4), max_leaves=20)
big_ints = st.sampled_from([2**31, 2**32, 2**32 + 9, 2**63 - 1, 2**63, 2**64 + 9, -2**63, -2**63 - 1, 10**40])

# Messages the Python decoder reads, each with the reply the Python shim gives (None: no reply).
good_msgs = st.one_of(
    st.just((m.State(), "state_reply")),
    st.sampled_from([m.Attach(), m.Wait(), m.CloseStdin()]).map(lambda x: (x, None)),
    st.just((m.Start(), "failed")),
    st.builds(m.Resize, st.integers(-2**70, 2**70), st.integers(-2**70, 2**70),
              st.text(max_size=60)).map(lambda x: (x, "failed")),  # no terminal
    st.builds(m.Kill, big_ints | st.just(0)).map(lambda x: (x, "ok" if x.signal == 0 else "failed")),
    st.builds(m.ExecConsole, st.text(max_size=60)).map(lambda x: (x, "failed")),
    st.builds(m.Failed, st.text(max_size=30)).map(lambda x: (x, "failed")),  # "unexpected request failed"
    st.builds(m.Output, st.sampled_from([1, 2]), st.binary(max_size=50)).map(lambda x: (x, "failed")),
    st.builds(m.Input, st.binary(max_size=50)).map(lambda x: (x, None)),  # no stdin: dropped
)


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    """Bytes no well-behaved client sends."""
    kind = draw(st.integers(0, 10))
    if kind == 0:
        return draw(st.binary(max_size=300))
    if kind == 1:  # odd header: any kind, any length (huge ones included), maybe truncated
        hdr = bytes([draw(st.integers(0, 255))]) + draw(st.integers(0, 2**32 - 1)).to_bytes(4, "big")
        return hdr[:draw(st.integers(1, 5))] + draw(st.binary(max_size=40))
    if kind == 2:  # a JSON object of any shape
        obj = draw(st.dictionaries(st.text(max_size=10), json_value, max_size=5))
        if draw(st.booleans()):
            obj["type"] = draw(st.sampled_from(SAFE_TYPES) | st.text(max_size=300).filter(lambda s: s not in
                                                                                         ("exec", "kill")))
        return _frame(1, json.dumps(obj, ensure_ascii=draw(st.booleans())).encode())
    if kind == 3:  # a JSON text cut short (the payload's last byte a digit, a backslash, ...)
        body = json.dumps({"type": draw(st.sampled_from(SAFE_TYPES)), "rows": draw(st.integers()),
                           "cols": draw(st.integers()), "exec_id": draw(st.text(max_size=20))}).encode()
        return _frame(1, body[:draw(st.integers(0, len(body)))])
    if kind == 4:  # deep nesting
        depth = draw(st.integers(1, 5000))
        return _frame(1, b'{"type":"state","x":' + b"[" * depth + b"]" * draw(st.integers(0, depth)) + b"}")
    if kind == 5:  # bad escapes, raw control bytes, NULs in keys and values
        esc = draw(st.sampled_from([b"\\x", b"\\u12G4", b"\\u00", b"\\", b"\\u0000", b"\x00", b"\x01", b"\n",
                                    b"\\ud800", b"\xff\xfe", b"\\\\u0041"]))
        where = draw(st.sampled_from([b'{"type":"sta%ste"}', b'{"ty%spe":"state"}', b'{"type":"resize",'
                                      b'"rows":1,"cols":2,"exec_id":"%s"}', b'{"type":"state","k%s":1}']))
        return _frame(1, where.replace(b"%s", esc))
    if kind == 6:  # numbers of every shape, for the int fields
        num = draw(st.sampled_from([b"1.5", b"1e3", b"-", b"--1", b"+1", b"01", b"0x10", b"99999999999999999999999",
                                    b"-99999999999999999999999", b"1 2", b"true", b'"9"', b"[]", b"{}", b"NaN"]))
        return _frame(1, b'{"type":"resize","rows":' + num + b',"cols":' + num + b"}")
    if kind == 7:  # long strings: past the monitor's fixed buffers
        return _ctl({"type": "resize", "rows": 1, "cols": 1, "exec_id": "e" * draw(st.integers(200, 5000))}) \
            if draw(st.booleans()) else _ctl({"type": "s" * draw(st.integers(20, 5000)), "k" * 100: 1})
    if kind == 8:  # trailing bytes after the object, or two objects
        return _frame(1, b'{"type":"state"}' + draw(st.sampled_from([b" x", b"{}", b'{"type":"state"}', b"]"])))
    if kind == 9:  # wrong types for the fields (no int signal: 9 would end the container)
        not_int = json_value.filter(lambda v: isinstance(v, bool) or not isinstance(v, int))
        return _ctl({"type": draw(st.sampled_from(["resize", "kill", "exec_console"])),
                     "signal": draw(not_int), "rows": draw(json_value), "cols": draw(json_value),
                     "exec_id": draw(json_value)})
    return _ctl(draw(json_value))  # not an object at all, often


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(good=st.lists(good_msgs, max_size=6), tail=st.lists(hostile(), max_size=3),
       chunks=st.lists(st.integers(0, 10**6), max_size=4))
def test_fuzz_frames(target: Target, good: list[tuple[m.Message, str | None]], tail: list[bytes],
                     chunks: list[int]) -> None:
    data = b"".join(m.encode(msg) for msg, _ in good) + b"".join(tail)
    got = _exchange(target, data, chunks)
    expected = [r for _, r in good if r]
    assert [x.type for x in got[:len(expected)]] == expected, (good, got)
    for x in got[:len(expected)]:
        if isinstance(x, m.StateReply):
            assert x == m.StateReply("running", target.init)
    assert all(isinstance(x, (m.Failed, m.Ok, m.StateReply)) for x in got), got
    _assert_healthy(target)


def test_exact_replies(target: Target) -> None:
    """Cases the fuzzer found or that once went wrong, pinned."""
    t = target
    state = m.StateReply("running", t.init)
    # (int) of 2**32+9 is SIGKILL: refused, the container lives
    assert _exchange(t, _ctl({"type": "kill", "signal": 2**32 + 9})) == [
        m.Failed("signal number out of range", step="kill")]
    # a refused ExecConsole is consumed: the next frame is served (it used to be re-read forever)
    assert _exchange(t, _ctl({"type": "exec_console", "exec_id": "x"}) + m.encode(m.State())) == [
        m.Failed("exec_console without a terminal", step="protocol"), state]
    # json.loads refuses these, and so does the monitor (connection closed, nothing served)
    for payload in (b'{"type":"state"} x', b'{"type":"st\\x"}', b'{"type":"st\\u00zz"}', b'{"type":"st\x01"}',
                    b'{"type":"resize","rows":1.5,"cols":1}', b"{}", b'{"type":"resize","rows":1,"cols":1'):
        assert _exchange(t, _frame(1, payload) + m.encode(m.State())) == [], payload
    # an escaped NUL does not cut a name short: "state\u0000" is not "state"
    got = _exchange(t, _frame(1, b'{"type":"state\\u0000"}'))
    assert len(got) == 1 and isinstance(got[0], m.Failed) and got[0].message != "unexpected request state", got
    # a number at the very end of a frame is read without running past it (a frame that fills
    # the receive buffer exactly, 256 bytes: strtoll read the byte after it)
    for size in (256, 1024):
        head = b'{"type":"resize","cols":2,"x":"'
        tail = b'","rows":12345'
        payload = head + b"p" * (size - 5 - len(head) - len(tail)) + tail
        assert _exchange(t, _frame(1, payload)) == []
    # the largest frame passes, one byte more closes the connection
    assert _exchange(t, _frame(4, b"\0" * m.MAX_FRAME) + m.encode(m.State())) == [state]
    assert _exchange(t, b"\x01" + (m.MAX_FRAME + 1).to_bytes(4, "big") + m.encode(m.State())) == []
    _assert_healthy(t)


def test_many_connections_with_partial_frames(target: Target) -> None:
    """Clients holding half a frame each (huge lengths announced) do not stop the others."""
    t = target
    log = Path(t.d.cli("inspect", "-f", "{{.LogPath}}", t.cid, check=True).stdout.decode().strip())
    socks = []
    try:
        for i in range(200):
            s = _connect(t)
            socks.append(s)
            s.sendall((b"\x01" + (m.MAX_FRAME - i).to_bytes(4, "big") + b'{"type":"state"' * 50)[:5 + i * 3 + 1])
        size = log.stat().st_size
        _assert_healthy(t)
        deadline = time.monotonic() + 10
        while log.stat().st_size == size:  # the container's output is still logged
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        for s in socks:
            s.close()
    _assert_healthy(t)
    assert t.d.cli("inspect", "-f", "{{.State.Status}}", t.cid, check=True).stdout.strip() == b"running"
