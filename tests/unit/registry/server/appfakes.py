"""An in-process registry app over a temporary root, and a way to call it."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard.core.digest import of_bytes
from dockyard.registry.server.access import Gate
from dockyard.registry.server.app import RegistryApp
from dockyard.registry.server.auth import AuthConfig
from dockyard.registry.server.messages import ClientGone, FileBody, Request
from dockyard.registry.server.metrics import Metrics
from dockyard.registry.server.sessions import UploadSessions
from dockyard.registry.server.storage import RegistryStorage
from dockyard.store.content.local import LocalContentStore


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class BrokenBody:
    """A body that yields ``data`` then the client vanishes."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, n: int = -1) -> bytes:
        if self._data:
            out, self._data = self._data, b""
            return out
        raise ClientGone()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str:
        return self.json()["errors"][0]["code"]


class Harness:
    def __init__(self, root: Path, auth: AuthConfig | None = None, *, delete: bool = True) -> None:
        self.clock = FakeClock()
        self.content = LocalContentStore(root)
        self.sessions = UploadSessions(self.content, self.clock, ttl=600)
        self.storage = RegistryStorage(root, self.content)
        self.app = RegistryApp(self.storage, self.sessions, Gate(auth or AuthConfig(), self.clock), Metrics(),
                               self.clock, delete_enabled=delete)

    def call(self, method: str, target: str, body: bytes | Any = b"", **headers: str) -> Reply:
        path, _, query = target.partition("?")
        hdrs = {k.replace("_", "-").lower(): v for k, v in headers.items()}
        reader = io.BytesIO(body) if isinstance(body, bytes) else body
        if isinstance(body, bytes) and body and "content-length" not in hdrs:
            hdrs["content-length"] = str(len(body))
        resp, _ = self.app.handle(Request(method, path, query, hdrs, reader, "http://reg.test"))
        data = resp.body
        if isinstance(data, FileBody):
            with data.file as f:
                f.seek(data.offset)
                data = f.read(data.length)
        return Reply(resp.status, {k.lower(): v for k, v in resp.headers}, data)

    # -- shortcuts ----------------------------------------------------------------
    def push_blob(self, name: str, data: bytes) -> str:
        d = of_bytes(data)
        r = self.call("POST", f"/v2/{name}/blobs/uploads/?digest={d}", data)
        assert r.status == 201, r.body
        return d

    def push_image(self, name: str, tag: str, layer: bytes = b"layer", config: bytes = b"{}",
                   **extra: Any) -> tuple[str, bytes]:
        cd, ld = self.push_blob(name, config), self.push_blob(name, layer)
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": {"mediaType": extra.pop("config_type", "application/vnd.oci.image.config.v1+json"),
                        "digest": cd, "size": len(config)},
             "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": len(layer)}],
             **extra}
        body = json.dumps(m).encode()
        r = self.call("PUT", f"/v2/{name}/manifests/{tag}", body, content_type=m["mediaType"])
        assert r.status == 201, r.body
        return r.headers["docker-content-digest"], body
