"""Waiting for ``depends_on`` conditions and ``--wait``: started, healthy, completed successfully.

Health comes from the engine (``State.Health``) when it runs health checks;
when a container has a healthcheck but the engine reports no ``Health``
(an engine without health checks), the probe is run from here through
exec with the healthcheck's own interval, retries and start period, so
health gating still holds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from dockyard.errors import EngineError, InvalidArgument
from dockyard.client.api import APIClient

from .translate import duration_ns

POLL = 0.1
START_DEADLINE = 120.0


class DependencyFailed(EngineError):
    """A dependency did not reach its condition."""


class WaitTimedOut(DependencyFailed):
    """The caller's deadline (``up --wait-timeout``) passed before the condition was reached."""


class WaitCancelled(EngineError):
    """The caller stopped the wait (another wait failed first)."""


def probe_command(test: list[str]) -> list[str] | None:
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    if test[0] == "CMD":
        return list(test[1:])
    return list(test)


def run_probe(api: APIClient, cid: str, cmd: list[str]) -> int:
    exec_id = api.exec_create(cid, {"Cmd": cmd, "AttachStdout": True, "AttachStderr": True})
    att = api.exec_start(exec_id, tty=False)
    if att is not None:
        try:
            for _ in att.output():
                pass
        finally:
            att.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = api.exec_inspect(exec_id)
        if not info.get("Running"):
            return int(info.get("ExitCode") or 0)
        time.sleep(POLL)
    return 1


def _seconds(hc: dict[str, Any], key: str, default: float) -> float:
    return duration_ns(hc[key]) / 1e9 if hc.get(key) is not None else default


def _completed(api: APIClient, cid: str, label: str, deadline: float | None,
               stop: threading.Event | None) -> None:
    if deadline is None and stop is None:
        code = int(api.wait_result(cid).get("StatusCode", -1))
    else:  # bounded: poll rather than block in /wait
        while True:
            state = api.inspect_container(cid)["State"]
            if state.get("Status") in ("exited", "dead"):
                code = int(state.get("ExitCode", -1))
                break
            _pause(deadline, stop, label)
    if code != 0:
        raise DependencyFailed(f"service {label} didn't complete successfully: exit {code}")


def _pause(deadline: float | None, stop: threading.Event | None, label: str) -> None:
    """One poll interval, or the end of the wait: ``stop`` set, or ``deadline`` (monotonic) passed."""
    if stop is not None and stop.wait(POLL):
        raise WaitCancelled(f"wait for {label} cancelled")
    if stop is None:
        time.sleep(POLL)
    if deadline is not None and time.monotonic() >= deadline:
        raise WaitTimedOut(f"timeout waiting for {label}")


def wait_condition(api: APIClient, cid: str, label: str, cond: str, hc: dict[str, Any] | None, *,
                   deadline: float | None = None, stop: threading.Event | None = None) -> None:
    """Block until container ``cid`` reaches ``cond``; ``deadline`` (monotonic) and ``stop`` bound the wait."""
    if cond == "service_completed_successfully":
        _completed(api, cid, label, deadline, stop)
        return
    hc = hc or {}
    cmd = probe_command(list(hc.get("test") or [])) if not hc.get("disable") else None
    interval = _seconds(hc, "interval", 30.0)
    start_period = _seconds(hc, "start_period", 0.0)
    retries = int(hc.get("retries", 3))
    started = time.monotonic()
    failures = 0
    next_probe = started
    while True:
        state = api.inspect_container(cid)["State"]
        if not state.get("Running"):
            if state.get("Status") in ("exited", "dead"):
                raise DependencyFailed(f"dependency failed to start: container {label} exited "
                                       f"({state.get('ExitCode', 0)})")
        elif cond == "running":
            return
        health = state.get("Health")
        if cond == "service_healthy":
            if health:
                status = health.get("Status")
                if status == "healthy":
                    return
                if status == "unhealthy":
                    raise DependencyFailed(f"dependency failed to start: container {label} is unhealthy")
            elif cmd is None:
                raise DependencyFailed(f"dependency failed to start: container {label} has no healthcheck configured")
            elif state.get("Running") and time.monotonic() >= next_probe:
                if run_probe(api, cid, cmd) == 0:
                    return
                if time.monotonic() - started >= start_period:
                    failures += 1
                    if failures >= retries:
                        raise DependencyFailed(f"dependency failed to start: container {label} is unhealthy")
                next_probe = time.monotonic() + interval
        if cond not in ("running", "service_healthy"):
            raise InvalidArgument(f"unknown condition {cond!r}")
        if deadline is None and time.monotonic() - started > max(START_DEADLINE,
                                                                 retries * interval + start_period + 30):
            raise DependencyFailed(f"dependency failed to start: container {label} did not become {cond}")
        _pause(deadline, stop, label)
