"""Interactive endpoints: attach (stdin + detach keys), resize, exec create/start/inspect/resize."""

from __future__ import annotations

from typing import Any

from dockyard.errors import InvalidArgument, RuntimeFailure
from dockyard.wire import detachkeys, stdcopy

from ..messages import HijackResponse, RawConnection, Request, Response
from ..routes import Handler
from ..streams import pump_output
from .containers import _stream_content_type


def _detach_keys(raw: str | None) -> bytes:
    return detachkeys.parse(raw or detachkeys.DEFAULT)


def _size(req: Request) -> tuple[int, int]:
    h, w = req.query_int("h", 0), req.query_int("w", 0)
    if h < 0 or w < 0 or h > 65535 or w > 65535:
        raise InvalidArgument(f"invalid terminal size {h}x{w}")
    return h, w


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    containers = services.containers
    execs = services.execs

    def attach(req: Request) -> HijackResponse:
        ref = req.params["id"]
        id, tty, open_stdin, stdin_once = containers.stdio_config(ref)
        keys = _detach_keys(req.query_str("detachKeys"))  # 400 for bad keys, before the hijack
        output = containers.attach(id, stdout=req.query_bool("stdout"), stderr=req.query_bool("stderr"),
                                   logs=req.query_bool("logs"), stream=req.query_bool("stream"))
        hub = containers.stdin_hub(id) if req.query_bool("stdin") and open_stdin else None

        def run(conn: RawConnection) -> None:
            if hub is None:
                pump_output(conn, output, tty=tty)
                return
            pump_output(conn, output, tty=tty, on_input=hub.write, detach_keys=keys,
                        on_input_eof=hub.close_stdin if stdin_once else None)

        return HijackResponse(run, content_type=_stream_content_type(req, tty))

    def resize(req: Request) -> Response:
        h, w = _size(req)
        containers.resize(req.params["id"], h, w)
        return Response.empty(200)

    def exec_create(req: Request) -> Response:
        return Response.json(execs.create(req.params["id"], req.json_body()), status=201)

    def exec_start(req: Request) -> Response | HijackResponse:
        body = req.json_body(required=False) or {}
        if not isinstance(body, dict):
            raise InvalidArgument("invalid JSON: exec start config must be a JSON object")
        rec = execs.get(req.params["id"])
        keys = _detach_keys(rec.detach_keys or None)
        tty = body.get("Tty")
        detach = bool(body.get("Detach"))
        try:
            run_ = execs.start(rec.id, detach=detach, tty=None if tty is None else bool(tty))
        except RuntimeFailure as exc:
            if detach or exc.exit_code is None:
                raise
            # As dockerd: the stream is already the client's, so the error goes down it and the
            # exit code (126/127) is what /exec/{id}/json reports.
            text = f"OCI runtime exec failed: exec failed: unable to start container process: {exc.message}: unknown\r\n"
            return HijackResponse(lambda conn: conn.sendall(text.encode() if rec.tty else stdcopy.encode(2, text.encode())),
                                  content_type=_stream_content_type(req, rec.tty))
        if run_ is None:
            return Response.empty(200)
        stdin = rec.attach_stdin

        def run(conn: RawConnection) -> None:
            pump_output(conn, run_, tty=rec.tty, on_input=run_.write if stdin else None,
                        detach_keys=keys if stdin else None, on_input_eof=run_.close_stdin if stdin else None)

        return HijackResponse(run, content_type=_stream_content_type(req, rec.tty))

    def exec_resize(req: Request) -> Response:
        h, w = _size(req)
        execs.resize(req.params["id"], h, w)
        return Response.empty(200)

    def exec_inspect(req: Request) -> Response:
        return Response.json(execs.inspect_json(req.params["id"]))

    return [
        ("POST", "/containers/{id}/attach", attach),
        ("POST", "/containers/{id}/resize", resize),
        ("POST", "/containers/{id}/exec", exec_create),
        ("POST", "/exec/{id}/start", exec_start),
        ("POST", "/exec/{id}/resize", exec_resize),
        ("GET", "/exec/{id}/json", exec_inspect),
    ]
