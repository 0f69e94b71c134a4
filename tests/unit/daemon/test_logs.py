import json

from dockyard.core.runtime import STDERR, STDOUT
from dockyard.daemon.logs import parse_line, read_log


def line(log, stream="stdout", t="2026-01-01T00:00:01.000000000Z"):
    return json.dumps({"log": log, "stream": stream, "time": t}).encode() + b"\n"


def test_parse_line_tolerates_garbage():
    assert parse_line(b"{not json") is None
    assert parse_line(b'{"stream":"stdout"}') is None
    e = parse_line(line("hi\n", "stderr"))
    assert e.stream == STDERR and e.data == b"hi\n"


def test_read_filters_tail_and_timestamps(tmp_path):
    p = tmp_path / "c-json.log"
    p.write_bytes(line("a\n") + line("b\n", "stderr", "2026-01-01T00:00:02.000000000Z")
                  + line("c\n", t="2026-01-01T00:00:03.000000000Z") + b'{"torn')
    assert list(read_log(p, stdout=True, stderr=True)) == [(STDOUT, b"a\n"), (STDERR, b"b\n"), (STDOUT, b"c\n")]
    assert list(read_log(p, stdout=True, stderr=False)) == [(STDOUT, b"a\n"), (STDOUT, b"c\n")]
    assert list(read_log(p, stdout=True, stderr=True, tail=1)) == [(STDOUT, b"c\n")]
    assert list(read_log(p, stdout=True, stderr=True, tail=0)) == []
    since = 1767225601.5  # between a and b
    assert [d for _, d in read_log(p, stdout=True, stderr=True, since=since)] == [b"b\n", b"c\n"]
    ts = list(read_log(p, stdout=True, stderr=True, tail=1, timestamps=True))
    assert ts == [(STDOUT, b"2026-01-01T00:00:03.000000000Z c\n")]


def test_follow_reads_until_done(tmp_path):
    p = tmp_path / "l"
    p.write_bytes(line("a\n"))
    calls = {"n": 0}

    def done():
        calls["n"] += 1
        if calls["n"] == 1:
            with open(p, "ab") as f:
                f.write(line("b\n"))
            return False
        return True

    got = list(read_log(p, stdout=True, stderr=True, follow=True, is_done=done, poll=0))
    assert got == [(STDOUT, b"a\n"), (STDOUT, b"b\n")]


def test_missing_file_is_empty(tmp_path):
    assert list(read_log(tmp_path / "nope", stdout=True, stderr=True)) == []
