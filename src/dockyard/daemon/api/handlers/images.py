"""Image endpoints: list, inspect, load."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from dockyard.errors import EngineError
from dockyard.wire import filters, jsonmessage, versions

from ..messages import Request, Response, StreamResponse
from ..routes import Handler

log = logging.getLogger("dockyard.api")

LIST_FILTERS = ("before", "dangling", "label", "reference", "since", "until")

# moby's empty container.Config, as image inspect showed it for images not made by commit.
_EMPTY_CONTAINER_CONFIG = {"Hostname": "", "Domainname": "", "User": "", "AttachStdin": False,
                           "AttachStdout": False, "AttachStderr": False, "Tty": False, "OpenStdin": False,
                           "StdinOnce": False, "Env": None, "Cmd": None, "Image": "", "Volumes": None,
                           "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": None}


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    images = services.images

    def list_(req: Request) -> Response:
        parsed = filters.parse(req.query_str("filters"), LIST_FILTERS)
        return Response.json(images.list_json(req.query_bool("all"), parsed))

    def inspect(req: Request) -> Response:
        body = images.inspect_json(req.params["name"])
        # docker-compose 1.x negotiates the newest version yet reads ContainerConfig.Volumes when it
        # recreates (a KeyError against Docker >= 26): it gets the pre-1.45 fields whatever the version.
        legacy_compose = (req.header("user-agent") or "").startswith("docker-compose/1.")
        if (versions.compare(req.api_version, "1.45") < 0 or legacy_compose) and isinstance(body, dict):
            body = dict(body)
            # Before API 1.45 moby always sent these; docker-compose 1.29 reads ContainerConfig.Volumes.
            body.setdefault("Container", "")
            body.setdefault("ContainerConfig", _EMPTY_CONTAINER_CONFIG)
        return Response.json(body)

    def load(req: Request) -> StreamResponse:
        quiet = req.query_bool("quiet")

        def body() -> Iterator[bytes]:
            # As moby: 200 first, then results or an in-band error message.
            try:
                names = images.load(req.body, quiet)
            except EngineError as exc:
                yield jsonmessage.error(str(exc))
                return
            except Exception as exc:
                log.exception("image load failed")
                yield jsonmessage.error(str(exc) or type(exc).__name__)
                return
            for name in names:
                label = "Loaded image ID" if name.startswith("sha256:") else "Loaded image"
                yield jsonmessage.stream(f"{label}: {name}\n")

        return StreamResponse(body())

    return [
        ("GET", "/images/json", list_),
        ("POST", "/images/load", load),
        ("GET", "/images/{name:path}/json", inspect),
    ]
