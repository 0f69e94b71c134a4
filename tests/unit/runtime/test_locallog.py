"""Docker's local log driver format: frames byte-identical to dockerd 20.10's, read back by ``logs``."""

from __future__ import annotations

from pathlib import Path

from dockyard.daemon.logs import decode_local, read_log
from dockyard.runtime import locallog
from dockyard.runtime.logrotate import LogWriter, rotated_paths

# `docker run --log-driver local busybox sh -c 'echo hello; echo err >&2; printf tail'` on Docker 20.10
DOCKER = bytes.fromhex(
    "000000190a067374646f75741096d3d4ded9e28bf6181a0568656c6c6f00000019"
    "000000170a06737464657272 10efc5bcdfd9e28bf6181a03657272 00000017".replace(" ", "")
    + "000000600a067374646f757410e4f3ddefd9e28bf6181a047461696c20012a44"
    + "1240" + b"04d40868c204b199504f44eccad8b95cdef7f077b82f040be5d1a1db27f351db".hex() + "1801" + "00000060")


def test_decodes_and_reencodes_dockers_bytes() -> None:
    frames, rest = locallog.decode_frames(DOCKER)
    assert rest == b"" and [(f.source, f.line, f.partial) for f in frames] == [
        ("stdout", b"hello", False), ("stderr", b"err", False), ("stdout", b"tail", True)]
    assert frames[2].ordinal == 1 and not frames[2].last and len(frames[2].partial_id) == 64
    assert b"".join(locallog.encode(f) for f in frames) == DOCKER
    entries, _ = decode_local(DOCKER)
    assert [e.data for e in entries] == [b"hello\n", b"err\n", b"tail"]  # no newline on an open partial
    assert entries[0].time.startswith("20") and entries[0].time.endswith("Z")
    assert locallog.decode_frames(DOCKER[:30]) == ([], DOCKER[:30])  # a frame still being written waits


def test_encoder_partials_as_dockers_copier() -> None:
    ids = iter(["a" * 64, "b" * 64])
    clock = iter([1_000, 2_000, 3_000])  # read only when a read completes a line
    enc = locallog.LocalLogEncoder(lambda: next(clock), new_id=lambda: next(ids))
    data = enc.feed(1, b"x" * 5) + enc.feed(1, b"yy\n") + enc.feed(2, b"z\n") + enc.feed(1, b"end") + enc.close(1)
    frames, rest = locallog.decode_frames(data)
    assert rest == b"" and [(f.source, f.line, f.partial, f.last, f.partial_id[:1], f.ordinal, f.time_nano)
                            for f in frames] == [
        ("stdout", b"xxxxxyy", False, False, "", 0, 1_000), ("stderr", b"z", False, False, "", 0, 2_000),
        ("stdout", b"end", True, False, "a", 1, 3_000)]


def test_encoder_cuts_long_lines_and_keeps_bytes() -> None:
    ids = iter(["c" * 64])
    enc = locallog.LocalLogEncoder(lambda: 7, max_line=4, new_id=lambda: next(ids))
    data = enc.feed(2, b"abcdefg\n\xff\xfe\n")  # invalid UTF-8 stays as written (Docker's line is bytes)
    frames = [locallog.decode_frames(f)[0][0] for f in locallog.split_frames(data)]
    assert [(f.line, f.partial, f.last, f.partial_id[:1], f.ordinal) for f in frames] == [
        (b"abcd", True, False, "c", 1), (b"efg", True, True, "c", 2), (b"\xff\xfe", False, False, "", 0)]
    # the inlined common case makes exactly what encode() does
    assert locallog.split_frames(data)[2] == locallog.encode(locallog.Entry("stderr", 7, b"\xff\xfe"))
    assert enc.feed(1, b"\n") == locallog.encode(locallog.Entry("stdout", 7, b""))


def test_local_writer_defaults_rotation_and_logs(tmp_path: Path) -> None:
    json_path = tmp_path / "c-json.log"
    w = LogWriter(json_path, driver="local", max_size=300, max_file=3, compress=True)
    assert w.path == tmp_path / "local-logs" / "container.log"
    clock = iter(range(1_700_000_000_000_000_000, 1_700_000_000_000_000_100))
    enc = locallog.LocalLogEncoder(lambda: next(clock))
    for i in range(60):
        w.write(enc.feed(1 + i % 2, b"line %d\n" % i))
    w.write(enc.feed(1, b"a\nb\n" * 7))  # more than max-size in one write: rotated between frames
    w.close()
    names = sorted(p.name for p in (tmp_path / "local-logs").iterdir())
    assert names == ["container.log", "container.log.1.gz", "container.log.2.gz"]
    files = rotated_paths(w.path, 3)
    got = [d for _, d in read_log(files[-1], stdout=True, stderr=True, older=files[:-1])]
    assert got[-14:] == [b"a\n", b"b\n"] * 7
    nums = [int(d.split()[1]) for d in got[:-14]]
    assert nums == list(range(nums[0], 60)) and nums[0] > 0
    err = [d for _, d in read_log(files[-1], stdout=False, stderr=True, tail=1, older=files[:-1])]
    assert err == [b"line 59\n"]
