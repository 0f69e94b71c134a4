"""``APIClient``: one method per Engine API endpoint the CLI uses.

Methods return decoded JSON (dicts/lists in Docker's shapes) and raise
``dockyard.errors`` kinds (via ``client.errors``).
"""

from __future__ import annotations

import _socket  # not socket: see transport.py

from dockyard.errors import DaemonUnreachable

from . import fastjson as json  # loads/dumps without importing json (see fastjson.py)
from .errors import error_from_response
from .streams import demux, socket_chunks
from .transport import Response, UnixTransport

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc imports all of collections: annotations only
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any, BinaryIO

DEFAULT_HOST = "unix:///run/dockyard/dockyard.sock"
API_PREFIX = "/v1.47"


class Attached:
    """A hijacked attach connection."""

    def __init__(self, sock: _socket.socket, buffered: bytes, tty: bool) -> None:
        self.sock, self._buffered, self.tty = sock, buffered, tty

    def output(self) -> Iterator[tuple[int, bytes]]:
        return demux(socket_chunks(self.sock, self._buffered), tty=self.tty)

    def close_write(self) -> None:
        try:
            self.sock.shutdown(_socket.SHUT_WR)
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
    def __init__(self, host: str = DEFAULT_HOST, *, on_unreachable: Callable[[], bool] | None = None,
                 tls: object | None = None) -> None:
        self.host = host
        self.transport = UnixTransport(host, on_unreachable=on_unreachable, tls=tls)  # tls: client/tls.py

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

    def attach(self, ref: str, *, tty: bool, stdout: bool = True, stderr: bool = True, logs: bool = False,
               stream: bool = True, stdin: bool = False, detach_keys: str | None = None) -> Attached:
        query: dict[str, object] = {"stream": stream, "stdin": stdin, "stdout": stdout, "stderr": stderr, "logs": logs}
        if detach_keys:
            query["detachKeys"] = detach_keys
        return self._hijack(f"/containers/{ref}/attach", query, None, tty)

    def _hijack(self, path: str, query: dict[str, object] | None, body: bytes | None, tty: bool) -> Attached:
        status, _, sock, buffered, resp = self.transport.hijack("POST", API_PREFIX + path, query=query, body=body)
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

    def containers(self, *, all: bool = False, limit: int | None = None, filters: str | None = None,
                   size: bool = False) -> list[dict[str, Any]]:
        query: dict[str, object] = {"all": all}
        if size:
            query["size"] = True
        if limit is not None and limit > 0:
            query["limit"] = limit
        if filters:
            query["filters"] = filters
        return self._json("GET", "/containers/json", query=query)

    def inspect_container(self, ref: str, *, size: bool = False) -> dict[str, Any]:
        return self._json("GET", f"/containers/{ref}/json", query={"size": True} if size else None)

    def remove_container(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        self._json("DELETE", f"/containers/{ref}", query={"force": force, "v": volumes})

    def stop(self, ref: str, *, timeout: int | None = None, signal: str | None = None) -> None:
        """304 (already stopped) counts as success, as in the docker CLI."""
        from dockyard.errors import NotModified

        try:
            self._json("POST", f"/containers/{ref}/stop", query=_stop_query(timeout, signal))
        except NotModified:
            pass

    def restart(self, ref: str, *, timeout: int | None = None, signal: str | None = None) -> None:
        self._json("POST", f"/containers/{ref}/restart", query=_stop_query(timeout, signal))

    def resize(self, ref: str, height: int, width: int, *, exec_id: str = "") -> None:
        path = f"/exec/{exec_id}/resize" if exec_id else f"/containers/{ref}/resize"
        self._json("POST", path, query={"h": height, "w": width})

    def exec_create(self, ref: str, config: dict[str, Any]) -> str:
        return str(self._post_json(f"/containers/{ref}/exec", config)["Id"])

    def exec_start(self, exec_id: str, *, tty: bool, detach: bool = False) -> Attached | None:
        body = json.dumps({"Detach": detach, "Tty": tty}).encode()
        if detach:
            self._json("POST", f"/exec/{exec_id}/start", body=body, headers={"Content-Type": "application/json"})
            return None
        return self._hijack(f"/exec/{exec_id}/start", None, body, tty)

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return self._json("GET", f"/exec/{exec_id}/json")  # type: ignore[no-any-return]

    def kill(self, ref: str, signal: str | None = None) -> None:
        self._json("POST", f"/containers/{ref}/kill", query={"signal": signal} if signal else None)

    def pause(self, ref: str) -> None:
        self._json("POST", f"/containers/{ref}/pause")

    def unpause(self, ref: str) -> None:
        self._json("POST", f"/containers/{ref}/unpause")

    def rename(self, ref: str, name: str) -> None:
        self._json("POST", f"/containers/{ref}/rename", query={"name": name})

    def update_container(self, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._post_json(f"/containers/{ref}/update", body)

    def top(self, ref: str, ps_args: str | None = None) -> dict[str, Any]:
        return self._json("GET", f"/containers/{ref}/top", query={"ps_args": ps_args} if ps_args else None)

    def stats(self, ref: str, *, stream: bool = True) -> Iterator[dict[str, Any]]:
        """``GET /containers/{id}/stats``: one dict per sample (one only without ``stream``)."""
        resp = self._send("GET", f"/containers/{ref}/stats", query={"stream": "1" if stream else "0"})
        yield from _json_lines(resp)

    def prune_containers(self, filters: str | None = None) -> dict[str, Any]:
        return self._json("POST", "/containers/prune", query={"filters": filters} if filters else None)

    def wait_result(self, ref: str, condition: str = "not-running") -> dict[str, Any]:
        return self.wait(ref, condition).result()

    def df(self) -> dict[str, Any]:
        return self._json("GET", "/system/df")

    def events(self, *, since: str | None = None, until: str | None = None,
               filters: str | None = None) -> Iterator[dict[str, Any]]:
        """The event stream, one dict per event, until ``until`` or the caller stops."""
        query: dict[str, object] = {}
        for key, value in (("since", since), ("until", until), ("filters", filters)):
            if value:
                query[key] = value
        resp = self._send("GET", "/events", query=query)
        yield from _json_lines(resp)

    # -- networks -------------------------------------------------------

    def networks(self, *, filters: str | None = None) -> list[dict[str, Any]]:
        return self._json("GET", "/networks", query={"filters": filters} if filters else None)

    def inspect_network(self, ref: str) -> dict[str, Any]:
        return self._json("GET", f"/networks/{ref}")

    def create_network(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._post_json("/networks/create", body)

    def remove_network(self, ref: str) -> None:
        self._json("DELETE", f"/networks/{ref}")

    def connect_network(self, ref: str, container: str, endpoint: dict[str, Any] | None = None) -> None:
        self._post_json(f"/networks/{ref}/connect", {"Container": container, "EndpointConfig": endpoint or {}})

    def disconnect_network(self, ref: str, container: str, force: bool = False) -> None:
        self._post_json(f"/networks/{ref}/disconnect", {"Container": container, "Force": force})

    def prune_networks(self) -> dict[str, Any]:
        return self._json("POST", "/networks/prune")

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


    # -- registries: pull, push, tag, rmi, prune, auth ---------------------------------

    def _progress(self, method: str, path: str, query: dict[str, object], auth: str | None) -> Iterator[dict[str, Any]]:
        from dockyard.wire.jsonmessage import MessageDecoder

        headers = {"X-Registry-Auth": auth} if auth else {}
        resp = self._send(method, path, query=query, headers=headers)
        decoder = MessageDecoder()
        try:
            for raw in resp.iter_raw():
                yield from decoder.feed(raw)
        finally:
            resp.close()

    def build(self, context: Iterable[bytes], query: dict[str, object],
              headers: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """``POST /build`` with a context tar (chunks); the daemon's JSON messages."""
        from dockyard.wire.jsonmessage import MessageDecoder

        resp = self._send("POST", "/build", query=query, body=context,
                          headers={"Content-Type": "application/x-tar", **(headers or {})})
        decoder = MessageDecoder()
        try:
            for raw in resp.iter_raw():
                yield from decoder.feed(raw)
        finally:
            resp.close()

    def prune_build_cache(self) -> dict[str, Any]:
        return self._json("POST", "/build/prune")  # type: ignore[no-any-return]

    def pull(self, image: str, *, tag: str = "", platform: str = "", auth: str | None = None,
             all_tags: bool = False) -> Iterator[dict[str, Any]]:
        """``POST /images/create?fromImage=``: the daemon's progress messages (errors before streaming raise).

        An image without tag or digest means ``latest`` unless ``all_tags`` (the
        daemon pulls every tag when none is given, as Docker's does)."""
        if not tag and not all_tags and "@" not in image and ":" not in image.rsplit("/", 1)[-1]:
            tag = "latest"
        query: dict[str, object] = {"fromImage": image, "tag": tag}
        if platform:
            query["platform"] = platform
        return self._progress("POST", "/images/create", query, auth)

    def push(self, name: str, *, tag: str = "", auth: str | None = None) -> Iterator[dict[str, Any]]:
        return self._progress("POST", f"/images/{name}/push", {"tag": tag}, auth or "e30=")

    def tag_image(self, source: str, repo: str, tag: str = "") -> None:
        self._json("POST", f"/images/{source}/tag", query={"repo": repo, "tag": tag})

    def remove_image(self, ref: str, *, force: bool = False, noprune: bool = False) -> list[dict[str, str]]:
        return self._json("DELETE", f"/images/{ref}", query={"force": force, "noprune": noprune}) or []

    def prune_images(self, filters: str | None = None) -> dict[str, Any]:
        return self._json("POST", "/images/prune", query={"filters": filters} if filters else None) or {}

    def login(self, auth_config: dict[str, str]) -> dict[str, Any]:
        return self._post_json("/auth", auth_config)

    # -- image and container filesystems as files (save, import, export, commit, diff, history) --

    def _raw(self, method: str, path: str, **kw: Any) -> Iterator[bytes]:
        resp = self._send(method, path, **kw)  # errors (404 ...) raise here, before the first byte
        def body() -> Iterator[bytes]:
            try:
                yield from resp.iter_raw()
            finally:
                resp.close()
        return body()

    def save(self, names: list[str], *, fmt: str = "") -> Iterator[bytes]:
        query: dict[str, object] = {"names": names}
        if fmt:
            query["format"] = fmt
        return self._raw("GET", "/images/get", query=query)

    def export(self, ref: str) -> Iterator[bytes]:
        return self._raw("GET", f"/containers/{ref}/export")

    def import_image(self, data: BinaryIO | None, *, src: str = "-", repo: str = "", tag: str = "",
                     message: str = "", changes: list[str] | None = None, platform: str = "") -> Iterator[dict[str, Any]]:
        from dockyard.wire.jsonmessage import MessageDecoder

        query: dict[str, object] = {"fromSrc": src, "repo": repo or None, "tag": tag or None,
                                    "message": message or None, "changes": changes or None,
                                    "platform": platform or None}
        body = iter(lambda: data.read(65536), b"") if data is not None else None
        resp = self._send("POST", "/images/create", query=query, body=body,
                          headers={"Content-Type": "application/x-tar"} if body is not None else None)
        decoder = MessageDecoder()
        try:
            for raw in resp.iter_raw():
                yield from decoder.feed(raw)
        finally:
            resp.close()

    def commit(self, container: str, *, repo: str = "", tag: str = "", author: str = "", comment: str = "",
               changes: list[str] | None = None, pause: bool = True) -> dict[str, Any]:
        query: dict[str, object] = {"container": container, "repo": repo or None, "tag": tag or None,
                                    "author": author or None, "comment": comment or None,
                                    "changes": changes or None, "pause": pause}
        return self._json("POST", "/commit", query=query, body=b"null", headers={"Content-Type": "application/json"})

    def changes(self, ref: str) -> list[dict[str, Any]]:
        return self._json("GET", f"/containers/{ref}/changes") or []

    def history(self, ref: str) -> list[dict[str, Any]]:
        return self._json("GET", f"/images/{ref}/history") or []

__all__ = ["APIClient", "Attached", "DEFAULT_HOST", "DaemonUnreachable", "Waiter"]


def _json_lines(resp: Response) -> Iterator[dict[str, Any]]:
    """A streamed body of newline-separated JSON objects (stats, events), one dict each."""
    buf = b""
    try:
        for raw in resp.iter_raw():
            buf += raw
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    yield json.loads(line)
    finally:
        resp.close()


def _stop_query(timeout: int | None, signal: str | None) -> dict[str, object]:
    """stop's and restart's query: ``t`` and ``signal`` only when given (the daemon's defaults otherwise)."""
    query: dict[str, object] = {}
    if timeout is not None:
        query["t"] = timeout
    if signal:
        query["signal"] = signal
    return query
