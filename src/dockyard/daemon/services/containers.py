"""ContainerService: the container lifecycle (create, start, stop, kill,
restart, pause, unpause, rename, update, remove, prune), wait, attach, logs.
Read-only queries live in ``container_queries.py``, stop/kill/restart/
pause/unpause/rename/update/stop_all in ``container_control.py``,
prune/remove/purge in ``container_removal.py`` (functions of the service,
bound below as its methods); every state change publishes Docker's event
on the ``EventBus``.

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
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

from dockyard.core import lifecycle
from dockyard.core.events import EventBus, NullEventBus
from dockyard.core.containers import ContainerRecord, ContainerState, ContainerStore, Status
from dockyard.core.lifecycle import Action
from dockyard.core.mount import Mount
from dockyard.core.networks import EtcFiles, NetworkAttacher
from dockyard.core.runtime import STDERR, STDOUT, ExitStatus, OutputStream, Runtime
from dockyard.core.timefmt import parse_rfc3339, rfc3339_ns
from dockyard.core.events import CONTAINER, Event
from dockyard.daemon import logs as logfile
from dockyard.daemon import logaccess
from dockyard.daemon import pstable
from dockyard.daemon.services import container_control as control
from dockyard.daemon.services import container_queries as queries
from dockyard.daemon.services import container_removal as removal
from dockyard.daemon.services.container_control import RUNNING as _RUNNING
from dockyard.daemon.services.restartpolicy import RestartPolicy
from dockyard.daemon.createconfig import build_config
from dockyard.daemon.names import generate_name, validate_name
from dockyard.daemon.outputhub import OutputHub, Subscription
from dockyard.daemon.stdinhub import StdinHub
from dockyard.daemon.specgen import (ContainerFiles, SecurityDefaults, build_spec, hosts_file, init_binary,
                                    resolv_conf)
from dockyard.daemon.users import resolve_user
from dockyard.errors import (Conflict, EngineError, Internal, InvalidArgument, NotFound, NotImplemented_,
                             RuntimeFailure, StartFailed)
from dockyard.oci import runtime as oci
from dockyard.oci.image import ImageConfig
from dockyard.wire.models import containers as models

class ResolvedImage(Protocol):  # read-only: the image service's is a frozen dataclass
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def config(self) -> ImageConfig: ...


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
    security: SecurityDefaults = SecurityDefaults()  # daemon-wide security defaults + host facts
    init_path: str = "/usr/bin/tini-static"  # --init: bind-mounted as /sbin/docker-init (dockyardd --init-path)
    init_default: bool = False  # dockyardd --init: HostConfig.Init null means this
    userns: Any = None  # dockyardd --userns-remap: a daemon.usernsremap.Remap
    log_default: tuple[str, tuple[tuple[str, str], ...]] = ("json-file", ())  # dockyardd --log-driver/--log-opt


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
    health: Any = None  # services/health.HealthMonitor, set by wiring (None: no health checks)

    def __init__(self, store: ContainerStore, images: ImageProvider, runtime: Runtime,
                 paths: ContainerPaths, events: EventBus | None = None,
                 network: NetworkAttacher | None = None, volumes: Any = None) -> None:
        self._volumes = volumes  # daemon.services.volumes.VolumeService (None: no volumes, unit tests)
        self._store = store
        self._network = network  # None: loopback-only containers (unit tests)
        self._events: EventBus = events or NullEventBus()
        self._images = images
        self._runtime = runtime
        self._paths = paths
        self._cond = threading.Condition()
        self._hubs: dict[str, OutputHub] = {}
        self._stdins: dict[str, StdinHub] = {}  # OpenStdin containers: attachers' input (issue 4)
        self._exits: dict[str, int] = {}  # id -> number of exits seen (for next-exit waits)
        self._removed: dict[str, int] = {}  # id -> last exit code, for "removed" waiters
        self._locks: dict[str, threading.RLock] = {}
        self._stopping: set[str] = set()  # manual stop/kill in progress: no restart policy
        self._shutting_down = False

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

    def _publish(self, rec: ContainerRecord, action: str, **extra: str) -> None:
        # Docker's Actor.Attributes: the labels, then image and name (which win).
        attrs = {**rec.config.labels, "image": rec.config.image, "name": rec.config.name, **extra}
        self._events.publish(Event(CONTAINER, action, rec.id, attrs))

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
        if body.get("HostConfig") is None or isinstance(body["HostConfig"], dict):  # the daemon's default log driver
            from dockyard.daemon.logconfig import with_default

            driver, opts = self._paths.log_default
            body = {**body, "HostConfig": with_default(body.get("HostConfig") or {}, driver, dict(opts))}
        config = build_config(body, id=id, name=name, image_ref=image_ref, image_id=image.id,
                              image=image.config, created=rfc3339_ns())
        if self._volumes is not None:  # validates every mount before anything exists
            config = self._volumes.plan(config, image.config.config.volumes)
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
            if self._network is not None:
                self._network.plan(config, body.get("NetworkingConfig"))
            if self._volumes is not None:
                self._volumes.claim(config)
        except BaseException:
            self._purge(id, publish=False)
            if self._volumes is not None:  # anonymous volumes claimed for it go too: nothing left behind
                self._volumes.forget(config, True)
            raise
        self._publish(ContainerRecord(config, ContainerState()), "create")
        from dockyard.daemon import resources

        # warnings from the request: the stored HostConfig has what the kernel lacks emptied (daemon/blkio.py)
        return {"Id": id, "Warnings": resources.validate(body.get("HostConfig") or {}, resources.HostFacts.probe())}

    # ------------------------------------------------------------ start
    def start(self, ref: str) -> None:
        id = self._store.resolve(ref).id
        with self._lock(id):
            rec = self._store.get(id)
            lifecycle.transition(rec.state.status, Action.START, ref=ref)
            with self._cond:
                self._stopping.discard(id)
            try:
                self._start_locked(rec)
            except BaseException as exc:
                self._start_failed(rec, exc)
                raise

    def _start_locked(self, rec: ContainerRecord) -> None:
        id, cfg = rec.id, rec.config
        user = resolve_user(cfg.user, self._images.read_rootfs_file(id, "etc/passwd"),
                            self._images.read_rootfs_file(id, "etc/group"))
        netns = self._network.sandbox(cfg) if self._network is not None else ""
        spec = build_spec(cfg, user, self._files(id), cgroup_parent=self._paths.cgroup_parent,
                          sec=self._paths.security, network_ns=netns,
                          init_binary=init_binary(cfg.host_config_json, self._paths.init_path, self._paths.init_default))
        from dockyard.daemon.resources import with_resources

        spec = with_resources(spec, cfg.host_config_json)  # limits, ulimits, shm size, --device
        if self._paths.userns is not None:  # --userns-remap (daemon/usernsremap.py)
            from dockyard.daemon.usernsremap import apply, own_files

            spec = apply(spec, cfg.host_config_json, self._paths.userns)
            if spec.linux.uid_mappings:
                files = self._files(id)
                own_files(self._paths.userns, (files.hostname, files.hosts, files.resolv_conf), (self._dir(id),))
        mounts = [Mount.from_json(m) for m in json.loads((self._dir(id) / "rootfs.json").read_text())]
        if self._volumes is not None and cfg.mounts:
            from dockyard.daemon.specmounts import with_user_mounts

            spec = with_user_mounts(spec, self._volumes.spec_mounts(cfg, mounts))
        bundle = self._bundle(id)
        shutil.rmtree(bundle, ignore_errors=True)
        (bundle / "rootfs").mkdir(parents=True)
        (bundle / "config.json").write_text(json.dumps(oci.to_json(spec)))
        try:
            self._runtime.create(id, bundle, mounts, self._log_path(id), stdin=cfg.open_stdin)
            if cfg.open_stdin:  # the shim is up: input typed before start flows now
                self.stdin_hub(id).connect(self._runtime.open_stdin(id))
            if self._network is not None:  # init waits before exec: its namespace is ready
                files = self._files(id)
                self._network.attach(cfg, f"/proc/{self._runtime.state(id).pid}/ns/net",
                                     EtcFiles(hosts=files.hosts, resolv_conf=files.resolv_conf))
            out = self._runtime.attach(id)
            # Stamped before the process runs: a quick exit must not finish before it started.
            started_at = rfc3339_ns()
            try:
                self._runtime.start(id)
            except BaseException:
                out.close()
                raise
        except BaseException:
            self._disconnect_stdin(id)
            self._runtime.delete(id)
            if self._network is not None:
                self._network.detach(id)
            shutil.rmtree(bundle, ignore_errors=True)
            raise
        pid = self._runtime.state(id).pid
        self._save(id, rec.state.evolve(status=lifecycle.transition(rec.state.status, Action.START),
                                        pid=pid, exit_code=0, error="", oom_killed=False, manually_stopped=False,
                                        started_at=started_at))
        threading.Thread(target=self._monitor, args=(id, out), name=f"monitor-{id[:12]}", daemon=True).start()
        self._publish(rec, "start")
        from dockyard.daemon.services.health import watch_record

        watch_record(self.health, rec, lambda action: self._publish(rec, action), started_at)  # this run's

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
        policy = RestartPolicy.from_host_config(rec.config.host_config_json)
        with self._cond:
            by_user = id in self._stopping
            manual = by_user or self._shutting_down
        restart = (not manual and rec.state.status is Status.RUNNING
                   and policy.should_restart(status.code, rec.state.restart_count))
        action = Action.RESTART if restart else Action.EXIT
        if self.health is not None:
            self.health.unwatch(id)
        self._save(id, rec.state.evolve(
            status=lifecycle.transition(rec.state.status, action), pid=0, exit_code=status.code,
            oom_killed=status.oom_killed, finished_at=rfc3339_ns(status.finished_at_ns),
            manually_stopped=by_user))
        self._runtime.delete(id)
        if self._network is not None:
            self._network.detach(id)
        shutil.rmtree(self._bundle(id), ignore_errors=True)
        self._hub(id).end()
        self._disconnect_stdin(id)
        if status.oom_killed:
            self._publish(rec, "oom")
        started = rec.state.started_at
        duration = max(0, int(status.finished_at_ns / 1e9 - parse_rfc3339(started))) if started else 0
        self._publish(rec, "die", exitCode=str(status.code), execDuration=str(duration))
        self._note_exit(id)
        if restart:
            delay = policy.delay(rec.state.restart_count)
            timer = threading.Timer(delay, self._restart_by_policy, args=(id,))
            timer.daemon = True
            timer.start()
            return
        if rec.config.auto_remove:
            try:
                self._remove(id, force=True)
            except NotFound:
                pass

    def _restart_by_policy(self, id: str) -> None:
        """The restart policy's start, after its back-off delay."""
        with self._lock(id):
            try:
                rec = self._store.get(id)
            except NotFound:
                return
            with self._cond:
                cancelled = id in self._stopping or self._shutting_down
            if rec.state.status is not Status.RESTARTING:
                return
            if cancelled:
                self._save(id, rec.state.evolve(status=lifecycle.transition(rec.state.status, Action.EXIT)))
                self._note_exit(id)
                return
            rec = ContainerRecord(rec.config, rec.state.evolve(restart_count=rec.state.restart_count + 1))
            self._save(id, rec.state)
            try:
                self._start_locked(rec)
            except BaseException as exc:  # noqa: BLE001 - recorded in State.Error
                try:
                    self._start_failed(rec, exc)
                except EngineError:
                    pass
                return
            self._publish(rec, "restart")

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
        if logs:  # every driver's files (daemon/logaccess.py), not the json-file path
            replay = logaccess.replay(self._log_path(rec.id), rec.config.host_config_json, stdout=stdout,
                                      stderr=stderr)
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

        from dockyard.daemon.logconfig import log_files

        files = log_files(self._log_path(rec.id), rec.config.host_config_json)
        if not files:
            raise NotImplemented_("configured logging driver does not support reading")
        return logfile.read_log(files[-1], stdout=stdout, stderr=stderr, since=since, older=files[:-1],
                                until=until, tail=n, timestamps=timestamps, follow=follow, is_done=done)

    def stdin_hub(self, id: str) -> StdinHub:
        """Where attachers write a container's stdin (services/interactive.py)."""
        with self._cond:
            return self._stdins.setdefault(id, StdinHub())

    def _disconnect_stdin(self, id: str) -> None:
        with self._cond:
            hub = self._stdins.get(id)
        if hub is not None:
            hub.disconnect()

    def stdio_config(self, ref: str) -> tuple[str, bool, bool, bool]:
        """(id, Tty, OpenStdin, StdinOnce) for attach."""
        rec = self._store.resolve(ref)
        return rec.id, rec.config.tty, rec.config.open_stdin, bool(rec.config.config_json.get("StdinOnce"))

    def resize(self, ref: str, height: int, width: int) -> None:
        """The container's pty (``POST /containers/{id}/resize``); Conflict (409) when not running."""
        rec = self._store.resolve(ref)
        if rec.state.status not in (Status.RUNNING, Status.PAUSED):
            raise Conflict(f"Container {rec.id} is not running")
        self._runtime.resize(rec.id, height, width)

    def is_tty(self, ref: str) -> bool:
        return self._store.resolve(ref).config.tty

    # ------------------------------------------------------------ queries
    def list_json(self, all: bool = False, limit: int = -1,
                  filters: Mapping[str, Sequence[str]] | None = None, size: bool = False) -> list[dict[str, Any]]:
        from dockyard.daemon.services import health

        filters, wanted = health.split_filters(filters)
        out = queries.list_json(self._store, all=all, limit=limit, filters=filters,
                                resolve_image=queries.resolve_image_id(self._images),
                                size_of=self.size_of if size else None)
        out = health.decorate(self.health, out, wanted)
        if self._network is not None:
            for summary in out:
                try:
                    rec = self._store.get(summary["Id"])
                except NotFound:
                    continue
                summary["Ports"], summary["NetworkSettings"]["Networks"] = self._network.summary(rec.config)
        return out

    def size_of(self, rec: ContainerRecord) -> tuple[int, int]:
        """(SizeRw, SizeRootFs): the writable layer, and that plus the image."""
        graph = queries.read_graph(self._dir(rec.id) / "rootfs.json", self._bundle(rec.id) / "rootfs")
        rw = queries.dir_size(Path(graph["UpperDir"])) if "UpperDir" in graph else 0
        image_size = 0
        image_info = getattr(self._images, "inspect_json", None)
        if image_info is not None:
            try:
                image_size = int(image_info(rec.config.image_id).get("Size", 0))
            except EngineError:
                pass
        return rw, rw + image_size

    def inspect_json(self, ref: str, size: bool = False) -> dict[str, Any]:
        rec = self._store.resolve(ref)
        files = self._files(rec.id)
        graph = queries.read_graph(self._dir(rec.id) / "rootfs.json", self._bundle(rec.id) / "rootfs")
        log = logaccess.inspect_log_path(self._log_path(rec.id), rec.config.host_config_json, rec.state.started_at)
        paths = models.ContainerPaths(log=log, hostname=str(files.hostname),
                                      hosts=str(files.hosts), resolv_conf=str(files.resolv_conf),
                                      graph_driver=graph)
        out = models.inspect(rec, paths)
        health = self.health.get(rec.id) if self.health is not None else None
        if health is not None:
            out["State"]["Health"] = health.to_json()
        if self._network is not None:
            out["NetworkSettings"] = self._network.settings(rec.config)
        if size:
            out["SizeRw"], out["SizeRootFs"] = self.size_of(rec)
        return out

    def counts(self) -> dict[str, int]:
        return queries.counts(self._store)

    def top(self, ref: str, ps_args: str | None = None) -> dict[str, Any]:
        """``docker top``: host ``ps`` filtered to the container's cgroup, as Docker does."""
        import subprocess

        rec = self._store.resolve(ref)
        if rec.state.status not in (Status.RUNNING, Status.PAUSED):
            raise Conflict(f"Container {rec.id} is not running")
        args = pstable.ps_args(ps_args)
        pids = self._runtime.pids(rec.id)
        try:
            done = subprocess.run(["ps", *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Internal(f"error running ps: {exc}") from exc
        if done.returncode != 0:
            raise Internal(f"ps: {done.stderr.strip() or done.stdout.strip()}")
        return pstable.parse(done.stdout, pids)

    # ------------------------------------------------------------ stop, kill, restart, pause, rename, update
    # (container_control.py and container_removal.py: functions of the service, bound here as its methods)
    stop = control.stop
    kill = control.kill
    _signal = control._signal
    restart = control.restart
    pause = control.pause
    unpause = control.unpause
    rename = control.rename
    update = control.update
    stop_all = control.stop_all
    # ------------------------------------------------------------ prune, remove
    prune = removal.prune
    remove = removal.remove
    _remove = removal._remove
    _await_stopped = removal._await_stopped
    _purge = removal._purge

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
                    from functools import partial

                    from dockyard.daemon.services.health import watch_record

                    watch_record(self.health, rec, partial(self._publish, rec))  # bound now, not to the loop variable
                else:
                    exit = st.exit if st is not None and st.exit else ExitStatus(255, time.time_ns())
                    self._on_exit(rec.id, exit)
        for id in self._runtime.list():
            if id not in known:
                self._runtime.delete(id)
        from dockyard.daemon.services.bootstart import start_by_policy

        start_by_policy(self._store.list(), self.start)  # always / unless-stopped come back

