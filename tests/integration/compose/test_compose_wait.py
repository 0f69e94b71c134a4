"""``up --wait`` waits for every service at once (bounded by --wait-timeout); ``--parallel``/COMPOSE_PARALLEL_LIMIT."""

from __future__ import annotations

import pytest

from .test_compose import compose, leftovers

pytestmark = pytest.mark.root

APP = """\
services:
  hc:
    image: busybox
    command: ["sleep", "300"]
    init: true
    healthcheck: {test: "true", interval: 1s}
  plain:
    image: busybox
    command: ["sleep", "300"]
    init: true
  once:
    image: busybox
    command: ["true"]
  after:
    image: busybox
    command: ["sleep", "300"]
    init: true
    depends_on: {once: {condition: service_completed_successfully}}
"""

NEVER_HEALTHY = """\
services:
  sick:
    image: busybox
    command: ["sleep", "300"]
    init: true
    healthcheck: {test: "false", interval: 1s, retries: 1000}
"""


def test_up_wait_all_at_once_timeout_and_parallel(daemon, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(APP)
    p, q = "dywait", "dywaitsick"
    try:
        bad = compose(daemon, path, "up", "-d", project=p, check=False, env={"COMPOSE_PARALLEL_LIMIT": "x"})
        assert bad.returncode == 1 and 'COMPOSE_PARALLEL_LIMIT must be an integer (found: "x")' in bad.stderr.decode()
        assert leftovers(daemon, p) == []
        bad = compose(daemon, path, "up", "--wait", "--wait-timeout", "-1", project=p, check=False)
        assert bad.returncode == 1 and "--wait-timeout must be a non-negative integer" in bad.stderr.decode()
        assert leftovers(daemon, p) == []
        # --wait implies detached mode: this returns once everything is running/healthy/completed.
        cp = compose(daemon, path, "--parallel", "1", "up", "--wait", "--wait-timeout", "60", project=p)
        lines = [ln.strip() for ln in cp.stderr.decode().splitlines()]
        tail = lines[max(i for i, ln in enumerate(lines) if ln.endswith("  Started")) + 1:]
        # Every container is reported Waiting before any of them is reported done.
        assert sorted(tail[:4]) == [f"Container {p}-{s}-1  Waiting" for s in ("after", "hc", "once", "plain")], tail
        assert sorted(tail[4:]) == sorted([f"Container {p}-after-1  Healthy", f"Container {p}-hc-1  Healthy",
                                           f"Container {p}-once-1  Exited", f"Container {p}-plain-1  Healthy"])
        # A service that never gets healthy: Docker Compose's message once --wait-timeout has passed.
        sick = tmp_path / "sick" / "compose.yaml"
        sick.parent.mkdir()
        sick.write_text(NEVER_HEALTHY)
        cp = compose(daemon, sick, "up", "--wait", "--wait-timeout", "2", project=q, check=False)
        assert cp.returncode == 1 and "application not healthy after 2s" in cp.stderr.decode(), cp.stderr.decode()
    finally:
        compose(daemon, path, "down", "-t", "0", project=p, check=False)
        compose(daemon, tmp_path / "sick" / "compose.yaml", "down", "-t", "0", project=q, check=False)
    assert leftovers(daemon, p) == [] and leftovers(daemon, q) == []
