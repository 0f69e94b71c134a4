"""ContainerService: create, start, wait, attach, logs, list, inspect, remove.

Collaborators arrive through the constructor (see ``daemon/wiring.py``):
a ``ContainerStore`` for records, an ``ImageProvider`` for image configs and
root filesystems, and a ``Runtime`` that runs OCI bundles. The status of a
container changes only through ``core.lifecycle.transition``.

Threads: API handler threads call in; each running container has one
monitor thread that pumps its output to the ``OutputHub`` and records the
exit.  ``_cond`` guards in-memory bookkeeping (exit counters, hubs, removed
ids) and wakes waiters; a per-container lock orders start against remove.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal as signals
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

from dockyard.core import lifecycle
from dockyard.core.containers import ContainerRecord, ContainerState, ContainerStore, Status
from dockyard.core.lifecycle import Action
from dockyard.core.mount import Mount
from dockyard.core.runtime import STDERR, STDOUT, ExitStatus, OutputStream, Runtime
from dockyard.core.timefmt import rfc3339_ns
from dockyard.daemon import logs as logfile
from dockyard.daemon.createconfig import build_config
from dockyard.daemon.names import generate_name, validate_name
from dockyard.daemon.outputhub import OutputHub, Subscription
from dockyard.daemon.specgen import ContainerFiles, build_spec, hosts_file, resolv_conf
from dockyard.daemon.users import resolve_user
from dockyard.errors import EngineError, InvalidArgument, NotFound, RuntimeFailure, StartFailed
from dockyard.oci import runtime as oci
from dockyard.oci.image import ImageConfig
from dockyard.wire.models import containers as models

_RUNNING = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)
_FILTERS = {"id", "name", "status", "label", "exited"}


class ResolvedImage(Protocol):
    id: str
    name: str
    config: ImageConfig


class ImageProvider(Protocol):
    """The part of the image service containers need."""

    def resolve(self, ref: str) -> ResolvedImage: ...

    def prepare_rootfs(self, key: str, image_id: str) -> list[Mount]: ...

    def remove_rootfs(self, key: str) -> None: ...

    def read_rootfs_file(self, key: str, path: str) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class ContainerPaths:
    """``containers_root``: persistent per-container files (logs, /etc files);
    ``bundles_root``: OCI bundles, rebuilt at every start (on tmpfs)."""

    containers_root: Path
    bundles_root: Path
    host_resolv_conf: Path = Path("/etc/resolv.conf")
    cgroup_parent: str = "dockyard"


class AttachStream:
    """Replayed log entries, then live output until the process exits."""

    def __init__(self, replay: Iterator[tuple[int, bytes]], live: Subscription | None) -> None:
        self._replay = replay
        self._live = live

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        yield from self._replay
        if self._live is not None:
            yield from self._live

    def close(self) -> None:
        if self._live is not None:
            self._live.close()


class ContainerService:
    def __init__(self, store: ContainerStore, images: ImageProvider, runtime: Runtime,
                 paths: ContainerPaths) -> None:
        self._store = store
        self._images = images
        self._runtime = runtime
        self._paths = paths
        self._cond = threading.Condition()
        self._hubs: dict[str, OutputHub] = {}
        self._exits: dict[str, int] = {}  # id -> number of exits seen (for next-exit waits)
        self._removed: dict[str, int] = {}  # id -> last exit code, for "removed" waiters
        self._locks: dict[str, threading.RLock] = {}

    # ------------------------------------------------------------ helpers
    def _dir(self, id: str) -> Path:
        return self._paths.containers_root / id

    def _bundle(self, id: str) -> Path:
        return self._paths.bundles_root / id

    def _log_path(self, id: str) -> Path:
        return self._dir(id) / f"{id}-json.log"

    def _lock(self, id: str) -> threading.RLock:
        # Re-entrant: a failed start of an auto-remove container removes it
        # while start still holds the lock.
        with self._cond:
            return self._locks.setdefault(id, threading.RLock())

    def _hub(self, id: str) -> OutputHub:
        with self._cond:
            return self._hubs.setdefault(id, OutputHub())

    def _save(self, id: str, state: ContainerState) -> None:
        self._store.save_state(id, state)

    def _files(self, id: str) -> ContainerFiles:
        d = self._dir(id)
        return ContainerFiles(hostname=d / "hostname", hosts=d / "hosts", resolv_conf=d / "resolv.conf")

    # ------------------------------------------------------------ create
    def create(self, body: Mapping[str, Any], name: str | None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise InvalidArgument("invalid container config: body must be a JSON object")
        image_ref = body.get("Image")
        if not isinstance(image_ref, str) or not image_ref:
            raise InvalidArgument("Config cannot be empty in order to create a container")
        if name:
            name = validate_name(name)
        image = self._images.resolve(image_ref)
        id = secrets.token_hex(32)
        if not name:
            taken = {r.name for r in self._store.list()}
            name = generate_name(lambda n: n in taken)
        config = build_config(body, id=id, name=name, image_ref=image_ref, image_id=image.id,
                              image=image.config, created=rfc3339_ns())
        # Order: the row claims the name first (AlreadyExists leaves nothing),
        # then the snapshot and files; any later failure undoes all of it.
        self._store.create(ContainerRecord(config, ContainerState()))
        try:
            mounts = self._images.prepare_rootfs(id, image.id)
            d = self._dir(id)
            d.mkdir(parents=True, exist_ok=True)
            (d / "rootfs.json").write_text(json.dumps([m.to_json() for m in mounts]))
            files = self._files(id)
            files.hostname.write_text(config.hostname + "\n")
            files.hosts.write_text(hosts_file(config.hostname))
            try:
                host_resolv = self._paths.host_resolv_conf.read_text()
            except OSError:
                host_resolv = ""
            files.resolv_conf.write_text(resolv_conf(host_resolv))
            self._log_path(id).touch()
        except BaseException:
            self._purge(id)
            raise
        return {"Id": id, "Warnings": []}

    # ------------------------------------------------------------ start
    def start(self, ref: str) -> None:
        id = self._store.resolve(ref).id
        with self._lock(id):
            rec = self._store.get(id)
            lifecycle.transition(rec.state.status, Action.START, ref=ref)
            try:
                self._start_locked(rec)
            except BaseException as exc:
                self._start_failed(rec, exc)
                raise

    def _start_locked(self, rec: ContainerRecord) -> None:
        id, cfg = rec.id, rec.config
        user = resolve_user(cfg.user, self._images.read_rootfs_file(id, "etc/passwd"),
                            self._images.read_rootfs_file(id, "etc/group"))
        spec = build_spec(cfg, user, self._files(id), cgroup_parent=self._paths.cgroup_parent)
        mounts = [Mount.from_json(m) for m in json.loads((self._dir(id) / "rootfs.json").read_text())]
        bundle = self._bundle(id)
        shutil.rmtree(bundle, ignore_errors=True)
        (bundle / "rootfs").mkdir(parents=True)
        (bundle / "config.json").write_text(json.dumps(oci.to_json(spec)))
        try:
            self._runtime.create(id, bundle, mounts, self._log_path(id))
            out = self._runtime.attach(id)
            try:
                self._runtime.start(id)
            except BaseException:
                out.close()
                raise
        except BaseException:
            self._runtime.delete(id)
            shutil.rmtree(bundle, ignore_errors=True)
            raise
        pid = self._runtime.state(id).pid
        self._save(id, rec.state.evolve(status=lifecycle.transition(rec.state.status, Action.START),
                                        pid=pid, exit_code=0, error="", oom_killed=False,
                                        started_at=rfc3339_ns()))
        threading.Thread(target=self._monitor, args=(id, out), name=f"monitor-{id[:12]}", daemon=True).start()

    def _start_failed(self, rec: ContainerRecord, exc: BaseException) -> None:
        """Record why start failed (State.Error, ExitCode as Docker: 126/127
        when the command cannot run, else 128); remove an auto-remove
        container; turn a runtime exec failure into StartFailed (400)."""
        reason = exc.message if isinstance(exc, EngineError) else str(exc)
        message = f"failed to create task for container: unable to start container process: {reason}"
        code = exc.exit_code if isinstance(exc, RuntimeFailure) and exc.exit_code is not None else 128
        self._save(rec.id, rec.state.evolve(
            status=lifecycle.transition(rec.state.status, Action.START_FAILED),
            exit_code=code, error=message if isinstance(exc, RuntimeFailure) else reason))
        self._note_exit(rec.id)
        if rec.config.auto_remove:
            self._remove(rec.id, force=True)
        if isinstance(exc, RuntimeFailure) and exc.exit_code is not None:
            raise StartFailed(message, exit_code=exc.exit_code) from exc

    def _monitor(self, id: str, out: OutputStream) -> None:
        hub = self._hub(id)
        try:
            for stream, data in out:
                hub.publish(stream, data)
        finally:
            status = self._runtime.wait(id) or ExitStatus(code=255, finished_at_ns=time.time_ns())
            self._on_exit(id, status)

    def _on_exit(self, id: str, status: ExitStatus) -> None:
        try:
            rec = self._store.get(id)
        except NotFound:
            return
        self._save(id, rec.state.evolve(
            status=lifecycle.transition(rec.state.status, Action.EXIT), pid=0, exit_code=status.code,
            oom_killed=status.oom_killed, finished_at=rfc3339_ns(status.finished_at_ns)))
        self._runtime.delete(id)
        shutil.rmtree(self._bundle(id), ignore_errors=True)
        self._hub(id).end()
        self._note_exit(id)
        if rec.config.auto_remove:
            try:
                self._remove(id, force=True)
            except NotFound:
                pass

    def _note_exit(self, id: str) -> None:
        with self._cond:
            self._exits[id] = self._exits.get(id, 0) + 1
            self._cond.notify_all()

    # ------------------------------------------------------------ wait
    def wait(self, ref: str, condition: str = "not-running") -> dict[str, Any]:
        return self.begin_wait(ref, condition)()

    def begin_wait(self, ref: str, condition: str = "not-running") -> Callable[[], dict[str, Any]]:
        """Register a wait now, block later.

        The API sends the 200 headers between the two halves, and the docker
        CLI starts the container as soon as it sees them: registering first
        means a ``next-exit`` wait cannot miss an exit that follows at once.
        """
        if condition not in ("", "not-running", "next-exit", "removed"):
            raise InvalidArgument(f"invalid condition: \"{condition}\"")
        id = self._store.resolve(ref).id
        with self._cond:
            seen = self._exits.get(id, 0)

        def result() -> dict[str, Any]:
            with self._cond:
                while True:
                    if id in self._removed:
                        return {"StatusCode": self._removed[id], "Error": None}
                    try:
                        rec = self._store.get(id)
                    except NotFound:
                        return {"StatusCode": 0, "Error": None}
                    if condition in ("", "not-running") and rec.state.status not in _RUNNING:
                        return {"StatusCode": rec.state.exit_code, "Error": None}
                    if condition == "next-exit" and self._exits.get(id, 0) > seen:
                        return {"StatusCode": rec.state.exit_code, "Error": None}
                    self._cond.wait(timeout=1.0)

        return result

    # ------------------------------------------------------------ output
    def attach(self, ref: str, *, stdout: bool, stderr: bool, logs: bool, stream: bool) -> AttachStream:
        rec = self._store.resolve(ref)
        streams = frozenset(s for s, on in ((STDOUT, stdout), (STDERR, stderr)) if on)
        live = self._hub(rec.id).subscribe(streams) if stream else None
        replay: Iterator[tuple[int, bytes]] = iter(())
        if logs:
            replay = logfile.read_log(self._log_path(rec.id), stdout=stdout, stderr=stderr)
        return AttachStream(replay, live)

    def logs(self, ref: str, *, stdout: bool, stderr: bool, follow: bool = False, tail: str = "all",
             timestamps: bool = False, since: int = 0, until: int = 0) -> Iterator[tuple[int, bytes]]:
        rec = self._store.resolve(ref)
        n = int(tail) if tail.isdigit() else None

        def done() -> bool:
            try:
                return self._store.get(rec.id).state.status not in _RUNNING
            except NotFound:
                return True

        return logfile.read_log(self._log_path(rec.id), stdout=stdout, stderr=stderr, since=since,
                                until=until, tail=n, timestamps=timestamps, follow=follow, is_done=done)

    def is_tty(self, ref: str) -> bool:
        return self._store.resolve(ref).config.tty

    # ------------------------------------------------------------ queries
    def list_json(self, all: bool = False, limit: int = -1,
                  filters: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
        filters = filters or {}
        for key in filters:
            if key not in _FILTERS:
                raise InvalidArgument(f"invalid filter '{key}'")
        recs = sorted(self._store.list(), key=lambda r: r.config.created, reverse=True)
        if limit is not None and limit > 0:
            all = True
        out = [r for r in recs if (all or r.state.status in _RUNNING) and _matches(r, filters)]
        if limit is not None and limit > 0:
            out = out[:limit]
        now = time.time()
        return [models.summary(r, now) for r in out]

    def inspect_json(self, ref: str) -> dict[str, Any]:
        rec = self._store.resolve(ref)
        files = self._files(rec.id)
        graph: dict[str, str] = {}
        try:
            mounts = json.loads((self._dir(rec.id) / "rootfs.json").read_text())
            for opt in mounts[0].get("options", []) if mounts else []:
                key, _, value = opt.partition("=")
                name = {"lowerdir": "LowerDir", "upperdir": "UpperDir", "workdir": "WorkDir"}.get(key)
                if name:
                    graph[name] = value
            graph["MergedDir"] = str(self._bundle(rec.id) / "rootfs")
        except (OSError, ValueError):
            pass
        paths = models.ContainerPaths(log=str(self._log_path(rec.id)), hostname=str(files.hostname),
                                      hosts=str(files.hosts), resolv_conf=str(files.resolv_conf),
                                      graph_driver=graph)
        return models.inspect(rec, paths)

    def counts(self) -> dict[str, int]:
        c = {"running": 0, "paused": 0, "stopped": 0}
        for r in self._store.list():
            if r.state.status is Status.PAUSED:
                c["paused"] += 1
            elif r.state.status in (Status.RUNNING, Status.RESTARTING):
                c["running"] += 1
            else:
                c["stopped"] += 1
        return c

    # ------------------------------------------------------------ remove
    def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        id = self._store.resolve(ref).id
        self._remove(id, force=force, ref=ref)

    def _remove(self, id: str, *, force: bool, ref: str = "") -> None:
        with self._lock(id):
            rec = self._store.get(id)
            action = Action.FORCE_REMOVE if force else Action.REMOVE
            lifecycle.transition(rec.state.status, action, ref=ref or "/" + rec.name)
            if rec.state.status in _RUNNING:
                self._runtime.kill(id, signals.SIGKILL)
                self._await_stopped(id, timeout=15.0)
            rec = self._store.get(id)
            self._save(id, rec.state.evolve(status=Status.REMOVING))
            self._purge(id, exit_code=rec.state.exit_code)

    def _await_stopped(self, id: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while time.monotonic() < deadline:
                if self._store.get(id).state.status not in _RUNNING:
                    return
                self._cond.wait(timeout=0.1)

    def _purge(self, id: str, exit_code: int = 0) -> None:
        """Remove every trace of ``id``: runtime state, snapshot, files, row."""
        self._runtime.delete(id)
        self._images.remove_rootfs(id)
        shutil.rmtree(self._bundle(id), ignore_errors=True)
        shutil.rmtree(self._dir(id), ignore_errors=True)
        try:
            self._store.delete(id)
        except NotFound:
            pass
        with self._cond:
            hub = self._hubs.pop(id, None)
            self._exits.pop(id, None)
            self._locks.pop(id, None)
            self._removed[id] = exit_code
            if len(self._removed) > 1024:  # bounded: only recent removals are waited on
                self._removed.pop(next(iter(self._removed)))
            self._cond.notify_all()
        if hub is not None:
            hub.end()

    def stop_all(self, timeout: float = 10.0) -> None:
        """Daemon shutdown: SIGTERM (or the stop signal) to every running
        container, SIGKILL to those still running after ``timeout``."""
        running = [r for r in self._store.list() if r.state.status in _RUNNING]
        for rec in running:
            try:
                self._runtime.kill(rec.id, _signal_number(rec.config.stop_signal))
            except Exception:  # noqa: BLE001 - best effort; SIGKILL follows
                pass
        deadline = time.monotonic() + timeout
        for rec in running:
            self._await_stopped(rec.id, max(0.0, deadline - time.monotonic()))
            if self._store.get(rec.id).state.status in _RUNNING:
                self._runtime.kill(rec.id, signals.SIGKILL)
                self._await_stopped(rec.id, 5.0)

    # ------------------------------------------------------------ recovery
    def recover(self) -> None:
        """After a daemon restart: reconcile records with what the runtime has."""
        known = set()
        for rec in self._store.list():
            known.add(rec.id)
            if rec.state.status is Status.REMOVING:
                self._purge(rec.id, rec.state.exit_code)
            elif rec.state.status in _RUNNING:
                try:
                    st = self._runtime.state(rec.id)
                except NotFound:
                    st = None
                if st is not None and st.status == "running":
                    out = self._runtime.attach(rec.id)
                    threading.Thread(target=self._monitor, args=(rec.id, out), daemon=True).start()
                else:
                    exit = st.exit if st is not None and st.exit else ExitStatus(255, time.time_ns())
                    self._on_exit(rec.id, exit)
        for id in self._runtime.list():
            if id not in known:
                self._runtime.delete(id)


def _signal_number(name: str) -> int:
    """"SIGTERM", "TERM" or "15" -> 15; SIGTERM when empty."""
    if not name:
        return int(signals.SIGTERM)
    if name.isdigit():
        return int(name)
    upper = name.upper()
    try:
        return int(signals.Signals[upper if upper.startswith("SIG") else "SIG" + upper])
    except KeyError:
        raise InvalidArgument(f"invalid signal: {name}") from None


def _matches(rec: ContainerRecord, filters: Mapping[str, Sequence[str]]) -> bool:
    for key, values in filters.items():
        if not values:
            continue
        if key == "id" and not any(rec.id.startswith(v) for v in values):
            return False
        if key == "name" and not any(v.lstrip("/") in rec.name for v in values):
            return False
        if key == "status" and rec.state.status.value not in values:
            return False
        if key == "exited" and (rec.state.status is not Status.EXITED
                                or str(rec.state.exit_code) not in values):
            return False
        if key == "label":
            for v in values:
                k, eq, want = v.partition("=")
                if k not in rec.config.labels or (eq and rec.config.labels[k] != want):
                    return False
    return True
