"""Blob and manifest downloads: bounded, retried and resumed with ``Range``.

``ResumingReader`` reads exactly ``size`` bytes (never more, whatever the
server sends).  When the connection breaks mid-body, or the registry answers
5xx/429, it asks again from the current offset with ``Range: bytes=N-``; a
registry that ignores ranges answers 200 and the first N bytes are skipped.
The caller verifies the digest (its ``ContentWriter`` commit does), so a
resumed stream is checked end to end like any other.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from dockyard.errors import DigestMismatch, Unavailable
from dockyard.oci import image as oci
from dockyard.oci.image import Descriptor

from .session import Session, check
from .transport import RawResponse

SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MANIFEST_MEDIA_TYPES = frozenset({oci.OCI_INDEX, oci.DOCKER_MANIFEST_LIST, oci.OCI_MANIFEST, oci.DOCKER_MANIFEST,
                                  SCHEMA1, SCHEMA1_SIGNED})
RETRIES = 3
_BACKOFF = 0.2  # seconds, doubled per attempt
_SKIP = 1 << 20


class ResumingReader(io.RawIOBase):
    """A read-only stream of ``size`` bytes from ``open_at(offset)`` responses."""

    def __init__(self, open_at: Callable[[int], RawResponse], size: int, what: str,
                 retries: int = RETRIES, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self._open_at, self._size, self._what = open_at, size, what
        self._retries, self._sleep = retries, sleep
        self._offset = 0
        self._resp: RawResponse | None = None
        self.attempts = 0  # connections opened (for tests and logs)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(b), self._size - self._offset)
        if want <= 0:
            return 0
        failures = 0
        while True:
            try:
                if self._resp is None:
                    self._resp = self._open(self._offset)
                data = self._resp.read(want)
                if not data:
                    raise Unavailable(f"{self._what}: unexpected EOF at byte {self._offset} of {self._size}")
            except Unavailable:
                if self._resp is not None:
                    self._resp.close()
                    self._resp = None
                failures += 1
                if failures > self._retries:
                    raise
                self._sleep(_BACKOFF * (2 ** (failures - 1)))
                continue
            n = len(data)
            b[:n] = data
            self._offset += n
            if self._offset >= self._size:
                self._close_resp()
            return n

    def _open(self, offset: int) -> RawResponse:
        self.attempts += 1
        resp = self._open_at(offset)
        if resp.status == 206 and offset:
            return resp
        if resp.status == 429 or resp.status >= 500:
            resp.close()
            raise Unavailable(f"{self._what}: registry answered {resp.status}")
        check(resp, self._what)
        length = resp.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) != self._size:
            resp.close()
            raise DigestMismatch(f"{self._what}: registry sent {length} bytes, descriptor says {self._size}")
        skip = offset  # the registry ignored Range: discard what we already have
        while skip:
            chunk = resp.read(min(skip, _SKIP))
            if not chunk:
                resp.close()
                raise Unavailable(f"{self._what}: unexpected EOF")
            skip -= len(chunk)
        return resp

    def _close_resp(self) -> None:
        if self._resp is not None:
            self._resp.close()
            self._resp = None

    def close(self) -> None:
        self._close_resp()
        super().close()


class RegistryFetcher:
    """``core.remotes.Fetcher`` for one repository of one registry endpoint."""

    def __init__(self, session: Session, repo_path: str, scopes: tuple[str, ...],
                 cached: Callable[[str], bytes | None]) -> None:
        self._session, self._path, self._scopes, self._cached = session, repo_path, scopes, cached

    def fetch(self, desc: Descriptor) -> io.BufferedReader | io.BytesIO:
        data = self._cached(desc.digest)
        if data is not None:
            return io.BytesIO(data[: desc.size])
        kind = "manifests" if _is_manifest(desc.media_type) else "blobs"
        url = f"/v2/{self._path}/{kind}/{desc.digest}"
        headers = {"Accept": desc.media_type} if kind == "manifests" else {}

        def open_at(offset: int) -> RawResponse:
            h = dict(headers)
            if offset:
                h["Range"] = f"bytes={offset}-"
            return self._session.request("GET", url, scopes=self._scopes, headers=h)

        return io.BufferedReader(ResumingReader(open_at, desc.size, f"fetch {desc.digest}"), 1 << 20)


def _is_manifest(media_type: str) -> bool:
    return media_type in MANIFEST_MEDIA_TYPES


__all__ = ["RegistryFetcher", "ResumingReader"]
