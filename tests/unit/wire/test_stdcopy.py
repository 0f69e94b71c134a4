import pytest

from dockyard.errors import InvalidArgument
from dockyard.wire import stdcopy


def test_header_layout():
    assert stdcopy.encode(2, b"hi") == b"\x02\x00\x00\x00\x00\x00\x00\x02hi"
    assert stdcopy.encode(1, b"") == b""


@pytest.mark.parametrize("split", [1, 3, 8, 9, 1000])
def test_round_trip_any_split(split):
    frames = [(1, b"out\n"), (2, b"err" * 100), (1, bytes(range(256)))]
    data = b"".join(stdcopy.encode(s, d) for s, d in frames)
    dec = stdcopy.FrameDecoder()
    got = []
    for i in range(0, len(data), split):
        got.extend(dec.feed(data[i : i + split]))
    dec.close()
    assert got == frames


def test_large_payload_is_split(monkeypatch):
    monkeypatch.setattr(stdcopy, "MAX_FRAME", 4)
    data = stdcopy.encode(1, b"abcdefghij")
    assert stdcopy.decode(data) == [(1, b"abcd"), (1, b"efgh"), (1, b"ij")]


def test_truncated_and_bad_header():
    with pytest.raises(InvalidArgument):
        stdcopy.decode(stdcopy.encode(1, b"abc")[:-1])
    with pytest.raises(InvalidArgument):
        stdcopy.decode(b"\x07\x00\x00\x00\x00\x00\x00\x01x")
    with pytest.raises(InvalidArgument):
        stdcopy.encode(9, b"x")
