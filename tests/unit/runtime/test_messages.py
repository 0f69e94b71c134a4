import pytest

from dockyard.runtime import messages as m

ALL = [m.Attach(), m.Wait(), m.Start(), m.Kill(9), m.State(), m.Ok(), m.Failed("boom", "exec", 127),
       m.Created(10, 11), m.StateReply("running", 10), m.Exited(137, 123, 9, False), m.Pid(5), m.Ready(),
       m.Spawn("id", "/b", [{"type": "bind"}], "/log", "/state"),
       m.Output(1, b"out\n"), m.Output(2, b"\x00\xff err")]


def test_round_trip_all_messages() -> None:
    data = b"".join(m.encode(x) for x in ALL)
    assert m.Decoder().feed(data) == ALL


def test_byte_at_a_time() -> None:
    data = b"".join(m.encode(x) for x in ALL)
    dec = m.Decoder()
    out = [msg for i in range(len(data)) for msg in dec.feed(data[i:i + 1])]
    assert out == ALL and dec.pending == 0


def test_output_is_raw_bytes_not_json() -> None:
    assert m.encode(m.Output(2, b"hi")) == b"\x03\x00\x00\x00\x02hi"


@pytest.mark.parametrize("data", [b"\x09\x00\x00\x00\x00", b"\x01\x00\x00\x00\x02{}", b"\x01\x00\x00\x00\x0f{\"type\":\"nope\"}",
                                  b"\x01\xff\xff\xff\xff"])
def test_bad_frames(data: bytes) -> None:
    with pytest.raises(m.ProtocolError):
        m.Decoder().feed(data)
