"""The image being built, step by step (values), and the collaborators the executor needs (protocols)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class State:
    """An image in progress: full config JSON (``config``, ``rootfs``, ``history``) + layer blobs + cache key."""

    config: dict[str, Any]
    layers: list[str]
    key: str
    cmd_set: bool = False  # CMD given in this stage (ENTRYPOINT resets an inherited one only)

    @property
    def run(self) -> dict[str, Any]:
        return self.config.setdefault("config", {})

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config.get("rootfs", {}).get("diff_ids") or [])

    def child(self, key: str) -> "State":
        return State(copy.deepcopy(self.config), list(self.layers), key, self.cmd_set)

    def short_id(self) -> str:
        return hashlib.sha256(json.dumps(self.config, separators=(",", ":")).encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {"config": self.config, "layers": self.layers, "cmd_set": self.cmd_set}

    @classmethod
    def from_json(cls, key: str, obj: dict[str, Any]) -> "State":
        return cls(obj["config"], list(obj["layers"]), key, bool(obj.get("cmd_set")))


@dataclass(frozen=True, slots=True)
class RunRequest:
    argv: tuple[str, ...]
    env: tuple[str, ...]
    workdir: str
    user: str
    network: str  # "bridge", "none", "host"
    build_id: str
    mounts: tuple[dict[str, Any], ...] = ()  # RUN --mount as HostConfig.Mounts entries (build/runmounts.py)


class StepRunner(Protocol):
    """Runs RUN steps: a container on the image ``image_id``; its layer is committed by the runner."""

    def run(self, image_id: str, req: RunRequest, output: Callable[[bytes], None],
            started: Callable[[str], None]) -> tuple[int, str | None]:
        """(exit code, stored layer blob digest or None when nothing changed)."""
        ...


class CacheStore(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


@dataclass(slots=True)
class Options:
    dockerfile: str
    filename: str = "Dockerfile"
    tags: Sequence[str] = ()
    build_args: dict[str, str | None] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    network: str = "bridge"
    platform: str = ""
    cache_from: Sequence[str] = ()
    quiet: bool = False
    pull: bool = False
    # RUN --mount=type=secret values (build/secrets.py): in memory only, never in a key, log or repr
    secrets: dict[str, bytes] = field(default_factory=dict, repr=False)
