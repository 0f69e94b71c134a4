"""Fake services and an in-process ApiServer on a temporary socket.

The fake "runs" a container synchronously on start from its Cmd:

    ["echo", *words]   stdout: words joined + "\\n", exit 0
    ["fail", code]     stderr: "failing\\n", exit code
    ["missing"]        start raises StartFailed(exit_code=127)
    ["hold"]           stays running until ``release(id)``
"""

from __future__ import annotations

import hashlib
import io
import queue
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from dockyard import errors
from dockyard.daemon.api import ApiServer
from dockyard.daemon.services import Services
from dockyard.daemon.services.system import SystemService

_END = object()


class FakeOutput:
    def __init__(self) -> None:
        self.q: queue.Queue[Any] = queue.Queue()
        self.closed = threading.Event()

    def put(self, stream: int, data: bytes) -> None:
        self.q.put((stream, data))

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        while True:
            item = self.q.get()
            if item is _END:
                return
            yield item

    def close(self) -> None:
        self.closed.set()
        self.q.put(_END)


class FakeContainers:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.cond = threading.Condition()
        self.outputs: dict[str, list[FakeOutput]] = {}
        self.created_at = int(time.time())

    def _find(self, ref: str) -> dict[str, Any]:
        for rec in self.records.values():
            if rec["Id"] == ref or rec["Name"] == ref or (len(ref) >= 3 and rec["Id"].startswith(ref)):
                return rec
        raise errors.NotFound(f"No such container: {ref}")

    def create(self, body: dict[str, Any], name: str | None) -> dict[str, Any]:
        if body.get("Image") == "nosuch:latest":
            raise errors.ImageNotFound("No such image: nosuch:latest")
        cid = hashlib.sha256(f"{len(self.records)}{name}".encode()).hexdigest()
        name = name or f"fake_{len(self.records)}"
        if any(r["Name"] == name for r in self.records.values()):
            raise errors.AlreadyExists(f'Conflict. The container name "/{name}" is already in use')
        self.records[cid] = {
            "Id": cid, "Name": name, "Body": body, "State": "created", "ExitCode": 0,
            "Exits": 0, "Logs": [], "Created": self.created_at,
        }
        return {"Id": cid, "Warnings": []}

    def start(self, ref: str) -> None:
        rec = self._find(ref)
        if rec["State"] == "running":
            raise errors.NotModified("container already started")
        cmd = rec["Body"].get("Cmd") or ["echo"]
        if cmd[0] == "missing":
            raise errors.StartFailed('exec: "missing": executable file not found in $PATH', exit_code=127)
        rec["State"] = "running"
        if cmd[0] == "hold":
            return
        if cmd[0] == "fail":
            self._emit(rec, 2, b"failing\n")
            self._exit(rec, int(cmd[1]))
        else:
            self._emit(rec, 1, (" ".join(cmd[1:]) + "\n").encode())
            self._exit(rec, 0)

    def release(self, ref: str, code: int = 0) -> None:
        self._exit(self._find(ref), code)

    def _emit(self, rec: dict[str, Any], stream: int, data: bytes) -> None:
        rec["Logs"].append((stream, data))
        for out in self.outputs.get(rec["Id"], []):
            out.put(stream, data)

    def _exit(self, rec: dict[str, Any], code: int) -> None:
        with self.cond:
            rec["State"], rec["ExitCode"] = "exited", code
            rec["Exits"] += 1
            self.cond.notify_all()
        for out in self.outputs.pop(rec["Id"], []):
            out.close()

    def begin_wait(self, ref: str, condition: str = "not-running") -> Any:
        rec = self._find(ref)
        with self.cond:
            seen = rec["Exits"]  # registered now: a later exit is never missed
            done_already = condition == "not-running" and rec["State"] != "running"

        def result() -> dict[str, Any]:
            with self.cond:
                if not done_already:
                    assert self.cond.wait_for(lambda: rec["Exits"] > seen, timeout=10)
                return {"StatusCode": rec["ExitCode"], "Error": None}

        return result

    def wait(self, ref: str, condition: str = "not-running") -> dict[str, Any]:
        return self.begin_wait(ref, condition)()

    def attach(self, ref: str, *, stdout: bool, stderr: bool, logs: bool, stream: bool) -> FakeOutput:
        rec = self._find(ref)
        out = FakeOutput()
        if logs:
            for s, d in rec["Logs"]:
                out.put(s, d)
        if stream and rec["State"] != "exited":
            self.outputs.setdefault(rec["Id"], []).append(out)
        else:
            out.close()
        return out

    def logs(self, ref: str, *, stdout: bool, stderr: bool, follow: bool, tail: str,
             timestamps: bool, since: int, until: int) -> Iterator[tuple[int, bytes]]:
        rec = self._find(ref)
        items = [(s, d) for s, d in rec["Logs"] if (s == 1 and stdout) or (s == 2 and stderr)]
        if tail != "all":
            items = items[len(items) - int(tail):] if int(tail) else []
        return iter(items)

    def is_tty(self, ref: str) -> bool:
        return bool(self._find(ref)["Body"].get("Tty"))

    def stdio_config(self, ref: str) -> tuple[str, bool, bool, bool]:
        rec = self._find(ref)
        body = rec["Body"]
        return rec["Id"], bool(body.get("Tty")), bool(body.get("OpenStdin")), bool(body.get("StdinOnce"))

    def stdin_hub(self, id: str) -> Any:
        from dockyard.daemon.stdinhub import StdinHub

        return StdinHub()

    def list_json(self, all: bool, limit: int, filters: dict[str, list[str]], size: bool = False) -> list[dict[str, Any]]:
        out = []
        for rec in self.records.values():
            if not all and rec["State"] != "running":
                continue
            cmd = rec["Body"].get("Cmd") or []
            out.append({
                "Id": rec["Id"], "Names": ["/" + rec["Name"]], "Image": rec["Body"].get("Image", ""),
                "ImageID": "sha256:" + "0" * 64, "Command": " ".join(cmd), "Created": rec["Created"],
                "Ports": [], "Labels": rec["Body"].get("Labels") or {}, "State": rec["State"],
                "Status": "Up 1 second" if rec["State"] == "running" else f"Exited ({rec['ExitCode']}) 1 second ago",
                "HostConfig": {"NetworkMode": "default"}, "NetworkSettings": {"Networks": {}}, "Mounts": [],
            })
        return out[:limit] if limit > 0 else out

    def inspect_json(self, ref: str, size: bool = False) -> dict[str, Any]:
        rec = self._find(ref)
        return {"Id": rec["Id"], "Name": "/" + rec["Name"], "State": {"Status": rec["State"], "ExitCode": rec["ExitCode"]},
                "Config": dict(rec["Body"], Tty=bool(rec["Body"].get("Tty"))),
                "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}}}

    def remove(self, ref: str, *, force: bool, volumes: bool) -> None:
        rec = self._find(ref)
        if rec["State"] == "running" and not force:
            raise errors.Conflict(f"cannot remove container {rec['Name']}: container is running")
        del self.records[rec["Id"]]

    def counts(self) -> dict[str, int]:
        states = [r["State"] for r in self.records.values()]
        return {"running": states.count("running"), "paused": 0, "stopped": len(states) - states.count("running")}


class FakeImages:
    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {
            "busybox:latest": {"Id": "sha256:" + "ab" * 32, "RepoTags": ["busybox:latest"], "Size": 4261550, "Created": 1700000000},
            "ghcr.io/org/app:1.0": {"Id": "sha256:" + "cd" * 32, "RepoTags": ["ghcr.io/org/app:1.0"], "Size": 1000, "Created": 1700000000},
        }

    def list_json(self, all: bool = False, filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
        return [dict(v, RepoDigests=[], ParentId="", SharedSize=-1, Labels=None, Containers=-1) for v in self.images.values()]

    def inspect_json(self, ref: str) -> dict[str, Any]:
        for name, img in self.images.items():
            if ref in (name, img["Id"]):
                return img
        raise errors.ImageNotFound(f"No such image: {ref}")

    def load(self, stream: BinaryIO, quiet: bool = False) -> list[str]:
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                names = [m.name for m in tar]
        except tarfile.TarError as exc:
            raise errors.InvalidArgument(f"invalid tar archive: {exc}") from exc
        return [n.removesuffix(".tag") for n in names if n.endswith(".tag")]

    def pull(self, ref: str, **kw: Any) -> str:
        # What Docker Hub answers for a repository that does not exist (registry client, issue 5).
        from dockyard.core.reference import parse

        raise errors.NotFound(f"pull access denied for {parse(ref).familiar_name()}, repository does not exist or may "
                              "require 'docker login': denied: requested access to the resource is denied")

    def count(self) -> int:
        return len(self.images)


def tar_with(*names: str, size: int = 0) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for n in names:
            info = tarfile.TarInfo(n)
            info.size = size
            tar.addfile(info, io.BytesIO(b"x" * size))
    return buf.getvalue()


class RunningServer:
    def __init__(self, tmp: Path) -> None:
        self.containers = FakeContainers()
        self.images = FakeImages()
        system = SystemService(self.containers, self.images, tmp / "data", hostname="fakehost")
        self.services = Services(self.containers, self.images, system)
        self.path = tmp / "d.sock"
        self.sockets: list[Any] = []
        self.server = ApiServer(self.services, self.path)
        self.server.bind()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return "unix://" + str(self.path)

    def stop(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # AF_UNIX paths are limited to 108 bytes: keep the directory short.
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="dy", dir="/tmp"))
    srv = RunningServer(tmp)
    yield srv
    srv.stop()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
