"""Volumes: records, the driver protocol and mount points (pure vocabulary).

A ``VolumeDriver`` owns where a volume's data lives and how a container gets
at it.  ``mount`` returns a ``core.mount.Mount`` *as data* (a bind of the
data directory, or a tmpfs/bind described by the volume's options), which
the runtime performs inside the container's mount namespace: nothing is
mounted on the host, so nothing can be stranded there (containerd's
"snapshotters return mounts" rule).  The verbs match Docker's volume-plugin
contract (Create/Get/List/Remove/Mount/Unmount).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Protocol

from dockyard.core.mount import Mount


@dataclass(frozen=True, slots=True)
class Volume:
    name: str
    driver: str
    mountpoint: str  # the data directory on the host
    created_at: str  # RFC 3339
    labels: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    anonymous: bool = False  # made for one container (-v /path, image VOLUME): rm -v / --rm remove it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Volume":
        return cls(**{k: v for k, v in obj.items() if k in cls.__dataclass_fields__})


class VolumeDriver(Protocol):
    name: str  # "local"

    def create(self, name: str, options: Mapping[str, str]) -> str:
        """Validate ``options`` and make the data directory; returns the mountpoint.
        InvalidArgument for an option the driver does not know."""
        ...

    def remove(self, name: str) -> None:
        """Delete the data (the caller has checked the volume is unused)."""
        ...

    def mount(self, name: str, options: Mapping[str, str], user_id: str) -> Mount:
        """How container ``user_id`` gets at the volume (a Mount performed by the runtime)."""
        ...

    def unmount(self, name: str, user_id: str) -> None: ...

    def usage(self, name: str) -> int:
        """Bytes used, or -1 when unknown (tmpfs/bind-backed)."""
        ...


class VolumeStore(Protocol):
    def create(self, vol: Volume) -> Volume:
        """Insert; returns the existing record when the name is taken (Docker's create is idempotent)."""
        ...

    def get(self, name: str) -> Volume: ...  # NotFound

    def list(self) -> list[Volume]: ...

    def delete(self, name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class MountPoint:
    """One entry of a container's ``Mounts`` (moby ``volume/mounts.MountPoint``).

    ``type``: "volume" | "bind" | "tmpfs".  For a volume ``name`` is set and
    ``source`` is filled from the volume at start; for a bind ``source`` is
    the host path; for tmpfs ``options`` carry size/mode."""

    type: str
    destination: str
    source: str = ""
    name: str = ""
    driver: str = ""
    rw: bool = True
    mode: str = ""  # what the user wrote after the second ":" (-v), echoed by inspect
    propagation: str = ""
    copy_data: bool = True  # copy image content into an empty volume (not "nocopy")
    options: tuple[str, ...] = ()  # tmpfs: ("size=65536k", "mode=1777")
    volume_options: Mapping[str, str] = field(default_factory=dict)  # --mount volume-opt, for a new volume
    volume_labels: Mapping[str, str] = field(default_factory=dict)
    anonymous: bool = False
    create_source: bool = False  # -v /host:/ctr creates a missing host dir; --mount refuses it

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["options"] = list(self.options)
        return d

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "MountPoint":
        d = {k: v for k, v in obj.items() if k in cls.__dataclass_fields__}
        d["options"] = tuple(d.get("options") or ())
        return cls(**d)

    def inspect_json(self) -> dict[str, Any]:
        """The shape of ``Mounts[]`` in ``GET /containers/{id}/json`` (and /json list)."""
        out: dict[str, Any] = {"Type": self.type}
        if self.type == "volume":
            out["Name"] = self.name
        out["Source"] = self.source
        out["Destination"] = self.destination
        if self.type == "volume":
            out["Driver"] = self.driver or "local"
        out["Mode"] = self.mode
        out["RW"] = self.rw
        out["Propagation"] = self.propagation
        return out
