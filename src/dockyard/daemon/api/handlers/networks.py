"""Network endpoints: list, inspect, create, remove, connect, disconnect, prune."""

from __future__ import annotations

from typing import Any

from dockyard.errors import InvalidArgument, NotImplemented_
from dockyard.wire import filters

from ..messages import Request, Response
from ..routes import Handler

LIST_FILTERS = ("dangling", "driver", "id", "label", "name", "scope", "type")


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    def networks() -> Any:
        if services.networks is None:
            raise NotImplemented_("networking is not available on this daemon")
        return services.networks

    def list_(req: Request) -> Response:
        parsed = filters.parse(req.query_str("filters"), LIST_FILTERS)
        return Response.json(networks().list_json(parsed))

    def inspect(req: Request) -> Response:
        return Response.json(networks().inspect_json(req.params["id"]))

    def create(req: Request) -> Response:
        body = req.json_body()
        if not isinstance(body, dict):
            raise InvalidArgument("invalid network config: body must be a JSON object")
        return Response.json(networks().create(body), status=201)

    def remove(req: Request) -> Response:
        networks().remove(req.params["id"])
        return Response.empty(204)

    def connect(req: Request) -> Response:
        body = req.json_body()
        if not isinstance(body, dict):
            raise InvalidArgument("invalid body: must be a JSON object")
        networks().connect(req.params["id"], body)
        return Response(status=200, content_type=None)

    def disconnect(req: Request) -> Response:
        body = req.json_body()
        if not isinstance(body, dict):
            raise InvalidArgument("invalid body: must be a JSON object")
        networks().disconnect(req.params["id"], body)
        return Response(status=200, content_type=None)

    def prune(req: Request) -> Response:
        return Response.json(networks().prune())

    return [
        ("GET", "/networks", list_),
        ("GET", "/networks/", list_),
        ("POST", "/networks/create", create),
        ("POST", "/networks/prune", prune),
        ("GET", "/networks/{id}", inspect),
        ("DELETE", "/networks/{id}", remove),
        ("POST", "/networks/{id}/connect", connect),
        ("POST", "/networks/{id}/disconnect", disconnect),
    ]
