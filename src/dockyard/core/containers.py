"""Containers as records: a frozen config fixed at create, and a state that
changes only through ``core.lifecycle``.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping, Protocol


class Status(str, enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """Everything decided at create time (Docker's Config + HostConfig, merged
    with the image config).  ``config_json``/``host_config_json`` keep the
    Docker-shaped objects that inspect echoes."""

    id: str
    name: str  # without the leading "/"
    image: str  # the reference the user asked for
    image_id: str  # "sha256:<config digest>"
    created: str  # RFC 3339 with nanoseconds
    path: str  # the effective executable (Docker's "Path")
    args: tuple[str, ...]
    env: tuple[str, ...]
    working_dir: str = ""
    user: str = ""
    hostname: str = ""
    domainname: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    tty: bool = False
    open_stdin: bool = False
    stop_signal: str = ""
    auto_remove: bool = False
    config_json: Mapping[str, Any] = field(default_factory=dict)
    host_config_json: Mapping[str, Any] = field(default_factory=dict)
    # core.volumes.MountPoint.to_json() of every volume, bind and tmpfs (Docker's MountPoints)
    mounts: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["args"] = list(self.args)
        d["env"] = list(self.env)
        d["mounts"] = [dict(m) for m in self.mounts]
        return d

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "ContainerConfig":
        d = dict(obj)
        d["args"] = tuple(d.get("args", ()))
        d["env"] = tuple(d.get("env", ()))
        d["mounts"] = tuple(d.get("mounts") or ())
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True, slots=True)
class ContainerState:
    status: Status = Status.CREATED
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    oom_killed: bool = False
    started_at: str = "0001-01-01T00:00:00Z"
    finished_at: str = "0001-01-01T00:00:00Z"
    restart_count: int = 0
    manually_stopped: bool = False  # a user's stop/kill: unless-stopped stays down at daemon start

    def evolve(self, **changes: Any) -> "ContainerState":
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "ContainerState":
        d = dict(obj)
        d["status"] = Status(d.get("status", "created"))
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True, slots=True)
class ContainerRecord:
    config: ContainerConfig
    state: ContainerState

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def name(self) -> str:
        return self.config.name


class ContainerStore(Protocol):
    """Persisted container records.

    ``resolve`` accepts a full id, a name (with or without "/") or a unique id
    prefix, in Docker's order: exact id, exact name, id prefix. Raises
    NotFound ("No such container: <ref>") or InvalidArgument when a prefix is
    ambiguous.
    """

    def get(self, id: str) -> ContainerRecord: ...

    def resolve(self, ref: str) -> ContainerRecord: ...

    def list(self) -> list[ContainerRecord]: ...

    def create(self, record: ContainerRecord) -> None:
        """AlreadyExists if the id or the name is taken."""
        ...

    def save_state(self, id: str, state: ContainerState) -> None: ...

    def save_config(self, id: str, config: ContainerConfig) -> None:
        """Replace the config (``update``: restart policy, limits); the name stays."""
        ...

    def rename(self, id: str, new_name: str) -> None:
        """AlreadyExists (Docker's "Conflict. The container name ..." text) if taken."""
        ...

    def delete(self, id: str) -> None: ...
