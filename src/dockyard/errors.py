"""Errors by kind, shared by every layer.

Every error raised on purpose is an ``EngineError``; its *kind* (the direct
subclass of ``EngineError`` it descends from) decides the HTTP status in
exactly one place (``daemon/api/errors.py``) and the client maps the status
back in ``client/errors.py``.  Never classify an error by its message.

    EngineError
    ├── InvalidArgument          400
    │   └── InvalidReference
    ├── NotFound                 404
    │   └── ImageNotFound
    ├── AlreadyExists            409
    ├── Conflict                 409
    ├── NotModified              304
    ├── FailedPrecondition       400
    │   └── DigestMismatch
    ├── Unauthorized             401
    ├── PermissionDenied         403
    ├── Unavailable              503
    │   └── DaemonUnreachable    (client side: socket missing / refused)
    ├── NotImplemented           501
    └── Internal                 500
        └── RuntimeFailure       carries the failing step and, when the
                                 container's command could not run, the exit
                                 code Docker reports (126 / 127)

Messages are lowercase-first where we write them, no final period, except
where Docker's exact text is the contract.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error raised on purpose."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgument(EngineError):
    pass


class InvalidReference(InvalidArgument):
    pass


class NotFound(EngineError):
    pass


class ImageNotFound(NotFound):
    pass


class AlreadyExists(EngineError):
    pass


class Conflict(EngineError):
    pass


class NotModified(EngineError):
    pass


class FailedPrecondition(EngineError):
    pass


class DigestMismatch(FailedPrecondition):
    pass


class Unauthorized(EngineError):
    pass


class PermissionDenied(EngineError):
    pass


class Unavailable(EngineError):
    pass


class DaemonUnreachable(Unavailable):
    pass


class NotImplemented_(EngineError):
    """501. Named with a trailing underscore to avoid the builtin constant."""


class Internal(EngineError):
    pass


class RuntimeFailure(Internal):
    """The runtime could not create or start a container.

    ``step`` names what failed ("pivot_root", "exec", ...). ``exit_code`` is
    set when the container's own command could not be run: 127 (not found)
    or 126 (not executable), as Docker reports them.
    """

    def __init__(self, message: str, *, step: str = "", exit_code: int | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.exit_code = exit_code


class StartFailed(InvalidArgument):
    """Starting failed because of the container's configuration (Docker: 400).

    Raised by the container service when the runtime reports that the command
    cannot be executed; ``exit_code`` is 126 or 127 as in Docker.
    """

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


KINDS: tuple[type[EngineError], ...] = (
    InvalidArgument,
    NotFound,
    AlreadyExists,
    Conflict,
    NotModified,
    FailedPrecondition,
    Unauthorized,
    PermissionDenied,
    Unavailable,
    NotImplemented_,
    Internal,
)
