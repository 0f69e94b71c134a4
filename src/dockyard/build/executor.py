"""Runs a parsed Dockerfile: stages in dependency order (independent ones in parallel), steps with the cache.

Theory of operation
-------------------
``Builder.build`` parses, picks the target stage and the stages it needs
(``FROM <stage>``, ``COPY --from=<stage>``), and starts one thread per needed
stage; a stage waits only for the stages it reads.  Each step turns a
``State`` (config JSON + layer blobs + cache key) into the next one:

* config steps (ENV, CMD, ...) edit the config and add an empty-layer history entry;
* COPY/ADD/WORKDIR write a layer tar straight from files (``copier``);
* RUN asks the ``StepRunner`` (the daemon runs a container and commits it).

Before doing a step its cache key (``cache.step_key``) is looked up; a hit
whose blobs still exist is reused ("Using cache").  Output of parallel
stages is shown in Dockerfile order: the first unfinished stage streams
live, later ones are buffered until it is their turn.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from dockyard.core.chunks import ChunkReader
from dockyard.build import cache, cachefrom, steps
from dockyard.build.dockerfile import ast, parse
from dockyard.build.expand import word
from dockyard.build.state import CacheStore, Options, State, StepRunner
from dockyard.errors import EngineError, FailedPrecondition, InvalidArgument, NotFound
from dockyard.image import flatten, platforms
from dockyard.image.layers import apply_layer
from dockyard.image.service import ImageService
from dockyard.image.transfer import ImageTransfer

PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
              "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


class _Ordered:
    """Per-stage output shown in stage order (see the module docstring)."""

    def __init__(self, emit: Callable[[str], None], order: list[int]) -> None:
        self.emit = emit
        self.order = order
        self.buffers: dict[int, list[str]] = {i: [] for i in order}
        self.done: set[int] = set()
        self.head = 0
        self.lock = threading.Lock()

    def write(self, stage: int, text: str) -> None:
        with self.lock:
            if self.head < len(self.order) and self.order[self.head] == stage:
                self.emit(text)
            else:
                self.buffers[stage].append(text)

    def finish(self, stage: int) -> None:
        with self.lock:
            self.done.add(stage)
            while self.head < len(self.order) and self.order[self.head] in self.done:
                self.head += 1
                if self.head < len(self.order):
                    nxt = self.order[self.head]
                    for text in self.buffers[nxt]:
                        self.emit(text)
                    self.buffers[nxt] = []


def runmount_froms(mounts: tuple[str, ...]) -> list[str]:
    """The ``from=`` of RUN --mount values, unexpanded (a bad value fails later, at its step)."""
    out = []
    for text in mounts:
        for part in text.split(","):
            key, _, value = part.partition("=")
            if key.strip().lower() == "from" and value:
                out.append(value)
    return out


class Builder:
    def __init__(self, images: ImageService, transfer: ImageTransfer, runner: StepRunner, cache_store: CacheStore,
                 scratch_root: str, mounts_root: str | None = None, secrets_root: str | None = None,
                 secrets_owner: Callable[[int, int], tuple[int, int]] | None = None) -> None:
        from dockyard.build.runmounts import CacheMounts

        self.images = images
        self.transfer = transfer
        self.runner = runner
        self.cache = cache_store
        self.scratch_root = scratch_root
        # RUN --mount=type=cache directories: beside the scratch dir, surviving restarts
        self.cache_mounts = CacheMounts(mounts_root or os.path.join(os.path.dirname(scratch_root), "mounts"))
        # RUN --mount=type=secret files, one dir per build; a tmpfs (exec root) when the daemon gives one
        self.secrets_root = secrets_root or os.path.join(os.path.dirname(scratch_root), "secrets")
        self.secrets_owner = secrets_owner  # --userns-remap: the RUN container's ids on the host (build/secrets.py)
        self.lock = threading.Lock()  # snapshot creation (unpack) and image records: one at a time
        self.materialised: dict[str, int] = {}  # image id -> RUNs using it (0: existed before, never removed)

    def build(self, context_dir: str, opts: Options, emit: Callable[[str], None]) -> str:
        """Build; ``emit`` gets the text Docker's classic builder streams.  The image id."""
        return _Build(self, context_dir, opts, emit).run()

    def secrets_dir(self, build_id: str) -> str:
        return os.path.join(self.secrets_root, build_id)


