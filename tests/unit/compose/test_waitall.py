"""``up --wait``: every service waited for at once, reported as Docker Compose does, bounded by --wait-timeout."""

import threading
import time

import pytest

from dockyard.compose.health import DependencyFailed, WaitCancelled, WaitTimedOut, wait_condition
from dockyard.compose.waitall import (COMPLETED, RUNNING_OR_HEALTHY, ApplicationNotHealthy, Target, check_timeout,
                                      go_duration, service_conditions, wait_all)
from dockyard.errors import InvalidArgument


def _targets(*names: str) -> list[Target]:
    return [Target(f"p-{n}-1", f"id-{n}", n, RUNNING_OR_HEALTHY) for n in names]


def test_waits_run_concurrently_and_report_waiting_first():
    # A one-at-a-time wait could never get three waiters through the barrier.
    barrier = threading.Barrier(3, timeout=10)
    lines: list[str] = []
    wait_all(_targets("a", "b", "c"), lambda t, d, s: (barrier.wait(), "Healthy")[1], lines.append)
    assert lines[:3] == [" Container p-a-1  Waiting", " Container p-b-1  Waiting", " Container p-c-1  Waiting"]
    assert sorted(lines[3:]) == [" Container p-a-1  Healthy", " Container p-b-1  Healthy",
                                 " Container p-c-1  Healthy"]


def test_first_failure_stops_the_others_and_is_raised():
    stopped: list[str] = []

    def waiter(t: Target, deadline, stop: threading.Event) -> str:
        if t.service == "bad":
            raise DependencyFailed("dependency failed to start: container p-bad-1 exited (1)")
        if not stop.wait(10):  # would only ever end by the stop signal
            return "Healthy"
        stopped.append(t.service)
        raise WaitCancelled("cancelled")

    lines: list[str] = []
    with pytest.raises(DependencyFailed, match=r"container p-bad-1 exited \(1\)"):
        wait_all(_targets("slow1", "bad", "slow2"), waiter, lines.append)
    assert sorted(stopped) == ["slow1", "slow2"]
    assert not any("Healthy" in line for line in lines)


def test_deadline_is_shared_and_reported_as_docker_compose_does():
    seen: list[float | None] = []

    def waiter(t: Target, deadline, stop) -> str:
        seen.append(deadline)
        raise WaitTimedOut("timeout")

    t0 = time.monotonic()
    with pytest.raises(ApplicationNotHealthy, match=r"^application not healthy after 1m30s$"):
        wait_all(_targets("a", "b"), waiter, lambda line: None, timeout=90)
    assert len(set(seen)) == 1 and seen[0] >= t0 + 90
    wait_all(_targets("a"), lambda t, d, s: (seen.append(d), "Healthy")[1], lambda line: None)
    assert seen[-1] is None                                      # --wait-timeout 0: no deadline


def test_conditions_durations_and_timeout_flag():
    services = {"migrate": {}, "api": {"depends_on": {"migrate": {"condition": COMPLETED}, "db": {}}},
                "db": {}}
    assert service_conditions(services) == {"migrate": COMPLETED, "api": RUNNING_OR_HEALTHY,
                                            "db": RUNNING_OR_HEALTHY}
    assert [go_duration(s) for s in (0, 5, 60, 90, 3600, 3725)] == ["0s", "5s", "1m0s", "1m30s", "1h0m0s",
                                                                   "1h2m5s"]
    assert check_timeout(None) == 0 and check_timeout(7) == 7
    with pytest.raises(InvalidArgument, match="--wait-timeout must be a non-negative integer"):
        check_timeout(-1)


class _FakeAPI:
    """A container that stays in ``status`` (never running, never exiting)."""

    def __init__(self, status: str) -> None:
        self.status = status

    def inspect_container(self, cid: str) -> dict:
        return {"State": {"Status": self.status, "Running": self.status == "running", "ExitCode": 0}}


@pytest.mark.parametrize("cond", ["running", "service_healthy", COMPLETED])
def test_wait_condition_honours_deadline_and_stop(cond):
    t0 = time.monotonic()
    with pytest.raises(WaitTimedOut):
        wait_condition(_FakeAPI("created"), "c", "p-a-1", cond, {"test": ["CMD", "true"]},
                       deadline=time.monotonic() + 0.3, stop=threading.Event())
    assert time.monotonic() - t0 < 5
    stop = threading.Event()
    stop.set()
    with pytest.raises(WaitCancelled):
        wait_condition(_FakeAPI("created"), "c", "p-a-1", cond, {"test": ["CMD", "true"]}, stop=stop)
