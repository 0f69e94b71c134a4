"""``up --wait``: wait for every service's containers at once, bounded by ``--wait-timeout``.

As Docker Compose: each service waits for its own condition (running, or
healthy when its container has a healthcheck; completed successfully when
another service depends on it that way), all concurrently; every container
is reported ``Waiting`` first, then ``Healthy``/``Exited`` as it gets there.
The first failure stops the other waits and is raised; a passed deadline is
``application not healthy after <timeout>``. The waits themselves are passed
in (``Wait``), so this module does no I/O of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from dockyard.errors import InvalidArgument

from .health import WaitTimedOut

RUNNING_OR_HEALTHY = "running_or_healthy"
COMPLETED = "service_completed_successfully"


@dataclass(frozen=True)
class Target:
    label: str      # container name, as reported
    cid: str
    service: str
    cond: str       # RUNNING_OR_HEALTHY or COMPLETED


# (target, deadline or None, stop) → the word reported when done ("Healthy", "Exited"); raises on failure.
Wait = Callable[[Target, "float | None", threading.Event], str]


class ApplicationNotHealthy(WaitTimedOut):
    """``--wait-timeout`` passed before every service was running/healthy."""


def service_conditions(services: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """What ``--wait`` waits for, per service (Docker Compose's ``getDependencyCondition``)."""
    completed = {dep for svc in services.values() for dep, spec in (svc.get("depends_on") or {}).items()
                 if (spec or {}).get("condition") == COMPLETED}
    return {s: COMPLETED if s in completed else RUNNING_OR_HEALTHY for s in services}


def go_duration(seconds: int) -> str:
    """Go's ``time.Duration`` text for whole seconds: ``5s``, ``1m30s``, ``1h0m0s``."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    return f"{m}m{s}s" if m else f"{s}s"


def check_timeout(seconds: int | None) -> int:
    if seconds is not None and seconds < 0:
        raise InvalidArgument("--wait-timeout must be a non-negative integer")
    return seconds or 0


def wait_all(targets: list[Target], waiter: Wait, out: Callable[[str], None], *, timeout: int = 0) -> None:
    """Every target's wait at once; ``timeout`` seconds in all (0: no limit)."""
    if not targets:
        return
    for t in targets:
        out(f" Container {t.label}  Waiting")
    deadline = time.monotonic() + timeout if timeout > 0 else None
    stop = threading.Event()

    def one(t: Target) -> None:
        word = waiter(t, deadline, stop)
        out(f" Container {t.label}  {word}")

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        futures = [pool.submit(one, t) for t in targets]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        first = next((f.exception() for f in futures if f in done and f.exception() is not None), None)
        if first is not None:
            stop.set()  # the others stop at their next poll
    if first is None:
        return
    if isinstance(first, WaitTimedOut):
        raise ApplicationNotHealthy(f"application not healthy after {go_duration(timeout)}") from first
    raise first
