import json

from dockyard.runtime.jsonlog import JsonLogEncoder, LineSplitter, encode_entry, rfc3339nano

T = 1795853600_123456789  # 2026-11-28T08:13:20.123456789Z


def test_rfc3339nano_trims_trailing_zeros() -> None:
    assert rfc3339nano(T) == "2026-11-28T08:13:20.123456789Z"
    assert rfc3339nano(1795853600_120000000) == "2026-11-28T08:13:20.12Z"
    assert rfc3339nano(1795853600_000000000) == "2026-11-28T08:13:20Z"


def test_entry_shape_matches_docker() -> None:
    assert encode_entry(b"hello\n", 1, T) == b'{"log":"hello\\n","stream":"stdout","time":"2026-11-28T08:13:20.123456789Z"}\n'


def test_go_escapes_and_invalid_utf8() -> None:
    line = encode_entry(b"<a&b>\xff\xe2\x80\xa8", 2, T).decode()
    assert '"log":"\\u003ca\\u0026b\\u003e\ufffd\\u2028"' in line
    assert json.loads(line)["stream"] == "stderr"


def test_split_at_newlines_and_flush_partial() -> None:
    enc = JsonLogEncoder(clock_ns=lambda: T)
    out = enc.feed(1, b"a\nb") + enc.feed(1, b"c\nd") + enc.close(1)
    assert [json.loads(x)["log"] for x in out.splitlines()] == ["a\n", "bc\n", "d"]


def test_streams_are_independent() -> None:
    enc = JsonLogEncoder(clock_ns=lambda: T)
    assert enc.feed(1, b"x") == b""
    assert json.loads(enc.feed(2, b"y\n"))["log"] == "y\n"
    assert json.loads(enc.close(1))["log"] == "x"
    assert enc.close(2) == b""


def test_long_lines_are_cut() -> None:
    s = LineSplitter(max_line=4)
    assert s.feed(b"abcdefghij\n") == [b"abcd", b"efgh", b"ij\n"]
    assert s.flush() == []
