"""Error kind → HTTP status and Docker error body: the single mapping.

Follows moby ``daemon/server/httpstatus/status.go``.  Handlers never pick a
status for an error; they raise ``dockyard.errors`` kinds.
"""

from __future__ import annotations

import json
import logging

from dockyard import errors as e

from .messages import Response

log = logging.getLogger("dockyard.api")

# Ordered most-specific first; the first isinstance match wins.
STATUS_BY_KIND: tuple[tuple[type[e.EngineError], int], ...] = (
    (e.InvalidArgument, 400),
    (e.NotFound, 404),
    (e.AlreadyExists, 409),
    (e.Conflict, 409),
    (e.NotModified, 304),
    (e.FailedPrecondition, 400),
    (e.Unauthorized, 401),
    (e.PermissionDenied, 403),
    (e.Unavailable, 503),
    (e.NotImplemented_, 501),
    (e.Internal, 500),
)


def status_for(exc: BaseException) -> int:
    for kind, status in STATUS_BY_KIND:
        if isinstance(exc, kind):
            return status
    return 500


def error_response(exc: BaseException) -> Response:
    """The response for ``exc``; unexpected exceptions are logged with traceback."""
    status = status_for(exc)
    if status == 304:
        return Response(status=304, content_type=None)  # 304 carries no body
    if not isinstance(exc, e.EngineError):
        log.error("unexpected error handling request", exc_info=exc)
    message = str(exc) or type(exc).__name__
    body: dict[str, object] = {"message": message}
    if isinstance(exc, e.StartFailed):
        body["ExitCode"] = exc.exit_code
    return Response(status=status, body=json.dumps(body).encode() + b"\n")
