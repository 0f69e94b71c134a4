"""BuildService: ``POST /build`` and ``POST /build/prune`` on top of ``build.executor.Builder``.

RUN steps go through the ``ContainerService`` (``ContainerStepRunner``):
a real container with a ``dockyard.build`` label, its output attached, its
upper dir diffed into a layer, then removed.  That is what Docker's classic
builder does (the containers show in ``ps``/events while they run), and it
reuses everything a container gets (user lookup, /etc files, networks,
security defaults) instead of a second path to the runtime; measured cost
per RUN is in ``bench/build_bench.py``.

The context arrives as a tar (optionally compressed) or as a bare
Dockerfile; it is extracted with ``image.layers.apply_layer`` (no entry can
land outside the context dir) into a scratch dir that is always removed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from dockyard.build.cachestore import FileCacheStore
from dockyard.build.executor import Builder
from dockyard.build.state import Options, RunRequest
from dockyard.core.snapshots import layer_dirs, upper_dir
from dockyard.errors import EngineError, InvalidArgument, NotImplemented_, StartFailed
from dockyard.image import diff
from dockyard.image.compression import NONE, decompress
from dockyard.image.layers import apply_layer
from dockyard.image.service import ImageService
from dockyard.image.transfer import ImageTransfer

BUILD_LABEL = "dockyard.build"
_MAX_DOCKERFILE = 10 << 20


class ContainerStepRunner:
    """RUN through the container service (see the module docstring)."""

    def __init__(self, containers: Any, images: ImageService, transfer: ImageTransfer,
                 layer_ids: diff.IdMapper | None = None) -> None:
        self.containers = containers
        self.images = images
        self.transfer = transfer
        self.layer_ids = layer_ids  # --userns-remap: the RUN container's host ids back to its own

    def run(self, image_id: str, req: RunRequest, output: Callable[[bytes], None],
            started: Callable[[str], None]) -> tuple[int, str | None]:
        host: dict[str, Any] = {"NetworkMode": req.network}
        if req.mounts:
            host["Mounts"] = list(req.mounts)  # RUN --mount (build/runmounts.py)
        body = {"Image": image_id, "Entrypoint": [""], "Cmd": list(req.argv), "Env": list(req.env),
                "WorkingDir": req.workdir, "User": req.user, "Labels": {BUILD_LABEL: req.build_id},
                "AttachStdout": True, "AttachStderr": True, "HostConfig": host}
        cid = self.containers.create(body, None)["Id"]
        try:
            out = self.containers.attach(cid, stdout=True, stderr=True, logs=False, stream=True)
            waiter = self.containers.begin_wait(cid)
            started(cid)
            try:
                self.containers.start(cid)
            except StartFailed as exc:
                out.close()
                output((exc.message + "\n").encode())
                return exc.exit_code or 126, None
            for _stream, data in out:
                output(data)
            code = int(waiter()["StatusCode"])
            if code != 0:
                return code, None
            mounts = self.images.snapshotter.mounts(cid)
            upper = upper_dir(mounts)
            lowers = [d for d in layer_dirs(mounts) if d != upper]
            if req.mounts:
                drop_mount_points(upper, lowers, [m["Target"] for m in req.mounts])
            items = diff.plan(upper, lowers)
            blob = (self.transfer.store_layer(diff.layer_chunks(upper, lowers, items=items, ids=self.layer_ids))
                    if items else None)
            return code, blob
        finally:
            try:
                self.containers.remove(cid, force=True)
            except EngineError:
                pass


def drop_mount_points(upper: str, lowers: list[str], targets: list[str]) -> None:
    """Remove from the RUN's upper dir the empty mount points (and empty parents) the runtime made
    for RUN --mount targets the image did not have: the mounts leave no trace in the layer."""
    from dockyard.image import rootfs

    for target in targets:
        parts = [p for p in target.split("/") if p]
        while parts and rootfs.lookup(lowers, parts) is None:
            path = os.path.join(upper, *parts)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    os.rmdir(path)  # fails (kept) when the RUN put something there
                elif os.path.isfile(path) and os.path.getsize(path) == 0:
                    os.unlink(path)  # a file bind's mount point
                else:
                    break
            except OSError:
                break
            parts.pop()


class BuildService:
    def __init__(self, images: ImageService, transfer: ImageTransfer, containers: Any, data_root: str | Path,
                 exec_root: str | Path | None = None, userns: Any = None) -> None:
        root = Path(data_root) / "build"
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        # RUN --mount=type=secret files live only for a RUN, on the exec root's tmpfs when there is one
        secrets_root = Path(exec_root) / "build-secrets" if exec_root else root / "secrets"
        for parent in (root / "tmp", secrets_root):  # a crashed build's scratch dirs and secret files
            if parent.is_dir():
                for stale in parent.iterdir():
                    shutil.rmtree(stale, ignore_errors=True)
        self.cache = FileCacheStore(root / "cache")
        self.scratch = str(root / "tmp")
        owner = layer_ids = None
        if userns is not None:  # --userns-remap: RUN containers are remapped (their secrets and layers too)
            from functools import partial

            from dockyard.daemon.usernsremap import container_ids, host_ids

            owner, layer_ids = partial(host_ids, userns), partial(container_ids, userns)
        self.builder = Builder(images, transfer, ContainerStepRunner(containers, images, transfer, layer_ids),
                               self.cache, self.scratch, secrets_root=str(secrets_root), secrets_owner=owner)

    def prepare(self, body: BinaryIO, opts: Options, dockerfile_path: str) -> str:
        """Extract the context and read the Dockerfile into ``opts``; the context dir (``build`` removes it).

        Runs on the request's thread: the body is read completely before any
        response byte is sent, and a bad archive is still a plain 400.
        """
        ctx = tempfile.mkdtemp(prefix="context-", dir=self.scratch)
        try:
            os.rmdir(ctx)
            text = _extract(body, ctx)
            if text is None:
                text = _read_dockerfile(ctx, dockerfile_path)
                opts.filename = os.path.basename(dockerfile_path) or "Dockerfile"
            opts.dockerfile = text
            _drop_ignored_build_files(ctx, dockerfile_path)
            return ctx
        except BaseException:
            shutil.rmtree(ctx, ignore_errors=True)
            raise

    def build(self, ctx: str, opts: Options, emit: Callable[[str], None]) -> str:
        """Build from a prepared context (removed afterwards, whatever happens); the image id."""
        try:
            return self.builder.build(ctx, opts, emit)
        finally:
            shutil.rmtree(ctx, ignore_errors=True)

    def prune(self) -> dict[str, Any]:
        removed, size = self.cache.prune()
        size += self.builder.cache_mounts.prune()
        return {"CachesDeleted": removed or None, "SpaceReclaimed": size}


def _extract(body: BinaryIO, dest: str) -> str | None:
    """Unpack a context tar into ``dest``; a body that is no archive is the Dockerfile itself (returned)."""
    kind, stream = decompress(body)
    head = _read_full(stream, 512)  # a raw read may return a short first chunk
    if kind == NONE and not _looks_like_tar(head):
        rest = _read_full(stream, _MAX_DOCKERFILE)
        os.mkdir(dest)
        return (head + rest).decode("utf-8", "replace")
    os.mkdir(dest)
    apply_layer(_EndPadded(_Prefixed(head, stream)), dest)  # type: ignore[arg-type]
    return None


class _EndPadded(io.RawIOBase):
    """The docker CLI's ``-f -`` context (``AddDockerfileToBuildContext``) ends without the last entry's
    padding or the end-of-archive blocks; Go's tar reader takes that as the end, Python's does not.
    Supply the zeros at EOF, so such a tar reads as it does in moby."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.count = 0
        self.tail: bytes | None = None

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.tail is None:
            data = self.raw.read(n)
            if data:
                self.count += len(data)
                return data
            self.tail = bytes(-self.count % 512 + 1024)
        out = self.tail if n < 0 else self.tail[:n]
        self.tail = self.tail[len(out):]
        return out


