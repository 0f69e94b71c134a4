"""``/_ping``, ``/version``, ``/info``."""

from __future__ import annotations

from typing import Any

from ..messages import Request, Response
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

    return [
        ("GET", "/_ping", ping),
        ("HEAD", "/_ping", ping),
        ("GET", "/version", version),
        ("GET", "/info", info),
    ]
