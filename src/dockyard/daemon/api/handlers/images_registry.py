"""Image endpoints that involve names and registries: create (pull), push, tag, delete, prune, auth, search.

Pull and push stream Docker's JSON progress.  As in moby, an error before
the first message is an ordinary HTTP error (the docker CLI then prints
"Error response from daemon: ..."); once streaming, it is sent in-band.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from dockyard.core.progress import Progress, ProgressSink
from dockyard.errors import EngineError, InvalidArgument, NotImplemented_
from dockyard.wire import filters, jsonmessage, registryauth

from ..messages import Request, Response, StreamResponse
from ..routes import Handler

log = logging.getLogger("dockyard.api")

PRUNE_FILTERS = ("dangling", "label", "label!", "until")
_DONE = object()


def progress_stream(run: Callable[[ProgressSink], None]) -> StreamResponse:
    """Run ``run(sink)`` in a thread and stream what it reports (see the module docstring)."""
    q: queue.Queue[Any] = queue.Queue()

    def worker() -> None:
        try:
            run(q.put)
            q.put(_DONE)
        except EngineError as exc:
            q.put(exc)
        except Exception as exc:  # a bug: log it, tell the client
            log.exception("image operation failed")
            q.put(exc)

    threading.Thread(target=worker, name="image-progress", daemon=True).start()
    first = q.get()
    if isinstance(first, BaseException):
        raise first  # nothing sent yet: a proper HTTP status

    def body() -> Iterator[bytes]:
        starts: dict[str, float] = {}
        item = first
        while True:
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                yield jsonmessage.error(str(item) or type(item).__name__)
                return
            yield _encode(item, starts)
            item = q.get()

    return StreamResponse(body())


def _encode(p: Progress, starts: dict[str, float]) -> bytes:
    if p.aux is not None:
        return jsonmessage.aux(dict(p.aux))
    if not p.id:
        return jsonmessage.status(p.status)
    now = time.time()
    if p.total:
        start = starts.setdefault(p.id + p.status, now)
        return jsonmessage.progress(p.status, p.id, p.current, p.total, start=start, now=now)
    return jsonmessage.progress(p.status, p.id)


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    images = services.images

    def create(req: Request) -> Response | StreamResponse:
        if req.query_str("fromSrc") is not None:
            from . import imagefs  # docker import: image formats live there

            return imagefs.import_image(services, req)
        image = req.query_str("fromImage") or ""
        if not image:
            raise InvalidArgument("fromImage or fromSrc is required")
        tag = req.query_str("tag") or ""
        ref = _with_tag(image, tag)
        creds = registryauth.decode_header(req.header(registryauth.HEADER))
        platform = req.query_str("platform") or ""
        from dockyard.core import reference

        parsed = reference.parse(ref, default_tag=False)  # a bad name is a 400 before anything streams
        all_tags = not parsed.tag and not parsed.digest  # moby: no tag anywhere pulls every tag
        return progress_stream(lambda sink: images.pull(ref, platform=platform, credentials=creds, sink=sink,
                                                        all_tags=all_tags))

    def push(req: Request) -> StreamResponse:
        name = req.params["name"]
        tag = req.query_str("tag") or ""
        creds = registryauth.decode_header(req.header(registryauth.HEADER))
        return progress_stream(lambda sink: images.push(name, tag=tag, credentials=creds, sink=sink))

    def tag(req: Request) -> Response:
        images.tag(req.params["name"], req.query_str("repo") or "", req.query_str("tag") or "")
        return Response.empty(201)

    def delete(req: Request) -> Response:
        return Response.json(images.remove(req.params["name"], force=req.query_bool("force"),
                                           noprune=req.query_bool("noprune")))

    def prune(req: Request) -> Response:
        return Response.json(images.prune(filters.parse(req.query_str("filters"), PRUNE_FILTERS)))

    def auth(req: Request) -> Response:
        body = req.json_body()
        return Response.json(images.login(registryauth.from_json(body)))

    def search(req: Request) -> Response:
        raise NotImplemented_("search is not supported by Dockyard: it has no registry index to query; "
                              "use the registry's own catalog or web interface")

    return [
        ("POST", "/images/create", create),
        ("POST", "/images/prune", prune),
        ("GET", "/images/search", search),
        ("POST", "/auth", auth),
        ("POST", "/images/{name:path}/push", push),
        ("POST", "/images/{name:path}/tag", tag),
        ("DELETE", "/images/{name:path}", delete),
    ]


def _with_tag(image: str, tag: str) -> str:
    """moby's fromImage + tag: the tag (or a digest given as tag) replaces the image's own."""
    if not tag:
        return image
    last = image.rsplit("/", 1)[-1]
    repo = image.split("@", 1)[0]
    if ":" in last.split("@", 1)[0]:
        repo = repo[: repo.rfind(":")]
    return f"{repo}@{tag}" if tag.startswith("sha256:") else f"{repo}:{tag}"
