"""The native monitor's json-file encoder and rotation are byte-identical to runtime/jsonlog.py's
and runtime/logrotate.py's."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from dockyard.runtime import monitor
from dockyard.runtime.jsonlog import JsonLogEncoder, MAX_LINE
from dockyard.runtime.logrotate import LogWriter


@pytest.fixture(scope="module")
def monitor_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which("gcc"), "gcc is needed to build the monitor (setup.sh installs it)"
    return monitor.build(tmp_path_factory.mktemp("mon") / "dockyard-monitor")


Op = tuple[int, int, int, bytes]  # (1 feed | 2 close, stream, ns, data)


def run_c(binary: Path, ops: list[Op]) -> bytes:
    stdin = b"".join(struct.pack(">BBQI", op, stream, ns, len(data)) + data for op, stream, ns, data in ops)
    return subprocess.run([str(binary), "--selftest-encode"], input=stdin, capture_output=True,
                          check=True, timeout=20).stdout


def run_py(ops: list[Op]) -> bytes:
    clock = iter([ns for _, _, ns, _ in ops])
    enc = JsonLogEncoder(clock_ns=lambda: next(clock))
    return b"".join(enc.feed(s, d) if op == 1 else enc.close(s) for op, s, _, d in ops)


HOSTILE = [
    b"hello\n", b"no newline", b"\xff\xfe\x80bad\n", b"\xe2\x82\n", b"\xed\xa0\x80surrogate\n",
    b"\xf0\x90\x80\n", b"\xf4\x90\x80\x80\n", b"\xc0\xaf\xc1\n", b"\xe0\x80\xaf\n", b"\xf5\xf8\n",
    b"<&>\xe2\x80\xa8\xe2\x80\xa9\x7f\n", bytes(range(32)) + b"\n", b'"\\/\n', b"\r\n", b"\rcr only",
    "héllo wörld ✓ 😀\n".encode(), b"x" * (MAX_LINE - 1) + b"\n", b"y" * MAX_LINE + b"\n",
    b"z" * (3 * MAX_LINE + 5), b"\xe2\x82\xac" * (MAX_LINE // 3 + 2) + b"\n", b"",
]


def test_hostile_inputs_identical(monitor_bin: Path) -> None:
    ns = 1_764_000_000_123_456_789
    ops: list[Op] = []
    for i, data in enumerate(HOSTILE):
        ops.append((1, 1 + i % 2, ns + i * 1000, data))
    ops += [(2, 1, ns + 10**9, b""), (2, 2, ns, b"")]
    assert run_c(monitor_bin, ops) == run_py(ops)


def test_timestamps_drop_trailing_zeros(monitor_bin: Path) -> None:
    ops: list[Op] = [(1, 1, ns, b"t\n") for ns in (0, 10**9, 1_500_000_000, 1_764_000_000_000_000_001,
                                                     1_764_000_000_120_000_000)]
    assert run_c(monitor_bin, ops) == run_py(ops)


_text = st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass"))  # lone surrogates too
chunks = st.lists(st.tuples(st.integers(1, 2), st.binary(max_size=300) | _text | st.sampled_from(HOSTILE)),
                  max_size=12)


@settings(max_examples=60, deadline=None)
@given(chunks, st.integers(0, 2**62))
def test_any_bytes_identical(monitor_bin: Path, pieces: list[tuple[int, bytes]], ns: int) -> None:
    ops: list[Op] = [(1, s, ns + i, d) for i, (s, d) in enumerate(pieces)]
    ops += [(2, 1, ns + 99, b""), (2, 2, ns + 100, b"")]
    assert run_c(monitor_bin, ops) == run_py(ops)


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.binary(max_size=120), min_size=1, max_size=4), max_size=20),
       st.integers(0, 600), st.integers(1, 4))
def test_rotation_identical(monitor_bin: Path, tmp_path_factory: pytest.TempPathFactory,
                            writes: list[list[bytes]], max_size: int, max_file: int) -> None:
    """LogWriter (runtime/logrotate.py) and the monitor's rotation leave the same files."""
    base = tmp_path_factory.mktemp("rot")
    (base / "py").mkdir()
    (base / "c").mkdir()
    enc = JsonLogEncoder(clock_ns=lambda: 1_764_000_000_000_000_000)
    chunks = [b"".join(enc.feed(1, line + b"\n") for line in w) for w in writes]
    py = LogWriter(base / "py" / "x-json.log", max_size=max_size, max_file=max_file)
    for chunk in chunks:
        py.write(chunk)
    py.close()
    stdin = b"".join(struct.pack(">I", len(c)) + c for c in chunks)
    subprocess.run([str(monitor_bin), "--selftest-rotate", str(base / "c" / "x-json.log"), str(max_size),
                    str(max_file)], input=stdin, check=True, timeout=20)
    assert _files(base / "c") == _files(base / "py")
