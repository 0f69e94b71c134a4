"""The registry application: ``Request`` in, ``Response`` out, no sockets.

``RegistryApp.handle`` routes (``routes``), passes the gate (``access``),
calls one handler, and turns every failure into the spec's JSON error with
its status (``codes``), all in this one place.  Blob and upload handlers
live in ``blobs``; manifests, tags, catalog and referrers are here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

from dockyard.oci.image import OCI_INDEX

from . import blobs, codes, manifests
from .access import Gate, Identity
from .codes import RegistryError
from .messages import ClientGone, Request, Response
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .metrics import Metrics
from .routes import Route, route
from .sessions import UploadSessions
from .storage import RegistryStorage

log = logging.getLogger("dockyard.registry")

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
JSON = "application/json"
SWEEP_EVERY = 60.0  # seconds between sweeps for expired uploads


class RegistryApp:
    def __init__(self, storage: RegistryStorage, sessions: UploadSessions, gate: Gate, metrics: Metrics,
                 clock: Callable[[], float], *, delete_enabled: bool = True) -> None:
        self.storage = storage
        self.sessions = sessions
        self.gate = gate
        self.metrics = metrics
        self.clock = clock
        self.delete_enabled = delete_enabled
        self._last_sweep = clock()
        metrics.gauge("registry_uploads_in_flight", "Blob upload sessions open.", lambda: len(sessions))

    def handle(self, req: Request) -> tuple[Response, str]:
        """The response and the endpoint name (for logs and metrics).  Never raises but ClientGone."""
        self._maybe_sweep()
        endpoint = "unknown"
        try:
            r = route(req.method, req.path)
            endpoint = r.endpoint
            ident = self.gate.check(r, req.headers, req.base_url)
            resp = self._dispatch(req, r, ident)
        except ClientGone:
            raise
        except Exception as exc:
            err = codes.from_exception(exc)
            if err.code is codes.INTERNAL:
                log.exception("%s %s failed", req.method, req.path)
            resp = Response(err.status, err.headers + [("Content-Type", JSON)], err.body())
        resp.headers.append(API_VERSION_HEADER)
        return resp, endpoint

    def _maybe_sweep(self) -> None:
        now = self.clock()
        if now - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = now
            for id_ in self.sessions.expire():
                log.info("upload %s expired", id_)

    def _dispatch(self, req: Request, r: Route, ident: Identity) -> Response:
        m, e = req.method, r.endpoint
        if e == "base":
            return Response(200, [("Content-Type", JSON)], b"{}")
        if e == "blob":
            if m == "DELETE":
                return blobs.delete_blob(self.storage, r, enabled=self.delete_enabled)
            return blobs.get_blob(self.storage, req, r, head=(m == "HEAD"))
        if e == "upload_start":
            return blobs.start_upload(self.storage, self.sessions, self.gate, ident, req, r)
        if e == "upload":
            if m == "GET":
                return blobs.upload_status(self.sessions, r)
            if m == "PATCH":
                return blobs.patch_upload(self.sessions, req, r)
            if m == "PUT":
                return blobs.put_upload(self.storage, self.sessions, req, r)
            return blobs.cancel_upload(self.sessions, r)
        if e == "manifest":
            if m == "PUT":
                return self._put_manifest(req, r)
            if m == "DELETE":
                return self._delete_manifest(r)
            return self._get_manifest(req, r, head=(m == "HEAD"))
        if e == "tags":
            tags = self.storage.tags(r.name)
            page, link = _paginate(tags, req.query, f"/v2/{r.name}/tags/list")
            return _json({"name": r.name, "tags": page}, link)
        if e == "catalog":
            page, link = _paginate(self.storage.repositories(), req.query, "/v2/_catalog")
            return _json({"repositories": page}, link)
        if e == "referrers":
            return self._referrers(req, r)
        if e == "token":
            form = req.body.read(64 << 10) if m == "POST" else b""
            return _json(self.gate.token(req.query, req.headers, form), None)
        if e == "metrics":
            return Response(200, [("Content-Type", METRICS_TYPE)], self.metrics.render())
        raise RegistryError(codes.NOT_FOUND)

    # -- manifests ------------------------------------------------------------
    def _put_manifest(self, req: Request, r: Route) -> Response:
        body = _read_limited(req, manifests.MAX_MANIFEST)
        parsed = manifests.parse(body, req.headers.get("content-type"))
        digest = self.storage.put_manifest(r.name, r.reference, body, parsed)
        headers = [("Location", f"/v2/{r.name}/manifests/{digest}"), ("Docker-Content-Digest", digest)]
        if parsed.subject is not None:
            headers.append(("OCI-Subject", parsed.subject.digest))
        return Response(201, headers)

    def _get_manifest(self, req: Request, r: Route, *, head: bool) -> Response:
        digest, media_type = self.storage.resolve(r.name, r.reference)
        if not manifests.accepts(req.headers.get("accept"), media_type):
            raise RegistryError(codes.MANIFEST_UNKNOWN, f"manifest is a {media_type}, not accepted by the client",
                                detail={"mediaType": media_type})
        body = self.storage.read_manifest(digest)
        headers = [("Content-Type", media_type), ("Docker-Content-Digest", digest), ("ETag", f'"{digest}"')]
        if head:
            return Response(200, headers, content_length=len(body))
        return Response(200, headers, body)

    def _delete_manifest(self, r: Route) -> Response:
        if not self.delete_enabled:
            raise RegistryError(codes.UNSUPPORTED, "deletion is disabled")
        self.storage.delete_manifest(r.name, r.reference)
        return Response(202)

    def _referrers(self, req: Request, r: Route) -> Response:
        found = self.storage.referrers(r.name, r.reference)
        headers = [("Content-Type", OCI_INDEX)]
        wanted = parse_qs(req.query).get("artifactType")
        if wanted:
            found = [d for d in found if d.get("artifactType") in wanted]
            headers.append(("OCI-Filters-Applied", "artifactType"))
        body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found}
        return Response(200, headers, json.dumps(body).encode())


def _json(obj: Any, link: str | None) -> Response:
    headers = [("Content-Type", JSON)]
    if link:
        headers.append(("Link", link))
    return Response(200, headers, json.dumps(obj).encode())


def _paginate(items: list[str], query: str, path: str) -> tuple[list[str], str | None]:
    """``n``/``last`` pagination (spec "Listing Tags"): items after ``last``, at most ``n``,
    and a ``Link: <…>; rel="next"`` header when more remain."""
    q = parse_qs(query)
    last = q.get("last", [""])[0]
    raw_n = q.get("n", [""])[0]
    if raw_n:
        try:
            n: int | None = int(raw_n)
        except ValueError:
            n = -1
        if n is None or n < 0:
            raise RegistryError(codes.Code("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested"))
    else:
        n = None
    rest = [t for t in items if t > last] if last else items
    if n is None or len(rest) <= n:
        return rest, None
    page = rest[:n]
    if not page:
        return [], None
    return page, f'<{path}?{urlencode({"n": n, "last": page[-1]})}>; rel="next"'


def _read_limited(req: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        data = req.body.read(65536)
        if not data:
            return b"".join(chunks)
        total += len(data)
        if total > limit:
            raise RegistryError(manifests.MANIFEST_TOO_BIG, detail={"limit": limit})
        chunks.append(data)
