"""Volume and archive (cp) endpoints, as functions over an ``APIClient``."""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Iterable, Iterator


def list_volumes(api: Any, filters: dict[str, list[str]] | None = None) -> dict[str, Any]:
    query = {"filters": json.dumps(filters)} if filters else None
    return api._json("GET", "/volumes", query=query) or {}


def create_volume(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    return api._post_json("/volumes/create", body)


def inspect_volume(api: Any, name: str) -> dict[str, Any]:
    return api._json("GET", f"/volumes/{name}")


def remove_volume(api: Any, name: str, force: bool = False) -> None:
    api._json("DELETE", f"/volumes/{name}", query={"force": "1"} if force else None)


def prune_volumes(api: Any, filters: dict[str, list[str]] | None = None) -> dict[str, Any]:
    query = {"filters": json.dumps(filters)} if filters else None
    return api._json("POST", "/volumes/prune", query=query) or {}


def stat_path(api: Any, container: str, path: str) -> dict[str, Any]:
    from dockyard.wire import pathstat

    resp = api._send("HEAD", f"/containers/{container}/archive", query={"path": path})
    value = resp.headers.get(pathstat.HEADER.lower(), "")
    api.transport.release(resp)
    return pathstat.decode(value) if value else {}


def get_archive(api: Any, container: str, path: str) -> tuple[dict[str, Any], Iterator[bytes]]:
    from dockyard.wire import pathstat

    resp = api._send("GET", f"/containers/{container}/archive", query={"path": path})
    value = resp.headers.get(pathstat.HEADER.lower(), "")

    def body() -> Iterator[bytes]:
        try:
            yield from resp.iter_raw()
        finally:
            resp.close()

    return (pathstat.decode(value) if value else {}), body()


def put_archive(api: Any, container: str, path: str, data: Iterable[bytes], *, copy_uidgid: bool = False) -> None:
    query = {"path": path, "noOverwriteDirNonDir": "true", "copyUIDGID": "true" if copy_uidgid else None}
    api._json("PUT", f"/containers/{container}/archive", query=query, body=data,
              headers={"Content-Type": "application/x-tar"})
