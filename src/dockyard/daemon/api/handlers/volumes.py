"""``/volumes`` (create, list, inspect, remove, prune) and ``/containers/{id}/archive`` (cp)."""

from __future__ import annotations

from typing import Any

from dockyard.errors import InvalidArgument, NotImplemented_
from dockyard.wire import filters, pathstat

from ..messages import Request, Response, StreamResponse
from ..routes import Handler

LIST_FILTERS = ("name", "driver", "label", "dangling")
PRUNE_FILTERS = ("label", "label!", "all")


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    def volumes() -> Any:
        v = getattr(services, "volumes", None)
        if v is None:
            raise NotImplemented_("volumes are not available on this daemon")
        return v

    def archive() -> Any:
        a = getattr(services, "archive", None)
        if a is None:
            raise NotImplemented_("cp is not available on this daemon")
        return a

    def list_(req: Request) -> Response:
        return Response.json(volumes().list_json(filters.parse(req.query_str("filters"), LIST_FILTERS)))

    def create(req: Request) -> Response:
        body = req.json_body(required=False) or {}
        if not isinstance(body, dict):
            raise InvalidArgument("invalid JSON: volume create body must be an object")
        return Response.json(volumes().create(body), status=201)

    def inspect(req: Request) -> Response:
        return Response.json(volumes().inspect_json(req.params["name"]))

    def remove(req: Request) -> Response:
        volumes().remove(req.params["name"], force=req.query_bool("force"))
        return Response.empty(204)

    def prune(req: Request) -> Response:
        parsed = filters.parse(req.query_str("filters"), PRUNE_FILTERS)
        return Response.json(volumes().prune(parsed, api_version=req.api_version))

    def _path(req: Request) -> str:
        path = req.query_str("path")
        if not path:
            raise InvalidArgument("path must not be empty")  # moby: "Path cannot be empty"
        return path

    def head(req: Request) -> Response:
        info = archive().stat(req.params["id"], _path(req))
        return Response(status=200, content_type=None, headers=[(pathstat.HEADER, pathstat.encode(info))])

    def get(req: Request) -> StreamResponse:
        info, chunks = archive().get(req.params["id"], _path(req))
        return StreamResponse(chunks, content_type="application/x-tar",
                              headers=[(pathstat.HEADER, pathstat.encode(info))])

    def put(req: Request) -> Response:
        archive().put(req.params["id"], _path(req), req.body,
                      no_overwrite_dir_non_dir=req.query_bool("noOverwriteDirNonDir"),
                      copy_uidgid=req.query_bool("copyUIDGID"))
        return Response(status=200, content_type=None)

    return [
        ("GET", "/volumes", list_),
        ("POST", "/volumes/create", create),
        ("POST", "/volumes/prune", prune),
        ("GET", "/volumes/{name}", inspect),
        ("DELETE", "/volumes/{name}", remove),
        ("HEAD", "/containers/{id}/archive", head),
        ("GET", "/containers/{id}/archive", get),
        ("PUT", "/containers/{id}/archive", put),
    ]
