"""Runs a container's health probes (exec in the container) and keeps its ``State.Health``.

One thread per watched container, woken by its stop event; probes go through
the ExecService as Docker's do (so they show as ``exec_*`` events).  The last
state stays readable after the container stops; a new start resets it to
``starting``.  With a ``store`` directory each change is also written to
``<store>/<id>/health.json`` beside the container's ``StartedAt``, so a
daemon restart (``recover`` re-watches running containers) resumes the same
run's Status, FailingStreak and Log instead of starting over, as Docker's
``State.Health`` in its container JSON does.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from dockyard.core.timefmt import parse_rfc3339, rfc3339_ns
from dockyard.daemon.health import SECOND, Check, Health, Result, record


class HealthMonitor:
    def __init__(self, execs: Any, store: Path | None = None) -> None:
        self._execs = execs
        self._store = store
        self._lock = threading.Lock()
        self._health: dict[str, Health] = {}
        self._stops: dict[str, threading.Event] = {}

    def get(self, id: str) -> Health | None:
        with self._lock:
            return self._health.get(id)

    def status(self, id: str) -> str:
        """starting / healthy / unhealthy, or "none" without a check (for filters)."""
        h = self.get(id)
        return h.status if h is not None else "none"

    def watch(self, id: str, check: Check | None, publish: Callable[[str], None],
              started_at: str = "") -> None:
        """Probe ``id`` from now on; a health stored for the same ``started_at`` (a daemon restart
        under a running container) is resumed, anything else starts at ``starting``."""
        self.unwatch(id)
        if check is None:
            with self._lock:
                self._health.pop(id, None)
            return
        stop = threading.Event()
        health = self._load(id, started_at) or Health()
        with self._lock:
            self._health[id] = health
            self._stops[id] = stop
        self._save(id, started_at, health)
        began = parse_rfc3339(started_at)  # 0.0 for none or Docker's zero time
        elapsed = max(0.0, time.time() - began) if began else 0.0
        threading.Thread(target=self._loop, args=(id, check, publish, stop, started_at, elapsed),
                         name=f"health-{id[:12]}", daemon=True).start()

    def _file(self, id: str) -> Path | None:
        return self._store / id / "health.json" if self._store is not None else None

    def _load(self, id: str, started_at: str) -> Health | None:
        path = self._file(id)
        if path is None or not started_at:
            return None
        try:
            obj = json.loads(path.read_text())
            return Health.from_json(obj["Health"]) if obj.get("StartedAt") == started_at else None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none stored, or from an older run: start over

    def _save(self, id: str, started_at: str, health: Health) -> None:
        path = self._file(id)
        if path is None or not path.parent.is_dir():  # the container is being removed
            return
        tmp = path.with_name(f".health.json.{threading.get_ident()}")
        try:
            tmp.write_text(json.dumps({"StartedAt": started_at, "Health": health.to_json()}))
            os.replace(tmp, path)  # a reader (the next daemon) sees the old or the new, never half
        except OSError:
            tmp.unlink(missing_ok=True)

    def unwatch(self, id: str) -> None:
        with self._lock:
            stop = self._stops.pop(id, None)
        if stop is not None:
            stop.set()

    def forget(self, id: str) -> None:
        self.unwatch(id)
        with self._lock:
            self._health.pop(id, None)

    def _loop(self, id: str, check: Check, publish: Callable[[str], None], stop: threading.Event,
              started_at: str = "", elapsed: float = 0.0) -> None:
        t0 = time.monotonic() - elapsed  # the start period counts from the container's start
        while True:
            in_start = (time.monotonic() - t0) * SECOND < check.start_period
            wait = (check.start_interval if in_start else check.interval) / SECOND
            if stop.wait(wait):
                return
            result = self._probe(id, check)
            if stop.is_set():
                return
            in_start = (time.monotonic() - t0) * SECOND < check.start_period
            with self._lock:
                before = self._health.get(id, Health())
                after = record(before, result, check, in_start)
                self._health[id] = after
            self._save(id, started_at, after)
            if after.status != before.status:
                publish(f"health_status: {after.status}")

    def _probe(self, id: str, check: Check) -> Result:
        start = rfc3339_ns()
        out: list[bytes] = []
        try:
            exec_id = self._execs.create(id, {"Cmd": list(check.args), "AttachStdout": True,
                                              "AttachStderr": True})["Id"]
            run = self._execs.start(exec_id, detach=False)
        except Exception as exc:  # noqa: BLE001 - the probe failed to start: an unhealthy result
            return Result(start, rfc3339_ns(), -1, str(exc))

        def drain() -> None:
            for _stream, data in run:
                out.append(data)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        reader.join(check.timeout / SECOND)
        if reader.is_alive():
            run.close()
            return Result(start, rfc3339_ns(), -1,
                          f"Health check exceeded timeout ({check.timeout / SECOND:g}s)")
        code = self._execs.get(exec_id).exit_code
        return Result(start, rfc3339_ns(), code if code is not None else -1,
                      b"".join(out).decode("utf-8", errors="replace"))


# -- the container service's hooks (kept here so containers.py only calls them)

def watch_record(monitor: HealthMonitor | None, rec: Any, publish: Callable[[str], None],
                 started_at: str | None = None) -> None:
    """``started_at``: the run being watched (a fresh start's); the record's own after a restart."""
    if monitor is not None:
        from dockyard.daemon.health import check_of

        monitor.watch(rec.id, check_of(rec.config.config_json.get("Healthcheck")), publish,
                      rec.state.started_at if started_at is None else started_at)


def split_filters(filters: Any) -> tuple[Any, list[str]]:
    """Take ``health`` out of the list filters (validated here: Docker's values)."""
    if not filters or "health" not in filters:
        return filters, []
    from dockyard.daemon.containerfilters import HEALTH
    from dockyard.errors import InvalidArgument

    wanted = list(filters["health"])
    for v in wanted:
        if v not in HEALTH:
            raise InvalidArgument(f"invalid filter 'health={v}'")
    return {k: v for k, v in filters.items() if k != "health"}, wanted


def decorate(monitor: HealthMonitor | None, summaries: list[dict[str, Any]], wanted: list[str]) -> list[dict[str, Any]]:
    """``Up 5 seconds (healthy)`` / ``(health: starting)`` in ps, and the ``health=`` filter."""
    out = []
    for s in summaries:
        status = monitor.status(s["Id"]) if monitor is not None else "none"
        if wanted and status not in wanted:
            continue
        if status != "none" and s.get("State") == "running":
            s["Status"] += " (health: starting)" if status == "starting" else f" ({status})"
        out.append(s)
    return out
