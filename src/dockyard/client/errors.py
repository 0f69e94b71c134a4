"""HTTP error response → ``dockyard.errors`` kind: the single client-side mapping.

The status decides the kind; the message is the JSON body's ``message``.
409 maps to ``Conflict`` (the daemon's AlreadyExists is also 409).
"""

from __future__ import annotations

from dockyard import errors as e

from . import fastjson as json  # not the json module: CLI start-up (see fastjson.py)

KIND_BY_STATUS: dict[int, type[e.EngineError]] = {
    304: e.NotModified,
    400: e.InvalidArgument,
    401: e.Unauthorized,
    403: e.PermissionDenied,
    404: e.NotFound,
    409: e.Conflict,
    501: e.NotImplemented_,
    503: e.Unavailable,
}


class DaemonError(Exception):
    """Mixin marking an error that came from the daemon (the CLI prefixes
    "Error response from daemon: ")."""


_CLASSES: dict[type[e.EngineError], type[e.EngineError]] = {}


def _daemon_class(kind: type[e.EngineError]) -> type[e.EngineError]:
    # A subclass of the kind *and* DaemonError, so ``except NotFound`` works
    # and the CLI can still tell where the error came from.
    cls = _CLASSES.get(kind)
    if cls is None:
        cls = type(kind.__name__, (kind, DaemonError), {"__module__": __name__})
        _CLASSES[kind] = cls
    return cls


def error_from_response(status: int, body: bytes) -> e.EngineError:
    message = ""
    doc: object = None
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("message"), str):
        message = doc["message"]
    elif body:
        message = body.decode("utf-8", "replace").strip()
    if status == 400 and isinstance(doc, dict) and isinstance(doc.get("ExitCode"), int):
        exc: e.EngineError = _start_failed(message, doc["ExitCode"])
        return exc
    kind = KIND_BY_STATUS.get(status, e.Internal)
    return _daemon_class(kind)(message or f"HTTP {status}")


class StartFailed(e.StartFailed, DaemonError):
    pass


def _start_failed(message: str, exit_code: int) -> e.StartFailed:
    return StartFailed(message, exit_code=exit_code)


def is_from_daemon(exc: BaseException) -> bool:
    return isinstance(exc, DaemonError)
