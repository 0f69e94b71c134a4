"""Images as named records (containerd ``core/images``).

An image record maps a normalised *name* to a *target* descriptor (the
manifest).  Several names may share one image; the image *id* is the digest of
its config blob, as in Docker.  An image with no name is kept under a
``moby-dangling@<id>`` name so it still has a record (Docker's ``<none>:<none>``).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping, Protocol

from dockyard.oci.image import Descriptor

DANGLING_PREFIX = "moby-dangling@"


def dangling_name(image_id: str) -> str:
    return DANGLING_PREFIX + image_id


def is_dangling(name: str) -> bool:
    return name.startswith(DANGLING_PREFIX)


@dataclass(frozen=True, slots=True)
class ImageRecord:
    name: str  # normalised reference, e.g. "docker.io/library/busybox:latest"
    target: Descriptor  # the manifest
    config_digest: str  # "sha256:<hex>" = the image id
    created: datetime  # when this name was recorded (Docker's Metadata.LastTagTime)
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.config_digest


class ImageStore(Protocol):
    def get(self, name: str) -> ImageRecord:
        """ImageNotFound if absent."""
        ...

    def list(self, match: Callable[[ImageRecord], bool] | None = None) -> list[ImageRecord]: ...

    def by_id(self, image_id: str) -> builtins.list[ImageRecord]:  # `list` is a method here
        """All records whose config digest is ``image_id`` (may be empty)."""
        ...

    def create(self, record: ImageRecord) -> ImageRecord:
        """AlreadyExists if the name is taken."""
        ...

    def update(self, record: ImageRecord) -> ImageRecord:
        """ImageNotFound if absent."""
        ...

    def put(self, record: ImageRecord) -> ImageRecord:
        """Create or replace the record for ``record.name``."""
        ...

    def delete(self, name: str) -> None:
        """ImageNotFound if absent."""
        ...
