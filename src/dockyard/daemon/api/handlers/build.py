"""``POST /build`` (Docker's classic builder protocol) and ``POST /build/prune``.

The body is the context tar; progress is a JSON-message stream:
``{"stream": "Step 1/3 : FROM busybox\\n"}`` lines, ``{"aux": {"ID": id}}``
before ``Successfully built``, and an in-band ``errorDetail`` when a step
fails (the docker CLI prints it and exits 1).  Bad query parameters are a
400 before anything streams.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

from dockyard.core import reference
from dockyard.errors import EngineError, InvalidArgument, NotImplemented_
from dockyard.wire import buildsecrets, jsonmessage

from ..messages import Request, Response, StreamResponse
from ..routes import Handler

log = logging.getLogger("dockyard.api")
_DONE = object()


def _service(services: Any) -> Any:
    b = getattr(services, "build", None)
    if b is None:
        raise NotImplemented_("the builder is not wired in this daemon")
    return b


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    def build(req: Request) -> StreamResponse:
        from dockyard.daemon.services.build import options_from_query

        svc = _service(services)
        opts, dockerfile = options_from_query(req)
        try:  # dockyard build --secret (wire/buildsecrets.py); in memory for this build only
            opts.secrets = buildsecrets.decode(req.header(buildsecrets.HEADER))
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        for t in opts.tags:
            reference.parse(t)  # a bad tag is a 400 before the context is read
        ctx = svc.prepare(req.body, opts, dockerfile)
        q: queue.Queue[Any] = queue.Queue()

        def worker() -> None:
            try:
                image_id = svc.build(ctx, opts, lambda text: q.put(("stream", text)))
                q.put(("id", image_id))
                q.put(_DONE)
            except EngineError as exc:
                q.put(exc)
            except Exception as exc:  # a bug: log it, tell the client
                log.exception("build failed")
                q.put(exc)

        threading.Thread(target=worker, name="build", daemon=True).start()

        def body() -> Iterator[bytes]:
            while True:
                item = q.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    message = getattr(item, "message", None) or str(item) or type(item).__name__
                    yield jsonmessage.error(message, getattr(item, "code", None))
                    return
                kind, value = item
                if kind == "stream":
                    yield jsonmessage.stream(value)
                else:
                    yield jsonmessage.aux({"ID": value})
                    if opts.quiet:
                        yield jsonmessage.stream(value + "\n")
                    else:
                        yield jsonmessage.stream(f"Successfully built {value.split(':', 1)[-1][:12]}\n")
                        for tag in opts.tags:
                            yield jsonmessage.stream(f"Successfully tagged {reference.familiar(str(reference.parse(tag)))}\n")

        return StreamResponse(body())

    def prune(req: Request) -> Response:
        return Response.json(_service(services).prune())

    return [("POST", "/build", build), ("POST", "/build/prune", prune)]
