"""``GET /containers/{id}/stats`` (stream, ``stream=false``, ``one-shot``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..messages import Request, StreamResponse
from ..routes import Handler


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    def stats(req: Request) -> StreamResponse:
        svc = services.stats
        frames = svc.stats(req.params["id"], stream=req.query_bool("stream", True),
                           one_shot=req.query_bool("one-shot"))

        def body() -> Iterator[bytes]:
            for frame in frames:
                yield json.dumps(frame).encode() + b"\n"

        return StreamResponse(body())

    return [("GET", "/containers/{id}/stats", stats)] if getattr(services, "stats", None) is not None else []
