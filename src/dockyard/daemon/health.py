"""Health checks, pure: the config Docker merges at create, and the state machine.

moby ``daemon/health.go``: a probe runs every ``Interval`` (``StartInterval``
during ``StartPeriod``), is killed after ``Timeout``; ``Retries`` failures in
a row make the container ``unhealthy``, one success makes it ``healthy``;
failures inside the start period do not count.  The log keeps the last 5
results, output cut at 4096 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from dockyard.errors import InvalidArgument

SECOND = 1_000_000_000
DEFAULT_INTERVAL = DEFAULT_TIMEOUT = 30 * SECOND
DEFAULT_START_INTERVAL = 5 * SECOND
DEFAULT_RETRIES = 3
MAX_LOG = 5
MAX_OUTPUT = 4096
STARTING, HEALTHY, UNHEALTHY = "starting", "healthy", "unhealthy"


@dataclass(frozen=True, slots=True)
class Check:
    args: tuple[str, ...]  # what to exec
    interval: int = DEFAULT_INTERVAL  # ns
    timeout: int = DEFAULT_TIMEOUT
    start_period: int = 0
    start_interval: int = DEFAULT_START_INTERVAL
    retries: int = DEFAULT_RETRIES


def merge(user: Mapping[str, Any] | None, image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """moby's merge: the user's Test wins when set, zero durations/retries take the image's."""
    if user is None:
        return dict(image) if image else None
    if not isinstance(user, dict):
        raise InvalidArgument("invalid Healthcheck: must be an object")
    out = dict(image or {})
    for key, value in user.items():
        if value not in (None, 0, []):
            out[key] = value
    for key in ("Interval", "Timeout", "StartPeriod", "StartInterval"):
        value = out.get(key) or 0
        if not isinstance(value, int) or (value and value < SECOND // 1000):
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
    if (out.get("Retries") or 0) < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")
    return out or None


def check_of(config: Mapping[str, Any] | None) -> Check | None:
    """The merged ``Config.Healthcheck`` → a Check, or None (no test, or ``NONE``)."""
    if not config:
        return None
    test = list(config.get("Test") or ())
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD":
        args = tuple(test[1:])
    elif test[0] == "CMD-SHELL":
        args = ("/bin/sh", "-c", " ".join(test[1:]))
    else:
        raise InvalidArgument(f"unknown Healthcheck type '{test[0]}'")
    if not args:
        return None
    return Check(args, config.get("Interval") or DEFAULT_INTERVAL, config.get("Timeout") or DEFAULT_TIMEOUT,
                 config.get("StartPeriod") or 0, config.get("StartInterval") or DEFAULT_START_INTERVAL,
                 config.get("Retries") or DEFAULT_RETRIES)


@dataclass(frozen=True, slots=True)
class Result:
    start: str
    end: str
    exit_code: int
    output: str


@dataclass(frozen=True, slots=True)
class Health:
    status: str = STARTING
    failing_streak: int = 0
    log: tuple[Result, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"Status": self.status, "FailingStreak": self.failing_streak,
                "Log": [{"Start": r.start, "End": r.end, "ExitCode": r.exit_code, "Output": r.output}
                        for r in self.log]}

    @staticmethod
    def from_json(obj: Mapping[str, Any]) -> "Health":
        """What ``to_json`` wrote (KeyError/TypeError/ValueError on anything else)."""
        return Health(str(obj["Status"]), int(obj["FailingStreak"]),
                      tuple(Result(str(r["Start"]), str(r["End"]), int(r["ExitCode"]), str(r["Output"]))
                            for r in obj["Log"]))


def record(h: Health, result: Result, check: Check, in_start_period: bool) -> Health:
    """The state after one probe (moby's handleProbeResult)."""
    log = (h.log + (replace(result, output=result.output[:MAX_OUTPUT]),))[-MAX_LOG:]
    if result.exit_code == 0:
        return Health(HEALTHY, 0, log)
    if in_start_period and h.status == STARTING:
        return Health(h.status, h.failing_streak, log)  # failures in the start period do not count
    streak = h.failing_streak + 1
    status = UNHEALTHY if streak >= check.retries else h.status
    return Health(status, streak, log)
