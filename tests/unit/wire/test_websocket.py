"""wire/websocket.py: RFC 6455 handshake and framing, sans-I/O."""

import pytest

from dockyard.wire import websocket as ws

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3's example
HEADERS = {"connection": "keep-alive, Upgrade", "upgrade": "websocket", "sec-websocket-version": "13",
           "sec-websocket-key": KEY}


def test_accept_key_is_the_rfc_example():
    assert ws.accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_handshake_answers_the_accept_header():
    assert ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") in ws.server_handshake("GET", HEADERS)


@pytest.mark.parametrize("change, status", [
    ({"upgrade": "tcp"}, 400), ({"connection": "close"}, 400), ({"sec-websocket-version": "8"}, 400),
    ({"sec-websocket-key": "short"}, 400), ({"sec-websocket-key": ""}, 400),
])
def test_bad_handshakes(change, status):
    with pytest.raises(ws.HandshakeError) as err:
        ws.server_handshake("GET", {**HEADERS, **change})
    assert err.value.status == status


def test_wrong_version_names_the_supported_one():
    with pytest.raises(ws.HandshakeError) as err:
        ws.server_handshake("GET", {**HEADERS, "sec-websocket-version": "8"})
    assert ("Sec-WebSocket-Version", "13") in err.value.headers


def test_post_is_refused():
    with pytest.raises(ws.HandshakeError) as err:
        ws.server_handshake("POST", HEADERS)
    assert err.value.status == 405


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 70000])
def test_round_trip_every_length_encoding(size):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = ws.encode_frame(ws.BINARY, payload, mask=b"\x01\x02\x03\x04")
    assert ws.Decoder(masked=True).feed(frame) == [ws.Message(ws.BINARY, payload)]
    assert ws.Decoder(masked=False).feed(ws.encode_frame(ws.BINARY, payload)) == [ws.Message(ws.BINARY, payload)]


def test_rfc_examples():
    # RFC 6455 5.7: unmasked and masked "Hello", a 256-byte binary header
    assert ws.encode_frame(ws.TEXT, b"Hello") == bytes.fromhex("810548656c6c6f")
    assert ws.encode_frame(ws.TEXT, b"Hello", mask=bytes.fromhex("37fa213d")) == bytes.fromhex("818537fa213d7f9f4d5158")
    assert ws.encode_frame(ws.BINARY, bytes(256))[:4] == bytes.fromhex("827e0100")


def test_byte_by_byte_and_fragments_and_interleaved_ping():
    mask = b"abcd"
    wire = (ws.encode_frame(ws.TEXT, b"Hel", fin=False, mask=mask) + ws.encode_frame(ws.PING, b"p", mask=mask)
            + ws.encode_frame(ws.CONT, b"lo", mask=mask))
    dec = ws.Decoder(masked=True)
    got = []
    for b in wire:
        got += dec.feed(bytes([b]))
    assert got == [ws.Message(ws.PING, b"p"), ws.Message(ws.TEXT, b"Hello")]


def test_close_code():
    msg = ws.Decoder(masked=True).feed(ws.encode_frame(ws.CLOSE, ws.close_payload(1001, "bye"), mask=b"abcd"))[0]
    assert (msg.opcode, msg.close_code, msg.data[2:]) == (ws.CLOSE, 1001, b"bye")


@pytest.mark.parametrize("wire, code", [
    (ws.encode_frame(ws.TEXT, b"x"), ws.PROTOCOL_ERROR),  # unmasked from a client
    (bytes([0x81 | 0x40, 0x80]) + b"abcd", ws.PROTOCOL_ERROR),  # RSV1 without an extension
    (bytes([0x83, 0x80]) + b"abcd", ws.PROTOCOL_ERROR),  # unknown opcode
    (ws.encode_frame(ws.CONT, b"x", mask=b"abcd"), ws.PROTOCOL_ERROR),  # continuation of nothing
    (bytes([0x09, 0x80]) + b"abcd", ws.PROTOCOL_ERROR),  # fragmented ping
    (bytes([0x88, 0x81]) + b"abcd" + b"x", ws.PROTOCOL_ERROR),  # one-byte close payload
    (bytes([0x82, 0xFF]) + (1 << 40).to_bytes(8, "big"), ws.TOO_BIG),
])
def test_protocol_errors(wire, code):
    with pytest.raises(ws.ProtocolError) as err:
        ws.Decoder(masked=True).feed(wire)
    assert err.value.code == code


def test_new_message_inside_a_fragmented_one_is_an_error():
    dec = ws.Decoder(masked=True)
    dec.feed(ws.encode_frame(ws.TEXT, b"a", fin=False, mask=b"abcd"))
    with pytest.raises(ws.ProtocolError):
        dec.feed(ws.encode_frame(ws.TEXT, b"b", mask=b"abcd"))


def test_control_frames_are_limited_to_125_bytes():
    with pytest.raises(ValueError):
        ws.encode_frame(ws.PING, bytes(126))
