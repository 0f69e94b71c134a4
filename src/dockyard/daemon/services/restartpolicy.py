"""Docker's restart policies (``HostConfig.RestartPolicy``), pure.

``no``, ``always``, ``unless-stopped`` and ``on-failure[:max]``.  A manual
stop or kill disables the policy until the next start (the service tracks
that); this module only answers "restart after this exit?" and "how long to
wait" (moby: 100 ms, doubling, capped at one minute).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dockyard.errors import InvalidArgument

NAMES = ("", "no", "always", "unless-stopped", "on-failure")
_FIRST_DELAY, _MAX_DELAY = 0.1, 60.0


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    name: str = "no"
    maximum_retry_count: int = 0

    @classmethod
    def from_json(cls, obj: Any) -> "RestartPolicy":
        if obj is None:
            return cls()
        if not isinstance(obj, dict):
            raise InvalidArgument("invalid RestartPolicy: must be an object")
        name = obj.get("Name") or "no"
        count = obj.get("MaximumRetryCount") or 0
        if name not in NAMES:
            raise InvalidArgument(f"invalid restart policy: unknown policy '{name}'; use one of "
                                  "'no', 'always', 'on-failure', or 'unless-stopped'")
        if not isinstance(count, int) or count < 0:
            raise InvalidArgument("invalid restart policy: maximum retry count must be a positive integer")
        if count and name != "on-failure":
            raise InvalidArgument(f"invalid restart policy: maximum retry count can only be used with "
                                  f"'on-failure'")
        return cls(name, count)

    @classmethod
    def from_host_config(cls, host_config: Mapping[str, Any]) -> "RestartPolicy":
        try:
            return cls.from_json(host_config.get("RestartPolicy"))
        except InvalidArgument:
            return cls()

    def to_json(self) -> dict[str, Any]:
        return {"Name": self.name, "MaximumRetryCount": self.maximum_retry_count}

    @property
    def enabled(self) -> bool:
        return self.name not in ("", "no")

    def should_restart(self, exit_code: int, restart_count: int) -> bool:
        if self.name in ("always", "unless-stopped"):
            return True
        if self.name == "on-failure":
            return exit_code != 0 and (self.maximum_retry_count == 0
                                       or restart_count < self.maximum_retry_count)
        return False

    def start_on_daemon_start(self, manually_stopped: bool) -> bool:
        """moby's restore: ``always`` comes back, ``unless-stopped`` unless a user stopped it."""
        return self.name == "always" or (self.name == "unless-stopped" and not manually_stopped)

    def delay(self, restart_count: int) -> float:
        return min(_MAX_DELAY, _FIRST_DELAY * (2 ** min(restart_count, 20)))
