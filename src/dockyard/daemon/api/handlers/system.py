"""``/_ping``, ``/version``, ``/info``, ``/system/df``, ``/events``."""

from __future__ import annotations

from typing import Any

import json
import time
from collections.abc import Iterator

from dockyard.wire import filters
from dockyard.wire.models import events as event_models

from ..messages import Request, Response, StreamResponse
from ..routes import Handler

_PING_HEADERS = [
    ("Builder-Version", "1"),
    ("Cache-Control", "no-cache, no-store, must-revalidate"),
    ("Pragma", "no-cache"),
    ("Swarm", "inactive"),
]


def ping(req: Request) -> Response:
    # Docker answers text/plain "OK"; HEAD gets the same headers, no body.
    return Response(status=200, body=b"OK", content_type="text/plain; charset=utf-8", headers=list(_PING_HEADERS))


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    system = services.system

    def version(req: Request) -> Response:
        return Response.json(system.version_json())

    def info(req: Request) -> Response:
        return Response.json(system.info_json())

    def df(req: Request) -> Response:
        return Response.json(system.df_json())

    def events(req: Request) -> StreamResponse:
        return events_stream(services.events, req)

    return [
        ("GET", "/_ping", ping),
        ("HEAD", "/_ping", ping),
        ("GET", "/version", version),
        ("GET", "/info", info),
        ("GET", "/system/df", df),
        ("GET", "/events", events),
    ]


_HEARTBEAT = 1.0  # seconds between checks that the client is still there


def events_stream(bus: Any, req: Request) -> StreamResponse:
    """``GET /events``: history since ``since``, then live events until
    ``until`` (or until the client leaves), one JSON object per line."""
    parsed = filters.parse(req.query_str("filters"))
    event_models.validate(parsed)
    since = event_models.parse_time(req.query_str("since"))
    until = event_models.parse_time(req.query_str("until"))
    sub = bus.subscribe(since_ns=since)

    def body() -> Iterator[bytes]:
        try:
            while True:
                timeout = _HEARTBEAT
                if until is not None:
                    timeout = max(0.0, min(timeout, (until - time.time_ns()) / 1e9))
                ev = sub.get(timeout)
                if ev is None:
                    if sub.closed or (until is not None and time.time_ns() >= until):
                        return
                    yield b""  # heartbeat: the server checks the client is still there
                    continue
                if until is not None and ev.time_ns > until:
                    return
                if event_models.matches(ev, parsed):
                    yield json.dumps(event_models.encode(ev)).encode() + b"\n"
        finally:
            sub.close()

    return StreamResponse(body())
