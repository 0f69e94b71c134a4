"""Uploads: blob existence checks, cross-repository mounts, monolithic and chunked uploads, manifests.

Distribution spec "Pushing": ``POST /v2/<name>/blobs/uploads/`` opens a
session (202 + ``Location``); a blob up to ``chunk_size`` goes in one
``PUT <location>?digest=`` (monolithic); a bigger one in ``PATCH`` chunks
with ``Content-Range``, each answered with the next ``Location``, closed by
an empty ``PUT ?digest=``.  ``POST ...?mount=<digest>&from=<repo>`` asks the
registry to link a blob it already holds in another repository (201), or
opens an ordinary session (202) which the next upload then uses.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import BinaryIO
from urllib.parse import urlencode, urljoin

from dockyard.errors import DigestMismatch, Internal, Unavailable
from dockyard.oci.image import Descriptor

from .auth import repository_scope
from .session import Session, check

CHUNK_SIZE = 64 << 20
RETRIES = 2


class _Counting(io.RawIOBase):
    """Reads at most ``size`` bytes from ``f``, reporting the running total."""

    def __init__(self, f: BinaryIO, size: int, on_progress: Callable[[int], None] | None, base: int = 0) -> None:
        super().__init__()
        self._f, self._left, self._cb, self._done = f, size, on_progress, base

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        data = self._f.read(min(len(b), self._left))
        n = len(data)
        b[:n] = data
        self._left -= n
        self._done += n
        if self._cb is not None and n:
            self._cb(self._done)
        return n


class RegistryPusher:
    """``core.remotes.Pusher`` for one repository at one registry endpoint."""

    def __init__(self, session: Session, repo_path: str, chunk_size: int = CHUNK_SIZE) -> None:
        self._s = session
        self._path = repo_path
        self._scopes = (repository_scope(repo_path, "pull", "push"),)
        self.chunk_size = chunk_size
        self._pending: dict[str, str] = {}  # digest -> upload location opened by a declined mount
        self._lock = threading.Lock()

    def exists(self, desc: Descriptor) -> bool:
        url = f"/v2/{self._path}/blobs/{desc.digest}"
        raw = self._s.request("HEAD", url, scopes=self._scopes)
        raw.close()
        if raw.status == 404:
            return False
        check(raw, f"HEAD {self._s.url(url)}")
        return True

    def mount(self, desc: Descriptor, from_repo: str) -> bool:
        url = f"/v2/{self._path}/blobs/uploads/?" + urlencode({"mount": desc.digest, "from": from_repo})
        scopes = self._scopes + (repository_scope(from_repo, "pull"),)
        raw = check(self._s.request("POST", url, scopes=scopes), f"POST {self._s.url(url)}", ok=(201, 202))
        raw.read()
        raw.close()
        if raw.status == 201:
            return True
        with self._lock:
            self._pending[desc.digest] = self._location(raw.headers, url)
        return False

    def push_blob(self, desc: Descriptor, open_blob: Callable[[], BinaryIO],
                  on_progress: Callable[[int], None] | None = None) -> None:
        for attempt in range(RETRIES + 1):
            try:
                with open_blob() as f:
                    self._upload(desc, f, on_progress)
                return
            except Unavailable:
                if attempt == RETRIES:
                    raise

    def _start(self, desc: Descriptor) -> str:
        with self._lock:
            pending = self._pending.pop(desc.digest, None)
        if pending:
            return pending
        url = f"/v2/{self._path}/blobs/uploads/"
        raw = check(self._s.request("POST", url, scopes=self._scopes), f"POST {self._s.url(url)}", ok=(202,))
        raw.read()
        raw.close()
        return self._location(raw.headers, url)

    def _upload(self, desc: Descriptor, f: BinaryIO, on_progress: Callable[[int], None] | None) -> None:
        location = self._start(desc)
        headers = {"Content-Type": "application/octet-stream"}
        if desc.size <= self.chunk_size:
            body = io.BufferedReader(_Counting(f, desc.size, on_progress), 1 << 20)
            raw = self._s.request("PUT", _with_query(location, digest=desc.digest), scopes=self._scopes,
                                  headers={**headers, "Content-Length": str(desc.size)}, body=body)
            self._finish(raw, desc, location)
            return
        offset = 0
        while offset < desc.size:
            n = min(self.chunk_size, desc.size - offset)
            body = io.BufferedReader(_Counting(f, n, on_progress, offset), 1 << 20)
            raw = self._s.request("PATCH", location, scopes=self._scopes, body=body, headers={
                **headers, "Content-Length": str(n), "Content-Range": f"{offset}-{offset + n - 1}"})
            check(raw, f"PATCH {self._s.url(location)}", ok=(202,))
            raw.read()
            raw.close()
            location = self._location(raw.headers, location)
            offset += n
        raw = self._s.request("PUT", _with_query(location, digest=desc.digest), scopes=self._scopes)
        self._finish(raw, desc, location)

    def _finish(self, raw, desc: Descriptor, location: str) -> None:  # type: ignore[no-untyped-def]
        check(raw, f"PUT {self._s.url(location)}", ok=(201, 204))
        raw.read()
        raw.close()
        got = raw.headers.get("docker-content-digest")
        if got and got != desc.digest:
            raise DigestMismatch(f"registry stored {got}, expected {desc.digest}")

    def push_manifest(self, desc: Descriptor, data: bytes, tag: str) -> None:
        url = f"/v2/{self._path}/manifests/{tag or desc.digest}"
        raw = self._s.request("PUT", url, scopes=self._scopes, headers={"Content-Type": desc.media_type}, body=data)
        check(raw, f"PUT {self._s.url(url)}", ok=(201, 200, 204))
        raw.read()
        raw.close()
        got = raw.headers.get("docker-content-digest")
        if got and got != desc.digest:
            raise DigestMismatch(f"registry stored manifest {got}, expected {desc.digest}")

    def _location(self, headers: dict[str, str] | object, base: str) -> str:
        loc = headers.get("location", "") if isinstance(headers, dict) else ""
        if not loc:
            raise Internal("registry opened an upload without a Location")
        return urljoin(self._s.url(base), loc)


def _with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


__all__ = ["CHUNK_SIZE", "RegistryPusher"]
