"""State.Health kept across a daemon restart: the same run resumes, a new run starts over."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dockyard.daemon.health import SECOND, Check, Health
from dockyard.daemon.services.health import HealthMonitor


class FailingExecs:
    """Every probe exits 1 at once."""

    def create(self, id: str, body: dict[str, Any]) -> dict[str, str]:
        return {"Id": "e"}

    def start(self, exec_id: str, detach: bool) -> Any:
        return iter([(1, b"down\n")])

    def get(self, exec_id: str) -> Any:
        return SimpleNamespace(exit_code=1)


CHECK = Check(("true",), interval=SECOND // 100, timeout=SECOND, retries=2)
STARTED = "2026-11-28T10:00:00.000000001Z"


def _until(monitor: HealthMonitor, id: str, pred: Any) -> Health:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        h = monitor.get(id)
        if h is not None and pred(h):
            return h
        time.sleep(0.01)
    raise AssertionError(f"health never matched: {monitor.get(id)}")


def test_resumes_same_run_and_resets_a_new_one(tmp_path: Path) -> None:
    (tmp_path / "c1").mkdir()
    first = HealthMonitor(FailingExecs(), tmp_path)
    first.watch("c1", CHECK, lambda _a: None, STARTED)
    _until(first, "c1", lambda h: h.status == "unhealthy" and h.failing_streak >= 3)
    first.unwatch("c1")  # the daemon goes away; its probe thread may finish one last probe
    deadline = time.monotonic() + 10
    while any(t.name == "health-c1" for t in threading.enumerate()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stored = Health.from_json(json.loads((tmp_path / "c1" / "health.json").read_text())["Health"])
    assert stored.status == "unhealthy" and stored.failing_streak >= 3 and stored.log

    events: list[str] = []
    second = HealthMonitor(FailingExecs(), tmp_path)  # the restarted daemon's recover
    second.watch("c1", Check(("true",), interval=3600 * SECOND), events.append, STARTED)
    h = second.get("c1")
    assert h == stored and events == []  # resumed as it was: no "starting", no new event
    second.unwatch("c1")

    third = HealthMonitor(FailingExecs(), tmp_path)  # a new start of the container
    third.watch("c1", Check(("true",), interval=3600 * SECOND), events.append, "2026-11-28T11:00:00Z")
    assert third.get("c1") == Health()
    third.unwatch("c1")


def test_without_store_or_with_damaged_file(tmp_path: Path) -> None:
    (tmp_path / "c2").mkdir()
    (tmp_path / "c2" / "health.json").write_text("{not json")
    m = HealthMonitor(FailingExecs(), tmp_path)
    m.watch("c2", Check(("true",), interval=3600 * SECOND), lambda _a: None, STARTED)
    assert m.get("c2") == Health()
    m.forget("c2")
    plain = HealthMonitor(FailingExecs())
    plain.watch("c3", Check(("true",), interval=3600 * SECOND), lambda _a: None, STARTED)
    assert plain.get("c3") == Health()
    plain.forget("c3")
