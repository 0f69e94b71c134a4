"""Images and container filesystems as files: save, import, history, changes, export, commit.

Tar responses stream as they are produced (``application/x-tar``); every
name is resolved before the headers go out, so an unknown image or
container is still a proper 404.  ``POST /images/create?fromSrc=`` reaches
``import_image`` through the hook in ``images_registry.create``.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from typing import Any, BinaryIO

from dockyard.errors import InvalidArgument, NotImplemented_, Unavailable
from dockyard.wire import jsonmessage

from ..messages import Request, Response, StreamResponse
from ..routes import Handler

TAR = "application/x-tar"
_URL_TIMEOUT = 60


def _transfer(services: Any) -> Any:
    t = getattr(services, "transfer", None)
    if t is None:
        raise NotImplemented_("image archives are not wired in this daemon")
    return t


def import_image(services: Any, req: Request) -> Response:
    """``POST /images/create?fromSrc=-|URL`` (``docker import``)."""
    src = req.query_str("fromSrc") or ""
    kw = dict(src=src, repo=req.query_str("repo") or "", tag=req.query_str("tag") or "",
              message=req.query_str("message") or "", changes=req.query.get("changes", []),
              platform=req.query_str("platform") or "")
    if src == "-":
        image_id = _transfer(services).import_(req.body, **kw)
    else:
        with _open_url(src) as body:
            image_id = _transfer(services).import_(body, **kw)
    return Response(200, jsonmessage.status(image_id))


def _open_url(src: str) -> BinaryIO:
    """A URL the daemon downloads (Docker's ``fromSrc=http://...``); a bare host defaults to http."""
    url = src if "://" in src else "http://" + src
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f"invalid import source {src!r}: expected -, or an http(s) URL")
    try:
        return urllib.request.urlopen(url, timeout=_URL_TIMEOUT)  # type: ignore[no-any-return]
    except OSError as exc:
        raise Unavailable(f"cannot download {src}: {getattr(exc, 'reason', exc)}") from None


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    def save_many(req: Request) -> StreamResponse:
        names = [n for v in req.query.get("names", []) for n in v.split(",") if n]
        return StreamResponse(_transfer(services).save(names, req.query_str("format") or "docker"), content_type=TAR)

    def save_one(req: Request) -> StreamResponse:
        return StreamResponse(_transfer(services).save([req.params["name"]], req.query_str("format") or "docker"),
                              content_type=TAR)

    def history(req: Request) -> Response:
        return Response.json(_transfer(services).history(req.params["name"]))

    def changes(req: Request) -> Response:
        return Response.json(_fs(services).changes(req.params["id"]))

    def export(req: Request) -> StreamResponse:
        return StreamResponse(_fs(services).export(req.params["id"]), content_type=TAR)

    def commit(req: Request) -> Response:
        body = req.json_body(required=False)
        if body is not None and not isinstance(body, dict):
            raise InvalidArgument("invalid JSON: the commit body must be a container config object")
        image_id = _fs(services).commit(
            req.query_str("container") or "", repo=req.query_str("repo") or "", tag=req.query_str("tag") or "",
            author=req.query_str("author") or "", comment=req.query_str("comment") or "",
            changes=req.query.get("changes", []), pause=req.query_bool("pause", True), config=body)
        return Response.json({"Id": image_id}, status=201)

    return [
        ("GET", "/images/get", save_many),
        ("GET", "/images/{name:path}/get", save_one),
        ("GET", "/images/{name:path}/history", history),
        ("GET", "/containers/{id}/changes", changes),
        ("GET", "/containers/{id}/export", export),
        ("POST", "/commit", commit),
    ]


def _fs(services: Any) -> Any:
    fs = getattr(services, "containerfs", None)
    if fs is None:
        raise NotImplemented_("container filesystems are not wired in this daemon")
    return fs
