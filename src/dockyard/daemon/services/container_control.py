"""ContainerService's signals and state changes of an existing container:
stop, kill, restart, pause, unpause, rename, update, and stop_all at daemon
shutdown.

Functions of the service (``svc``), bound as its methods in
``containers.py``: they use its store, runtime, locks and event publishing
as the methods there do.  See ``containers.py`` for the threading rules.
"""

from __future__ import annotations

import signal as signals
import time
from typing import TYPE_CHECKING, Any, Mapping

from dockyard.core import lifecycle
from dockyard.core.containers import ContainerRecord, Status
from dockyard.core.lifecycle import Action
from dockyard.daemon.names import validate_name
from dockyard.daemon.services.restartpolicy import RestartPolicy
from dockyard.errors import Conflict, Internal, InvalidArgument, NotFound, NotModified

if TYPE_CHECKING:
    from dockyard.daemon.services.containers import ContainerService

RUNNING = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)
DEFAULT_STOP_TIMEOUT = 10
# HostConfig resources ``update`` accepts (those our cgroups apply so far are
# Memory, PidsLimit and CpuShares; the rest are recorded for inspect).
_UPDATABLE = ("Memory", "MemorySwap", "MemoryReservation", "PidsLimit", "CpuShares", "CpuPeriod",
              "CpuQuota", "NanoCpus", "BlkioWeight", "CpusetCpus", "CpusetMems")


def stop(svc: ContainerService, ref: str, *, timeout: int | None = None, signal: str | None = None) -> None:
    """SIGTERM (or the stop signal), then SIGKILL after ``timeout`` seconds
    (default: the container's StopTimeout, else 10; -1 waits forever).
    NotModified (304) when it is not running."""
    rec = svc._store.resolve(ref)
    if rec.state.status not in RUNNING:
        raise NotModified(f"container {ref} is already stopped")
    sig = _signal_number(signal or rec.config.stop_signal)
    if timeout is None:
        stop_timeout = rec.config.config_json.get("StopTimeout")
        timeout = stop_timeout if isinstance(stop_timeout, int) else DEFAULT_STOP_TIMEOUT
    with svc._cond:
        svc._stopping.add(rec.id)
    if svc._store.get(rec.id).state.status is Status.RESTARTING:
        svc._await_stopped(rec.id, 5.0)  # the pending restart sees _stopping and gives up
    else:
        try:
            svc._signal(rec, sig)
        except Conflict:
            pass  # it exited between our look and the signal: already stopping, wait below
        if not svc._await_stopped(rec.id, float("inf") if timeout < 0 else float(timeout)):
            svc._signal(rec, int(signals.SIGKILL))
            if not svc._await_stopped(rec.id, 30.0):
                raise Internal(f"container {rec.id} did not stop after SIGKILL")
    svc._publish(rec, "stop")


def kill(svc: ContainerService, ref: str, signal: str | int | None = None) -> None:
    """Send ``signal`` (default SIGKILL); Conflict (409) when not running.
    With SIGKILL, returns once the container has exited, as Docker does."""
    rec = svc._store.resolve(ref)
    sig = _signal_number(signal, int(signals.SIGKILL))
    if rec.state.status not in (Status.RUNNING, Status.PAUSED):
        raise Conflict(f"Cannot kill container: {ref}: Container {rec.id} is not running")
    if sig == signals.SIGKILL or _signal_number(rec.config.stop_signal) == sig:
        with svc._cond:
            svc._stopping.add(rec.id)  # a fatal signal disables the restart policy
    try:
        svc._signal(rec, sig)
    except Conflict:
        raise Conflict(f"Cannot kill container: {ref}: Container {rec.id} is not running") from None
    if sig == signals.SIGKILL:
        svc._await_stopped(rec.id, 30.0)


def _signal(svc: ContainerService, rec: ContainerRecord, sig: int) -> None:
    svc._publish(rec, "kill", signal=str(sig))
    try:
        svc._runtime.kill(rec.id, sig)
    except NotFound:
        raise Conflict(f"Container {rec.id} is not running") from None
    # A frozen process only receives the signal once thawed: Docker unpauses
    # a paused container for SIGKILL and for its stop signal.
    if svc._store.get(rec.id).state.status is Status.PAUSED and (
            sig == signals.SIGKILL or sig == _signal_number(rec.config.stop_signal)):
        svc._runtime.resume(rec.id)


def restart(svc: ContainerService, ref: str, *, timeout: int | None = None, signal: str | None = None) -> None:
    rec = svc._store.resolve(ref)
    if rec.state.status in RUNNING:
        svc.stop(rec.id, timeout=timeout, signal=signal)
    svc.start(rec.id)
    svc._publish(svc._store.get(rec.id), "restart")


