"""Blob and upload handlers (distribution-spec "Pulling blobs", "Pushing blobs").

Each handler takes the app's collaborators explicitly and returns a
``Response`` or raises ``RegistryError``; the HTTP driver does the rest.
Bytes stream from the request body straight into the content store's
writer in ``CHUNK`` pieces; nothing holds a whole blob in memory.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote

from dockyard.errors import DigestMismatch

from . import codes, uploads
from .access import Gate, Identity
from .codes import RegistryError
from .messages import BodyReader, ClientGone, FileBody, Request, Response
from .routes import Route, check_digest, is_valid_name
from .sessions import UploadSessions, _Held
from .storage import RegistryStorage

CHUNK = 1 << 20
OCTETS = "application/octet-stream"


def _blob_location(name: str, digest: str) -> str:
    return f"/v2/{name}/blobs/{digest}"


def _upload_headers(name: str, session: uploads.UploadSession) -> list[tuple[str, str]]:
    return [("Location", f"/v2/{name}/blobs/uploads/{quote(session.id)}"),
            ("Range", session.range_header), ("Docker-Upload-UUID", session.id)]


def _created(name: str, digest: str) -> Response:
    return Response(201, [("Location", _blob_location(name, digest)), ("Docker-Content-Digest", digest)])


def _pump(body: BodyReader, held: _Held, limit: int | None) -> int:
    """Copy the body into the session's writer; the offset moves even if the client drops."""
    total = 0
    while limit is None or total < limit:
        want = CHUNK if limit is None else min(CHUNK, limit - total)
        data = body.read(want)
        if not data:
            break
        held.writer.write(data)
        held.received(len(data))
        total += len(data)
    return total


def get_blob(storage: RegistryStorage, req: Request, route: Route, *, head: bool) -> Response:
    info = storage.blob_info(route.name, route.reference)
    headers = [("Docker-Content-Digest", info.digest), ("Content-Type", OCTETS), ("Accept-Ranges", "bytes"),
               ("ETag", f'"{info.digest}"')]
    try:
        span = uploads.parse_range(req.headers.get("range"), info.size)
    except RegistryError as exc:
        exc.headers.append(("Content-Range", f"bytes */{info.size}"))
        raise
    first, last = span if span else (0, info.size - 1)
    length = last - first + 1 if info.size else 0
    status = 206 if span else 200
    if span:
        headers.append(("Content-Range", f"bytes {first}-{last}/{info.size}"))
    if head:
        return Response(status, headers, content_length=length)
    return Response(status, headers, FileBody(storage.content.open(info.digest), first, length))


def delete_blob(storage: RegistryStorage, route: Route, *, enabled: bool) -> Response:
    if not enabled:
        raise RegistryError(codes.UNSUPPORTED, "deletion is disabled")
    storage.unlink_blob(route.name, route.reference)
    return Response(202)


def start_upload(storage: RegistryStorage, sessions: UploadSessions, gate: Gate, ident: Identity,
                 req: Request, route: Route) -> Response:
    q = parse_qs(req.query)
    name = route.name
    mount, source = q.get("mount", [""])[0], q.get("from", [""])[0]
    if mount:
        check_digest(mount)
        # Cross-repository mount (spec "Mounting a blob from another repository"): when the
        # source is unknown or not readable by this caller, fall back to a plain upload (202).
        if source and is_valid_name(source) and gate.permits(ident, "repository", source, ("pull",)) \
                and storage.has_blob(source, mount):
            storage.link_blob(name, mount)
            return _created(name, mount)
    digest = q.get("digest", [""])[0]
    if digest:
        check_digest(digest)
        return _monolithic(storage, sessions, req, name, digest)
    session = sessions.open(name)
    return Response(202, _upload_headers(name, session))


def _monolithic(storage: RegistryStorage, sessions: UploadSessions, req: Request, name: str,
                digest: str) -> Response:
    """POST with ``?digest=``: the whole blob in one request."""
    session = sessions.open(name)
    with sessions.acquire(name, session.id) as held:
        try:
            _pump(req.body, held, _content_length(req))
            _commit(storage, held, name, digest)
        finally:
            if held.session.state == uploads.OPEN:
                held.writer.abort()
                held.close()
    return _created(name, digest)


def _commit(storage: RegistryStorage, held: _Held, name: str, digest: str) -> None:
    try:
        held.writer.commit(held.session.offset, digest)
    except DigestMismatch:
        held.close()  # the writer is gone with its bytes; the session with it
        raise RegistryError(codes.DIGEST_INVALID, detail={"digest": digest}) from None
    storage.link_blob(name, digest)
    held.finish()


def upload_status(sessions: UploadSessions, route: Route) -> Response:
    session = sessions.get(route.name, route.reference)
    return Response(204, _upload_headers(route.name, session))


def patch_upload(sessions: UploadSessions, req: Request, route: Route) -> Response:
    with sessions.acquire(route.name, route.reference) as held:
        length = uploads.check_patch(held.session, req.headers.get("content-range"), _content_length(req))
        try:
            got = _pump(req.body, held, length)
        except ClientGone:
            raise  # what arrived is kept: the client asks for the offset and resumes
        if length is not None and got != length:
            raise RegistryError(codes.SIZE_INVALID, detail={"expected": length, "received": got})
        return Response(202, _upload_headers(route.name, held.session))


def put_upload(storage: RegistryStorage, sessions: UploadSessions, req: Request, route: Route) -> Response:
    digest = parse_qs(req.query).get("digest", [""])[0]
    with sessions.acquire(route.name, route.reference) as held:
        uploads.check_put(held.session, digest)
        check_digest(digest)
        length = uploads.check_patch(held.session, req.headers.get("content-range"), _content_length(req))
        _pump(req.body, held, length)
        _commit(storage, held, route.name, digest)
    return _created(route.name, digest)


def cancel_upload(sessions: UploadSessions, route: Route) -> Response:
    with sessions.acquire(route.name, route.reference) as held:
        held.writer.abort()
        held.close()
    return Response(204)


def _content_length(req: Request) -> int | None:
    value = req.headers.get("content-length")
    if value is None:
        return None
    try:
        n = int(value)
    except ValueError:
        raise RegistryError(codes.SIZE_INVALID, "bad Content-Length") from None
    return n
