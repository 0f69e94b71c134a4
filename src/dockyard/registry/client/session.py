"""One registry endpoint spoken to with one set of credentials: drives the auth flow.

``Session.request`` runs ``RegistryAuth.flow`` over the transport (see
``auth.py``) and returns the caller's response.  ``check`` turns a registry
error response (distribution spec "error codes") into an error kind, worded
as Docker words it (``manifest unknown: manifest unknown``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import BinaryIO

from dockyard.errors import (EngineError, Internal, InvalidArgument, NotFound, PermissionDenied, Unauthorized,
                             Unavailable)

from .auth import HttpRequest, HttpResponse, RegistryAuth
from .transport import RawResponse, Transport

_TOKEN_BODY_LIMIT = 1 << 20
_ERROR_BODY_LIMIT = 64 << 10


class Session:
    def __init__(self, transport: Transport, base_url: str, auth: RegistryAuth) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.auth = auth

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(self, method: str, path: str, *, scopes: Iterable[str] = (),
                headers: Mapping[str, str] | None = None, body: bytes | BinaryIO | None = None) -> RawResponse:
        flow = self.auth.flow(HttpRequest(method, self.url(path), dict(headers or {}), body), scopes)
        req = next(flow)
        while True:
            raw = self.transport.open(req)
            if req.token_request:
                data = raw.read_all(_TOKEN_BODY_LIMIT)
                raw.close()
                resp = HttpResponse(raw.status, raw.headers, data)
            else:
                resp = HttpResponse(raw.status, raw.headers)
            was_token = req.token_request
            try:
                req = flow.send(resp)
            except StopIteration:
                return raw
            if not was_token:
                _drain(raw)  # the 401 that started the token dance

    def login(self) -> None:
        flow = self.auth.login_flow(HttpRequest("GET", self.url("/v2/")))
        req = next(flow)
        while True:
            raw = self.transport.open(req)
            data = raw.read_all(_TOKEN_BODY_LIMIT) if req.token_request else b""
            _drain(raw)
            try:
                req = flow.send(HttpResponse(raw.status, raw.headers, data))
            except StopIteration:
                return


def _drain(raw: RawResponse) -> None:
    """Read a small error body so the connection can be reused; drop big ones."""
    try:
        if int(raw.headers.get("content-length", "-1")) in range(0, _ERROR_BODY_LIMIT):
            raw.read()
    except (EngineError, ValueError):
        pass
    raw.close()


def error_message(body: bytes) -> str:
    """``code lower case: message`` of the first error in a distribution-spec error body."""
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    errs = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errs, list) or not errs or not isinstance(errs[0], dict):
        return ""
    parts = []
    for e in errs:
        if isinstance(e, dict):
            code = str(e.get("code") or "unknown").lower().replace("_", " ")
            msg = str(e.get("message") or "")
            parts.append(f"{code}: {msg}" if msg else code)
    return ", ".join(parts)


def check(raw: RawResponse, what: str, ok: tuple[int, ...] = (200,)) -> RawResponse:
    """Return ``raw`` if its status is in ``ok``; otherwise close it and raise the error's kind."""
    if raw.status in ok:
        return raw
    try:
        body = raw.read(_ERROR_BODY_LIMIT) if raw.status >= 400 else b""
    except EngineError:
        body = b""
    raw.close()
    raise status_error(raw.status, error_message(body), what)


def status_error(status: int, message: str, what: str) -> EngineError:
    if status == 401:
        return Unauthorized(message or "unauthorized: authentication required")
    if status == 403:
        return PermissionDenied(message or "denied: requested access to the resource is denied")
    if status == 404:
        return NotFound(message or f"{what}: not found")
    if status == 429 or status >= 500:
        return Unavailable(f"{what}: " + (message or f"received unexpected HTTP status: {status}"))
    if 400 <= status < 500:
        return InvalidArgument(f"{what}: " + (message or f"received unexpected HTTP status: {status}"))
    return Internal(f"{what}: unexpected HTTP status {status}")


__all__ = ["Session", "check", "error_message", "status_error"]
