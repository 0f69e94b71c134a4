"""Daemon start: bring back the containers their restart policy says should run.

moby's ``restore``: a stopped container with ``always``, or with
``unless-stopped`` that no user stopped, is started again (RestartCount is
not incremented).  Runs after ``recover`` reconciled records with the
runtime, so containers that kept running under their shims are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from dockyard.core.containers import ContainerRecord, Status
from dockyard.daemon.services.restartpolicy import RestartPolicy
from dockyard.errors import EngineError

log = logging.getLogger(__name__)


def to_start(records: Iterable[ContainerRecord]) -> list[str]:
    """Ids to start (pure): exited containers whose policy brings them back."""
    out = []
    for rec in records:
        if rec.state.status is not Status.EXITED or rec.config.auto_remove:
            continue
        if RestartPolicy.from_host_config(rec.config.host_config_json).start_on_daemon_start(
                rec.state.manually_stopped):
            out.append(rec.id)
    return out


def start_by_policy(records: Iterable[ContainerRecord], start: Callable[[str], None]) -> None:
    for id in to_start(records):
        try:
            start(id)
        except EngineError as exc:  # recorded in State.Error by start; the daemon carries on
            log.warning("restart policy: cannot start %s: %s", id[:12], exc)