def _read_full(stream: Any, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        data = stream.read(n - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def _drop_ignored_build_files(ctx: str, dockerfile: str) -> None:
    """moby's ``removeDockerfile``: the client always sends the Dockerfile and .dockerignore; when
    .dockerignore lists them they are dropped from the context after the Dockerfile was read."""
    from dockyard.build.copier import scoped
    from dockyard.wire.dockerignore import Matcher, read_patterns

    try:
        with open(os.path.join(ctx, ".dockerignore"), encoding="utf-8") as f:
            matcher = Matcher(read_patterns(f.read()))
    except OSError:
        return
    for name in (".dockerignore", dockerfile or "Dockerfile"):
        if matcher.matches(name):
            path = scoped(ctx, name)
            if os.path.isfile(path):
                os.unlink(path)


def _looks_like_tar(block: bytes) -> bool:
    import tarfile

    if len(block) < 512:
        return len(block) == 0
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        return True
    except tarfile.HeaderError:
        return False


def _read_dockerfile(ctx: str, name: str) -> str:
    from dockyard.build.copier import scoped

    candidates = [name] if name and name != "Dockerfile" else ["Dockerfile", "dockerfile"]
    for c in candidates:
        path = scoped(ctx, c)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                return f.read(_MAX_DOCKERFILE).decode("utf-8", "replace")
    raise InvalidArgument(f"Cannot locate specified Dockerfile: {name or 'Dockerfile'}")


class _Prefixed(io.RawIOBase):
    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n < 0:
                out, self.head = self.head + self.rest.read(), b""
                return out
            out, self.head = self.head[:n], self.head[n:]
            return out
        return self.rest.read(n)


def options_from_query(query: Any) -> tuple[Options, str]:
    """Docker's ``POST /build`` query parameters -> (Options, Dockerfile path in the context)."""
    def s(name: str) -> str:
        return query.query_str(name) or ""

    def js(name: str) -> dict[str, Any]:
        raw = s(name)
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise InvalidArgument(f"invalid {name}: not a JSON object") from None
        if not isinstance(value, dict):
            raise InvalidArgument(f"invalid {name}: not a JSON object")
        return value

    if s("remote"):
        raise NotImplemented_("remote build contexts (git, URLs) are not supported: send the context as a tar")
    version = s("version")
    if version == "2":
        raise NotImplemented_("BuildKit (version=2) is not supported by Dockyard: use DOCKER_BUILDKIT=0")
    cache_from = []
    raw_cf = s("cachefrom")
    if raw_cf:
        try:
            cache_from = [str(c) for c in json.loads(raw_cf)]
        except (ValueError, TypeError):
            raise InvalidArgument("invalid cachefrom: not a JSON list") from None
    network = s("networkmode") or "bridge"
    if network == "default":
        network = "bridge"
    opts = Options(dockerfile="", tags=[t for t in query.query.get("t", []) if t],
                   build_args={str(k): (None if v is None else str(v)) for k, v in js("buildargs").items()},
                   target=s("target"), no_cache=query.query_bool("nocache"),
                   labels={str(k): str(v) for k, v in js("labels").items()}, network=network,
                   platform=s("platform"), cache_from=cache_from, quiet=query.query_bool("q"),
                   pull=query.query_bool("pull"))
    return opts, s("dockerfile") or "Dockerfile"
