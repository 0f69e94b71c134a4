from __future__ import annotations

import pytest

from dockyard.daemon.health import (HEALTHY, STARTING, UNHEALTHY, Check, Health, Result, check_of, merge,
                                    record)
from dockyard.errors import InvalidArgument

S = 1_000_000_000


def _r(code: int) -> Result:
    return Result("s", "e", code, "x" * 5000)


def test_merge_and_check() -> None:
    image = {"Test": ["CMD", "true"], "Interval": 5 * S, "Retries": 4}
    assert merge(None, image) == image
    merged = merge({"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 0, "Timeout": 2 * S}, image)
    assert merged == {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 5 * S, "Retries": 4, "Timeout": 2 * S}
    c = check_of(merged)
    assert c == Check(("/bin/sh", "-c", "curl -f localhost"), 5 * S, 2 * S, 0, 5 * S, 4)
    assert check_of({"Test": ["NONE"]}) is None and check_of(None) is None
    with pytest.raises(InvalidArgument):
        merge({"Interval": 10}, None)


def test_state_machine() -> None:
    c = Check(("true",), retries=2)
    h = record(Health(), _r(1), c, in_start_period=True)
    assert (h.status, h.failing_streak) == (STARTING, 0)  # start period: failures do not count
    h = record(h, _r(0), c, in_start_period=True)
    assert (h.status, h.failing_streak) == (HEALTHY, 0)
    h = record(h, _r(1), c, in_start_period=False)
    assert (h.status, h.failing_streak) == (HEALTHY, 1)
    h = record(h, _r(1), c, in_start_period=False)
    assert (h.status, h.failing_streak) == (UNHEALTHY, 2)
    for _ in range(5):
        h = record(h, _r(1), c, in_start_period=False)
    assert len(h.log) == 5 and len(h.log[-1].output) == 4096
    assert h.to_json()["Log"][0]["ExitCode"] == 1
