"""daemon/api/wsconn.py: the websocket driver over a fake hijacked connection."""

from dockyard.daemon.api.wsconn import WebSocketConnection
from dockyard.wire import websocket as ws


class FakeConn:
    def __init__(self, incoming: list[bytes]) -> None:
        self.incoming, self.sent = list(incoming), b""

    def recv(self, n: int = 65536) -> bytes:
        return self.incoming.pop(0) if self.incoming else b""

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def wait_hangup(self, timeout: float) -> bool:
        return True


def sent_messages(conn: FakeConn) -> list[ws.Message]:
    return ws.Decoder(masked=False).feed(conn.sent)


def test_data_in_pings_answered_close_echoed():
    m = b"wxyz"
    fake = FakeConn([ws.encode_frame(ws.BINARY, b"ls\n", mask=m) + ws.encode_frame(ws.PING, b"hb", mask=m),
                     ws.encode_frame(ws.CLOSE, ws.close_payload(1000), mask=m), b"never read"])
    c = WebSocketConnection(fake)
    assert c.recv() == b"ls\n"
    assert c.recv() == b""  # close reads as EOF
    assert c.recv() == b""
    assert [(x.opcode, x.data) for x in sent_messages(fake)] == [(ws.PONG, b"hb"), (ws.CLOSE, ws.close_payload(1000))]


def test_output_frames_binary_or_text_and_one_close():
    fake = FakeConn([])
    c = WebSocketConnection(fake, binary=False)
    c.sendall(b"hello")
    c.close()
    c.close()
    assert sent_messages(fake) == [ws.Message(ws.TEXT, b"hello"), ws.Message(ws.CLOSE, ws.close_payload(1000))]


def test_protocol_error_closes_with_its_code():
    fake = FakeConn([ws.encode_frame(ws.TEXT, b"unmasked")])
    c = WebSocketConnection(fake)
    assert c.recv() == b""
    assert sent_messages(fake)[0].close_code == ws.PROTOCOL_ERROR


def test_a_close_frame_counts_as_hangup():
    class OpenForever(FakeConn):
        def wait_hangup(self, timeout: float) -> bool:
            return False

    fake = OpenForever([ws.encode_frame(ws.CLOSE, b"", mask=b"abcd")])
    c = WebSocketConnection(fake)
    assert c.wait_hangup(0) is False
    assert c.recv() == b""
    assert c.wait_hangup(0) is True
