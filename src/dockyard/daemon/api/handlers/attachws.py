"""``GET /containers/{id}/attach/ws``: attach over a WebSocket, as Docker serves it.

Docker (x/net/websocket): raw output, never multiplexed; binary frames from
API 1.28 on, text before; ``stdin``/``stdout``/``stderr`` honoured from 1.42
on (all three before); ``logs``, ``stream`` and ``detachKeys`` as for the
hijacked attach.  A request that is not a version-13 WebSocket handshake is
answered 400 (Docker's library does the same).
"""

from __future__ import annotations

from typing import Any

from dockyard.wire import detachkeys
from dockyard.wire import websocket as ws
from dockyard.wire.versions import parse as version_tuple

from ..messages import HijackResponse, RawConnection, Request, Response
from ..routes import Handler
from ..streams import pump_output
from ..wsconn import WebSocketConnection


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    containers = services.containers

    def attach_ws(req: Request) -> HijackResponse | Response:
        id, tty, open_stdin, stdin_once = containers.stdio_config(req.params["id"])  # 404 before the handshake
        try:
            switch = ws.server_handshake(req.method, req.headers)
        except ws.HandshakeError as exc:
            return Response(status=exc.status, body=f"{exc}\n".encode(), content_type="text/plain; charset=utf-8",
                            headers=list(exc.headers))
        keys = detachkeys.parse(req.query_str("detachKeys") or detachkeys.DEFAULT)
        new_api = version_tuple(req.api_version) >= (1, 42)
        stdin = req.query_bool("stdin") if new_api else True
        stdout = req.query_bool("stdout") if new_api else True
        stderr = req.query_bool("stderr") if new_api else True
        output = containers.attach(id, stdout=stdout, stderr=stderr, logs=req.query_bool("logs"),
                                   stream=req.query_bool("stream"))
        hub = containers.stdin_hub(id) if stdin and open_stdin else None
        binary = version_tuple(req.api_version) >= (1, 28)

        def run(conn: RawConnection) -> None:
            wsc = WebSocketConnection(conn, binary=binary)
            try:
                if hub is None:
                    pump_output(wsc, output, tty=True)  # tty=True: raw bytes, one frame per chunk
                else:
                    pump_output(wsc, output, tty=True, on_input=hub.write, detach_keys=keys,
                                on_input_eof=hub.close_stdin if stdin_once else None)
            finally:
                wsc.close()

        return HijackResponse(run, switch=("HTTP/1.1 101 Switching Protocols", switch))

    return [("GET", "/containers/{id}/attach/ws", attach_ws)]
