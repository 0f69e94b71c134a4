"""Daemon use cases as seen by the API layer.

The API handlers only know these Protocols; ``daemon.wiring`` builds the
concrete services and hands a ``Services`` to ``daemon.api.ApiServer``.

Vocabulary: ``ref`` is what the user typed (full id, unique id prefix or
name); every method raises ``dockyard.errors`` kinds (``NotFound`` for an
unknown ref, ``Conflict`` for the wrong state, ...), never HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from dockyard.core.events import EventBus, NullEventBus


class OutputStream(Protocol):
    """Live output of a container: ``(stream, data)`` with stream 1 or 2.

    Iteration ends when the container stops (or after replaying logs when
    ``stream`` was false).  ``close()`` may be called from another thread
    (the client went away) and makes iteration end promptly.
    """

    def __iter__(self) -> Iterator[tuple[int, bytes]]: ...

    def close(self) -> None: ...


class ContainerServiceAPI(Protocol):
    def create(self, body: dict[str, Any], name: str | None) -> dict[str, Any]:
        """Create from a Docker ``ContainerCreate`` body; ``{"Id":..., "Warnings": []}``."""
        ...

    def start(self, ref: str) -> None:
        """NotModified if already running; StartFailed (126/127) if the command cannot run."""
        ...

    def wait(self, ref: str, condition: str = "not-running") -> dict[str, Any]:
        """Block until ``condition`` ("not-running", "next-exit", "removed");
        return ``{"StatusCode": n, "Error": None}``."""
        ...

    def begin_wait(self, ref: str, condition: str = "not-running") -> Callable[[], dict[str, Any]]:
        """Register the wait (NotFound etc. raised at once) and return a
        callable that blocks for the result. The API sends the 200 headers
        in between, and the docker CLI starts the container as soon as it
        sees them: registering first means no exit is missed."""
        ...

    def attach(
        self, ref: str, *, stdout: bool, stderr: bool, logs: bool, stream: bool
    ) -> OutputStream: ...

    def logs(
        self,
        ref: str,
        *,
        stdout: bool,
        stderr: bool,
        follow: bool,
        tail: str,
        timestamps: bool,
        since: int,
        until: int,
    ) -> Iterator[tuple[int, bytes]]: ...

    def is_tty(self, ref: str) -> bool: ...

    def list_json(
        self, all: bool, limit: int, filters: dict[str, list[str]], size: bool = False
    ) -> list[dict[str, Any]]: ...

    def inspect_json(self, ref: str, size: bool = False) -> dict[str, Any]: ...

    def remove(self, ref: str, *, force: bool, volumes: bool) -> None: ...

    def stop(self, ref: str, *, timeout: int | None = None, signal: str | None = None) -> None:
        """NotModified (304) when not running; SIGKILL after ``timeout`` seconds."""
        ...

    def restart(self, ref: str, *, timeout: int | None = None, signal: str | None = None) -> None: ...

    def kill(self, ref: str, signal: str | int | None = None) -> None:
        """Conflict (409) when not running; InvalidArgument for an unknown signal."""
        ...

    def pause(self, ref: str) -> None: ...

    def unpause(self, ref: str) -> None: ...

    def rename(self, ref: str, new_name: str) -> None: ...

    def update(self, ref: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def top(self, ref: str, ps_args: str | None = None) -> dict[str, Any]:
        """``{"Titles": [...], "Processes": [[...], ...]}``."""
        ...

    def prune(self, filters: dict[str, list[str]] | None = None) -> dict[str, Any]: ...

    def counts(self) -> dict[str, int]:
        """``{"running": n, "paused": n, "stopped": n}``."""
        ...


class ImageServiceAPI(Protocol):
    def list_json(
        self, all: bool = False, filters: dict[str, list[str]] | None = None
    ) -> list[dict[str, Any]]: ...

    def inspect_json(self, ref: str) -> dict[str, Any]: ...

    def load(self, stream: BinaryIO, quiet: bool = False) -> list[str]:
        """Read a ``docker save`` tarball; return the names loaded ("busybox:latest")."""
        ...

    def count(self) -> int: ...


class SystemServiceAPI(Protocol):
    def version_json(self) -> dict[str, Any]: ...

    def info_json(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class Services:
    """Everything the API layer calls; built by ``daemon.wiring``."""

    containers: ContainerServiceAPI
    images: ImageServiceAPI
    system: SystemServiceAPI
    events: EventBus = field(default_factory=NullEventBus)
    networks: Any = None  # daemon.services.networks.NetworkService (None: networking not wired)
    transfer: Any = None  # image.transfer.ImageTransfer: save, import, history
    containerfs: Any = None  # daemon.services.containerfs.ContainerFsService: changes, export, commit
    build: Any = None  # daemon.services.build.BuildService: POST /build, /build/prune
    execs: Any = None  # daemon.services.execs.ExecService: exec create/start/inspect/resize
    volumes: Any = None  # daemon.services.volumes.VolumeService: /volumes
    archive: Any = None  # daemon.services.archive.ArchiveService: /containers/{id}/archive (cp)
    stats: Any = None  # daemon.services.stats.StatsService: /containers/{id}/stats


__all__ = [
    "ContainerServiceAPI",
    "ImageServiceAPI",
    "OutputStream",
    "Services",
    "SystemServiceAPI",
]
