"""``APIClient``: one method per Engine API endpoint the CLI uses.

Methods return decoded JSON (dicts/lists in Docker's shapes) and raise
``dockyard.errors`` kinds (via ``client.errors``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

from dockyard.errors import DaemonUnreachable

from .errors import error_from_response
from .streams import demux, socket_chunks
from .transport import Response, UnixTransport

DEFAULT_HOST = "unix:///run/dockyard/dockyard.sock"
API_PREFIX = "/v1.47"


class Attached:
    """A hijacked attach connection."""

    def __init__(self, sock: socket.socket, buffered: bytes, tty: bool) -> None:
        self.sock, self._buffered, self.tty = sock, buffered, tty

    def output(self) -> Iterator[tuple[int, bytes]]:
        return demux(socket_chunks(self.sock, self._buffered), tty=self.tty)

    def close_write(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()


class Waiter:
    """A ``/wait`` whose 200 headers arrived; ``result()`` blocks for the body."""

    def __init__(self, resp: Response) -> None:
        self._resp = resp

    def result(self) -> dict[str, Any]:
        try:
            body = self._resp.read()
        finally:
            self._resp.close()
        return json.loads(body) if body.strip() else {"StatusCode": -1, "Error": {"Message": "empty wait response"}}

    def close(self) -> None:
        self._resp.close()


class APIClient:
    def __init__(self, host: str = DEFAULT_HOST, *, on_unreachable: Callable[[], bool] | None = None) -> None:
        self.host = host
        self.transport = UnixTransport(host, on_unreachable=on_unreachable)

    # -- plumbing -------------------------------------------------------

    def _send(self, method: str, path: str, **kw: Any) -> Response:
        resp = self.transport.request(method, API_PREFIX + path, **kw)
        if resp.status >= 300:
            body = resp.read()
            self.transport.release(resp)
            raise error_from_response(resp.status, body)
        return resp

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        resp = self._send(method, path, **kw)
        body = resp.read()
        self.transport.release(resp)
        return json.loads(body) if body.strip() else None

    def _post_json(self, path: str, obj: Any, query: dict[str, object] | None = None) -> Any:
        data = json.dumps(obj).encode()
        return self._json("POST", path, query=query, body=data, headers={"Content-Type": "application/json"})

    def close(self) -> None:
        self.transport.close()

    # -- system ---------------------------------------------------------

    def ping(self) -> bool:
        resp = self.transport.request("GET", "/_ping")
        ok = resp.status == 200 and resp.read() == b"OK"
        self.transport.release(resp)
        return ok

    def version(self) -> dict[str, Any]:
        return self._json("GET", "/version")

    def info(self) -> dict[str, Any]:
        return self._json("GET", "/info")

    # -- containers -----------------------------------------------------

    def create_container(self, body: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        return self._post_json("/containers/create", body, {"name": name} if name else None)

    def start(self, ref: str) -> None:
        self._json("POST", f"/containers/{ref}/start")

    def wait(self, ref: str, condition: str = "not-running") -> Waiter:
        """Returns once the daemon has registered the wait (headers received)."""
        return Waiter(self._send("POST", f"/containers/{ref}/wait", query={"condition": condition}))

    def attach(self, ref: str, *, tty: bool, stdout: bool = True, stderr: bool = True, logs: bool = False, stream: bool = True) -> Attached:
        query = {"stream": stream, "stdout": stdout, "stderr": stderr, "logs": logs}
        status, _, sock, buffered, resp = self.transport.hijack("POST", f"{API_PREFIX}/containers/{ref}/attach", query=query)
        if status not in (101, 200):
            body = resp.read()
            resp.close()
            raise error_from_response(status, body)
        return Attached(sock, buffered, tty)

    def logs(self, ref: str, *, tty: bool, stdout: bool = True, stderr: bool = True, follow: bool = False,
             tail: str = "all", timestamps: bool = False) -> Iterator[tuple[int, bytes]]:
        query = {"stdout": stdout, "stderr": stderr, "follow": follow, "tail": tail, "timestamps": timestamps}
        resp = self._send("GET", f"/containers/{ref}/logs", query=query)
        try:
            yield from demux(resp.iter_raw(), tty=tty)
        finally:
            resp.close()

    def containers(self, *, all: bool = False, limit: int | None = None, filters: str | None = None) -> list[dict[str, Any]]:
        query: dict[str, object] = {"all": all}
        if limit is not None and limit > 0:
            query["limit"] = limit
        if filters:
            query["filters"] = filters
        return self._json("GET", "/containers/json", query=query)

    def inspect_container(self, ref: str) -> dict[str, Any]:
        return self._json("GET", f"/containers/{ref}/json")

    def remove_container(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        self._json("DELETE", f"/containers/{ref}", query={"force": force, "v": volumes})

    # -- images ---------------------------------------------------------

    def images(self, *, all: bool = False, filters: str | None = None) -> list[dict[str, Any]]:
        query: dict[str, object] = {"all": all}
        if filters:
            query["filters"] = filters
        return self._json("GET", "/images/json", query=query)

    def inspect_image(self, ref: str) -> dict[str, Any]:
        return self._json("GET", f"/images/{ref}/json")

    def load(self, data: BinaryIO | Iterable[bytes], *, quiet: bool = False) -> Iterator[dict[str, Any]]:
        """Upload a tarball (chunked); yield the daemon's JSON messages."""
        from dockyard.wire.jsonmessage import MessageDecoder

        chunks = iter(lambda: data.read(65536), b"") if hasattr(data, "read") else data
        resp = self._send("POST", "/images/load", query={"quiet": quiet}, body=chunks,
                          headers={"Content-Type": "application/x-tar"})
        decoder = MessageDecoder()
        try:
            for raw in resp.iter_raw():
                yield from decoder.feed(raw)
        finally:
            resp.close()


__all__ = ["APIClient", "Attached", "DEFAULT_HOST", "DaemonUnreachable", "Waiter"]