def pause(svc: ContainerService, ref: str) -> None:
    _freeze(svc, ref, Action.PAUSE, "pause")


def unpause(svc: ContainerService, ref: str) -> None:
    _freeze(svc, ref, Action.UNPAUSE, "unpause")


def _freeze(svc: ContainerService, ref: str, action: Action, event: str) -> None:
    """Pause (freeze the cgroup) or unpause (thaw it), as the lifecycle table allows."""
    id = svc._store.resolve(ref).id
    with svc._lock(id):
        rec = svc._store.get(id)
        nxt = lifecycle.transition(rec.state.status, action, ref=id)
        if action is Action.PAUSE:
            svc._runtime.pause(id)
        else:
            svc._runtime.resume(id)
        svc._save(id, rec.state.evolve(status=nxt))
    svc._publish(rec, event)


def rename(svc: ContainerService, ref: str, new_name: str) -> None:
    if not new_name:
        raise InvalidArgument("Neither old nor new names may be empty")
    name = validate_name(new_name)
    rec = svc._store.resolve(ref)
    if rec.name == name:
        raise InvalidArgument("Renaming a container with the same name as its current name")
    svc._store.rename(rec.id, name)
    svc._publish(svc._store.get(rec.id), "rename", oldName="/" + rec.name)


def update(svc: ContainerService, ref: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /containers/{id}/update``: restart policy and cgroup limits."""
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: update config must be a JSON object")
    id = svc._store.resolve(ref).id
    with svc._lock(id):
        rec = svc._store.get(id)
        if rec.state.status is Status.REMOVING or rec.state.status is Status.DEAD:
            raise Conflict(f"Cannot update container {id}: container is marked for removal and "
                           "cannot be \"update\"")
        host = dict(rec.config.host_config_json)
        if "RestartPolicy" in body and body["RestartPolicy"] is not None:
            policy = RestartPolicy.from_json(body["RestartPolicy"])
            if rec.config.auto_remove and policy.enabled:
                raise InvalidArgument("Restart policy cannot be updated because AutoRemove is enabled "
                                      "for the container")
            host["RestartPolicy"] = policy.to_json()
        # the docker CLI sends every field, 0/"" meaning "leave as is" (PidsLimit only when set)
        resources = {k: v for k, v in body.items()
                     if k in _UPDATABLE and v is not None and (v not in (0, "") or k == "PidsLimit")}
        for key, value in resources.items():
            if key.startswith("Cpuset"):
                if not isinstance(value, str):
                    raise InvalidArgument(f"invalid JSON: {key} must be a string")
            elif not isinstance(value, int) or isinstance(value, bool):
                raise InvalidArgument(f"invalid JSON: {key} must be an integer")
        host.update(resources)
        if rec.state.status in (Status.RUNNING, Status.PAUSED) and resources:
            from dockyard.daemon.resources import update_resources

            svc._runtime.update(id, update_resources(resources, host))
        from dataclasses import replace

        svc._store.save_config(id, replace(rec.config, host_config_json=host))
    svc._publish(rec, "update")
    return {"Warnings": []}


def stop_all(svc: ContainerService, timeout: float = 10.0) -> None:
    """Daemon shutdown: SIGTERM (or the stop signal) to every running
    container, SIGKILL to those still running after ``timeout``."""
    with svc._cond:
        svc._shutting_down = True
    running = [r for r in svc._store.list() if r.state.status in RUNNING]
    for rec in running:
        try:
            if rec.state.status is Status.PAUSED:
                svc._runtime.resume(rec.id)
            svc._runtime.kill(rec.id, _signal_number(rec.config.stop_signal))
        except Exception:  # noqa: BLE001 - best effort; SIGKILL follows
            pass
    deadline = time.monotonic() + timeout
    for rec in running:
        svc._await_stopped(rec.id, max(0.0, deadline - time.monotonic()))
        if svc._store.get(rec.id).state.status in RUNNING:
            svc._runtime.kill(rec.id, signals.SIGKILL)
            svc._await_stopped(rec.id, 5.0)


def _signal_number(name: str | int | None, default: int = int(signals.SIGTERM)) -> int:
    """"SIGTERM", "TERM" or "15" -> 15; ``default`` when empty (moby ``signal.ParseSignal``)."""
    if name is None or name == "":
        return default
    if isinstance(name, int) or name.isdigit():
        n = int(name)
        if not 0 < n < signals.NSIG:
            raise InvalidArgument(f"Invalid signal: {name}")
        return n
    upper = name.upper()
    try:
        return int(signals.Signals[upper if upper.startswith("SIG") else "SIG" + upper])
    except KeyError:
        raise InvalidArgument(f"Invalid signal: {name}") from None