class _Build:
    def __init__(self, b: Builder, context_dir: str, opts: Options, emit: Callable[[str], None]) -> None:
        self.b = b
        self.context = context_dir
        self.opts = opts
        self.emit = emit if not opts.quiet else (lambda _t: None)
        self.id = uuid.uuid4().hex
        self.used_args: set[str] = set()
        self.results: dict[int, Future[State]] = {}
        self.fs_cache: dict[str, str] = {}  # state key -> extracted dir (COPY --from)
        self.fs_lock = threading.Lock()
        self._sources: list[cachefrom.Source] | None = None  # --cache-from images, resolved on first use
        self.tmp = tempfile.mkdtemp(prefix="build-", dir=b.scratch_root)

    # -- orchestration ---------------------------------------------------------------------
    def run(self) -> str:
        try:
            return self._run()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            shutil.rmtree(self.b.secrets_dir(self.id), ignore_errors=True)

    def _run(self) -> str:
        df = parse(self.opts.dockerfile, self.opts.filename)
        for note in df.notes:
            self.emit(f"[Note] {note}\n")
        host = platforms.host()
        for p in [self.opts.platform] + [s.base.platform for s in df.stages]:
            if p and "$" not in p and platforms.parse(p) != host:
                raise FailedPrecondition(f"dockyard builds for the host platform only ({host}); got {p}")
        self.meta = self._meta_args(df)
        target = df.stages[-1]
        if self.opts.target:
            found = df.stage(self.opts.target)
            if found is None:
                raise InvalidArgument(f"failed to reach build target {self.opts.target} in Dockerfile")
            target = found
        needed = self._needed(df, target)
        order = sorted(needed)
        total = sum(1 + len(df.stages[i].instructions) for i in order)
        numbering, n = {}, 0
        for i in order:
            numbering[i] = n
            n += 1 + len(df.stages[i].instructions)
        self.out = _Ordered(self.emit, order)
        self.total = total
        with ThreadPoolExecutor(max_workers=max(1, len(order)), thread_name_prefix=f"build-{self.id[:8]}") as pool:
            for i in order:
                self.results[i] = pool.submit(self._stage, df, df.stages[i], numbering[i])
            errors = []
            for i in order:
                try:
                    self.results[i].result()
                except BaseException as exc:  # noqa: BLE001 - reported below, first one wins
                    errors.append(exc)
            if errors:
                raise errors[0]
        final = self.results[target.index].result()
        self._warn_unused(df)
        if self.opts.labels:
            labels = dict(final.run.get("Labels") or {})
            labels.update(self.opts.labels)
            final.run["Labels"] = labels
        names = [steps.normalise_tag(t) for t in self.opts.tags]
        with self.b.lock:
            image_id = self.b.transfer.create_image(final.config, final.layers, names)
        return image_id

    def _meta_args(self, df: ast.Dockerfile) -> dict[str, str]:
        host = platforms.host()
        meta = {"BUILDPLATFORM": str(host), "TARGETPLATFORM": str(host), "BUILDOS": host.os,
                "BUILDARCH": host.architecture, "TARGETOS": host.os, "TARGETARCH": host.architecture}
        for a in df.meta_args:
            for name, default in a.args:
                given = self.opts.build_args.get(name)
                if name in self.opts.build_args and given is not None:
                    meta[name] = given
                    self.used_args.add(name)
                elif default is not None:
                    meta[name] = word(default, meta, df.escape)
                else:
                    meta.setdefault(name, "")
        return meta

    def _needed(self, df: ast.Dockerfile, target: ast.Stage) -> set[int]:
        needed: set[int] = set()
        todo = [target]
        while todo:
            s = todo.pop()
            if s.index in needed:
                continue
            needed.add(s.index)
            for dep in self._deps(df, s):
                todo.append(df.stages[dep])
        return needed

    def _deps(self, df: ast.Dockerfile, s: ast.Stage) -> list[int]:
        refs = [word(s.base.image, self.meta, df.escape)]
        refs += [i.from_ for i in s.instructions if isinstance(i, ast.Copy) and i.from_]
        refs += [ref for i in s.instructions if isinstance(i, ast.Command) for ref in runmount_froms(i.mounts)]  # RUN --mount=from=stage
        out = []
        for ref in refs:
            dep = df.stage(ref)
            if dep is not None and dep.index < s.index:
                out.append(dep.index)
        return out

    def _warn_unused(self, df: ast.Dockerfile) -> None:
        unused = sorted(k for k in self.opts.build_args if k not in self.used_args and k not in PROXY_ARGS)
        if unused:
            self.emit(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed\n")

    # -- one stage ------------------------------------------------------------------------------
    def _stage(self, df: ast.Dockerfile, stage: ast.Stage, first_step: int) -> State:
        try:
            runner = steps.StageRunner(self, df, stage, first_step)
            return runner.run()
        finally:
            self.out.finish(stage.index)

    def say(self, stage: int, text: str) -> None:
        self.out.write(stage, text)

    def stage_state(self, df: ast.Dockerfile, ref: str, stage: int) -> State | None:
        """The result of an earlier stage named ``ref`` (waits for it), or None when ``ref`` is no stage."""
        dep = df.stage(ref)
        if dep is None or dep.index >= stage:
            return None
        return self.results[dep.index].result().child(self.results[dep.index].result().key)

    def fs_of(self, state: State) -> str:
        """A directory holding ``state``'s merged filesystem (for COPY --from), made once per build."""
        with self.fs_lock:
            hit = self.fs_cache.get(state.key)
            if hit:
                return hit
            self.ensure_snapshots(state)
            dest = os.path.join(self.tmp, f"fs-{len(self.fs_cache)}")
            os.mkdir(dest)
            dirs = self.layer_dirs(state)
            if dirs:
                stream = ChunkReader(flatten.export_chunks(dirs))
                apply_layer(stream, dest)  # type: ignore[arg-type]
            self.fs_cache[state.key] = dest
            return dest

    def ensure_snapshots(self, state: State) -> str:
        from dockyard.image.unpack import unpack

        with self.b.lock:
            return unpack(self.b.images.content, self.b.images.snapshotter, state.diff_ids, state.layers)

    def layer_dirs(self, state: State) -> list[str]:
        from dockyard.core.digest import chain_id
        from dockyard.core.snapshots import layer_dirs

        if not state.layers:
            return []
        self.ensure_snapshots(state)
        return layer_dirs(self.b.images.snapshotter.mounts(chain_id(state.diff_ids)))

    def materialise(self, state: State) -> str:
        """``state`` as an image a container can be created from (dangling unless it exists); its id."""
        from dockyard.core.digest import of_bytes
        from dockyard.core.images import dangling_name

        data = json.dumps(state.config, separators=(",", ":")).encode()
        image_id = str(of_bytes(data))
        with self.b.lock:
            count = self.b.materialised.get(image_id)
            if count is None:
                existed = bool(self.b.images.images.by_id(image_id))
                self.b.transfer.create_image(state.config, state.layers, ())
                self.b.materialised[image_id] = 0 if existed else 1
            elif count > 0:
                self.b.materialised[image_id] = count + 1
            return image_id

    def release(self, image_id: str) -> None:
        """Undo ``materialise``: the dangling record goes when its last RUN is done (blobs stay for the cache)."""
        from dockyard.core.images import dangling_name

        with self.b.lock:
            count = self.b.materialised.get(image_id, 0)
            if count > 1:
                self.b.materialised[image_id] = count - 1
                return
            self.b.materialised.pop(image_id, None)
            if count == 1:
                try:
                    self.b.images.images.delete(dangling_name(image_id))
                except NotFound:
                    pass

    def cached(self, key: str) -> State | None:
        if self.opts.no_cache:
            return None
        hit = self.b.cache.get(key)
        if hit is None:
            return None
        state = State.from_json(key, hit)
        if not all(self.b.images.content.exists(d) for d in state.layers):
            return None
        return state

    def cache_from_hit(self, state: State, created_by: str, key: str) -> State | None:
        """The step restored from a ``--cache-from`` image (``build/cachefrom.py``), or None."""
        if not self.opts.cache_from or self.opts.no_cache:
            return None
        hit = cachefrom.match(self._cache_sources(), state.config.get("history") or [], state.diff_ids, created_by)
        if hit is None or (hit.blob and not self.b.images.content.exists(hit.blob)):
            return None
        new = state.child(key)
        if hit.diff_id:
            new.layers.append(hit.blob)
            new.config["rootfs"] = {"type": "layers", "diff_ids": [*state.diff_ids, hit.diff_id]}
        new.config["history"] = [*(state.config.get("history") or []), hit.entry]
        if hit.entry.get("created"):
            new.config["created"] = hit.entry["created"]
        self.remember(new)
        return new

    def _cache_sources(self) -> list[cachefrom.Source]:
        with self.fs_lock:
            if self._sources is None:
                self._sources = []
                for ref in self.opts.cache_from:
                    try:
                        img = self.b.images.resolve(ref)
                    except NotFound:
                        self.emit(f"[Warning] cache-from image {ref} not found: ignored\n")
                        continue  # Docker warns and builds on
                    blobs = [str(d) for d in self.b.transfer.layers_of(img.id)]
                    self._sources.append(cachefrom.Source.of(dict(img.raw_config), blobs))
            return self._sources

    def remember(self, state: State) -> None:
        self.b.cache.put(state.key, state.to_json())

    def now(self) -> str:
        return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")

    def base_state(self, ref: str, stage: int) -> State:
        """FROM an image (``scratch`` included); pulled when missing and a registry is configured."""
        if ref == "scratch":
            host = platforms.host()
            return State({"architecture": host.architecture, "os": host.os, "config": {},
                          "rootfs": {"type": "layers", "diff_ids": []}, "history": []}, [], cache.base_key("scratch"))
        try:
            img = self.b.images.resolve(ref)
        except NotFound:
            if self.b.images.remotes is None:
                raise
            self.say(stage, f"Pulling {ref}\n")
            self.b.images.pull(ref)
            img = self.b.images.resolve(ref)
        if self.opts.pull and self.b.images.remotes is not None:
            try:
                self.b.images.pull(ref)
                img = self.b.images.resolve(ref)
            except EngineError as exc:
                self.say(stage, f"[Warning] pull of {ref} failed: {exc}\n")
        raw = _clean_base(dict(img.raw_config))
        layers = [str(d) for d in self.b.transfer.layers_of(img.id)]
        return State(raw, layers, cache.base_key(img.id))


def _clean_base(raw: dict[str, Any]) -> dict[str, Any]:
    import copy

    out = copy.deepcopy(raw)
    for k in ("container", "container_config", "docker_version", "author", "comment", "parent", "id"):
        out.pop(k, None)
    out.setdefault("config", {})
    out.setdefault("history", [])
    out.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    return out
