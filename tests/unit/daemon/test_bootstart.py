from __future__ import annotations

from dockyard.core.containers import ContainerConfig, ContainerRecord, ContainerState, Status
from dockyard.daemon.services.bootstart import start_by_policy, to_start
from dockyard.errors import Conflict


def _rec(id: str, policy: str, status: Status = Status.EXITED, manual: bool = False) -> ContainerRecord:
    cfg = ContainerConfig(id=id, name=id, image="busybox", image_id="sha256:x", created="", path="sh", args=(), env=(),
                          host_config_json={"RestartPolicy": {"Name": policy, "MaximumRetryCount": 0}})
    return ContainerRecord(cfg, ContainerState(status=status, manually_stopped=manual))


def test_which_come_back() -> None:
    recs = [_rec("a", "always"), _rec("b", "always", manual=True), _rec("c", "unless-stopped"),
            _rec("d", "unless-stopped", manual=True), _rec("e", "on-failure"), _rec("f", "no"),
            _rec("g", "always", Status.RUNNING), _rec("h", "always", Status.CREATED)]
    assert to_start(recs) == ["a", "b", "c"]


def test_a_failed_start_does_not_stop_the_others() -> None:
    started = []

    def start(id: str) -> None:
        if id == "a":
            raise Conflict("boom")
        started.append(id)

    start_by_policy([_rec("a", "always"), _rec("c", "unless-stopped")], start)
    assert started == ["c"]
