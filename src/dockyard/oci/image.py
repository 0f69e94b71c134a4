"""OCI / Docker v2 image format values: descriptors, manifests, image config.

Pure data plus tolerant parsers; the parsers validate what the engine relies on
and raise ``InvalidArgument`` naming the bad field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from dockyard.errors import InvalidArgument

# Media types (OCI image-spec media-types.md; Docker distribution manifest v2).
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str  # "sha256:<hex>"
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        return d

    @classmethod
    def from_json(cls, obj: Any) -> "Descriptor":
        if not isinstance(obj, dict):
            raise InvalidArgument("descriptor must be an object")
        try:
            mt, dg, size = obj["mediaType"], obj["digest"], obj["size"]
        except KeyError as exc:
            raise InvalidArgument(f"descriptor is missing {exc.args[0]}") from None
        if not isinstance(mt, str) or not isinstance(dg, str) or not isinstance(size, int) or size < 0:
            raise InvalidArgument("descriptor has a field of the wrong type")
        return cls(mt, dg, size, dict(obj.get("annotations") or {}))


@dataclass(frozen=True, slots=True)
class RunConfig:
    """The ``config`` object of an image config (what a container inherits)."""

    user: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    working_dir: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    healthcheck: Mapping[str, Any] | None = None  # HEALTHCHECK, as Docker stores it

    @classmethod
    def from_json(cls, obj: Any) -> "RunConfig":
        if obj is None:
            return cls()
        if not isinstance(obj, dict):
            raise InvalidArgument("image config: config must be an object")

        def strs(name: str) -> tuple[str, ...] | None:
            v = obj.get(name)
            if v is None:
                return None
            if isinstance(v, str):
                return (v,)
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                raise InvalidArgument(f"image config: {name} must be a list of strings")
            return tuple(v)

        return cls(
            user=str(obj.get("User") or ""),
            env=strs("Env") or (),
            entrypoint=strs("Entrypoint"),
            cmd=strs("Cmd"),
            working_dir=str(obj.get("WorkingDir") or ""),
            labels=dict(obj.get("Labels") or {}),
            stop_signal=str(obj.get("StopSignal") or ""),
            exposed_ports=tuple(sorted((obj.get("ExposedPorts") or {}).keys())),
            volumes=tuple(sorted((obj.get("Volumes") or {}).keys())),
            healthcheck=dict(obj["Healthcheck"]) if isinstance(obj.get("Healthcheck"), dict) else None,
        )

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.user:
            d["User"] = self.user
        if self.env:
            d["Env"] = list(self.env)
        if self.entrypoint is not None:
            d["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            d["Cmd"] = list(self.cmd)
        if self.working_dir:
            d["WorkingDir"] = self.working_dir
        if self.labels:
            d["Labels"] = dict(self.labels)
        if self.stop_signal:
            d["StopSignal"] = self.stop_signal
        if self.exposed_ports:
            d["ExposedPorts"] = {p: {} for p in self.exposed_ports}
        if self.volumes:
            d["Volumes"] = {v: {} for v in self.volumes}
        if self.healthcheck is not None:
            d["Healthcheck"] = dict(self.healthcheck)
        return d


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """An image config blob (OCI image-spec config.md)."""

    architecture: str
    os: str
    config: RunConfig
    diff_ids: tuple[str, ...]
    created: str = ""
    history: tuple[Mapping[str, Any], ...] = ()
    variant: str = ""

    @classmethod
    def from_json(cls, obj: Any) -> "ImageConfig":
        if not isinstance(obj, dict):
            raise InvalidArgument("image config must be an object")
        rootfs = obj.get("rootfs")
        if not isinstance(rootfs, dict) or rootfs.get("type") != "layers":
            raise InvalidArgument("image config: rootfs.type must be \"layers\"")
        diff_ids = rootfs.get("diff_ids")
        if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
            raise InvalidArgument("image config: rootfs.diff_ids must be a list of digests")
        return cls(
            architecture=str(obj.get("architecture") or ""),
            os=str(obj.get("os") or ""),
            config=RunConfig.from_json(obj.get("config")),
            diff_ids=tuple(diff_ids),
            created=str(obj.get("created") or ""),
            history=tuple(obj.get("history") or ()),
            variant=str(obj.get("variant") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "architecture": self.architecture,
            "os": self.os,
            "config": self.config.to_json(),
            "rootfs": {"type": "layers", "diff_ids": list(self.diff_ids)},
        }
        if self.created:
            d["created"] = self.created
        if self.history:
            d["history"] = [dict(h) for h in self.history]
        if self.variant:
            d["variant"] = self.variant
        return d
