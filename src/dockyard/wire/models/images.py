"""Docker Engine API image shapes (API 1.47: ImageSummary, ImageInspect); pure functions.

See moby ``api/swagger.yaml`` definitions ``ImageSummary`` and ``ImageInspect``.
``VirtualSize`` is omitted (removed in API 1.44); ``Container`` and
``ContainerConfig`` are omitted (removed in API 1.45).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

ZERO_TIME = "0001-01-01T00:00:00Z"

# The container-config keys Docker always prints in an image's Config, with their empty values.
_CONFIG_DEFAULTS: tuple[tuple[str, Any], ...] = (
    ("Hostname", ""), ("Domainname", ""), ("User", ""), ("AttachStdin", False), ("AttachStdout", False),
    ("AttachStderr", False), ("Tty", False), ("OpenStdin", False), ("StdinOnce", False), ("Env", None),
    ("Cmd", None), ("Image", ""), ("Volumes", None), ("WorkingDir", ""), ("Entrypoint", None),
    ("OnBuild", None), ("Labels", None),
)


def parse_time(value: str) -> datetime | None:
    """RFC 3339 (nanoseconds allowed) -> aware datetime; None if empty or malformed."""
    if not value:
        return None
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", value)
    if not m:
        return None
    frac = (m.group(2) or "")[:7]  # "." + at most 6 digits: what datetime accepts
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    try:
        return datetime.fromisoformat(m.group(1) + frac + tz)
    except ValueError:
        return None


def unix_seconds(value: str) -> int:
    t = parse_time(value)
    return int(t.timestamp()) if t else 0


def rfc3339(t: datetime) -> str:
    """Docker's time.RFC3339Nano formatting in UTC (trailing zeros trimmed)."""
    t = t.astimezone(timezone.utc)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += ("." + f"{t.microsecond:06d}").rstrip("0")
    return s + "Z"


def docker_config(run_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """An image's ``config`` object in the shape ``docker image inspect`` prints."""
    raw = dict(run_config or {})
    out: dict[str, Any] = {k: raw.pop(k, v) for k, v in _CONFIG_DEFAULTS}
    out.update(raw)  # ExposedPorts, Healthcheck, StopSignal, ArgsEscaped, Shell... as the image has them
    return out


def image_summary(*, id: str, repo_tags: Sequence[str], repo_digests: Sequence[str], created: str, size: int,
                  labels: Mapping[str, str] | None, parent_id: str = "") -> dict[str, Any]:
    """One entry of ``GET /images/json``."""
    return {
        "Id": id,
        "ParentId": parent_id,
        "RepoTags": list(repo_tags),
        "RepoDigests": list(repo_digests),
        "Created": unix_seconds(created),
        "Size": size,
        "SharedSize": -1,
        "Labels": dict(labels) if labels else None,
        "Containers": -1,
    }


def image_inspect(*, id: str, repo_tags: Sequence[str], repo_digests: Sequence[str], config: Mapping[str, Any],
                  size: int, last_tag_time: str, graph_driver: Mapping[str, str]) -> dict[str, Any]:
    """``GET /images/{name}/json``; ``config`` is the image config blob as JSON."""
    rootfs = config.get("rootfs") or {}
    out: dict[str, Any] = {
        "Id": id,
        "RepoTags": list(repo_tags),
        "RepoDigests": list(repo_digests),
        "Parent": "",
        "Comment": str(config.get("comment") or ""),
        "Created": str(config.get("created") or "") or ZERO_TIME,
        "DockerVersion": str(config.get("docker_version") or ""),
        "Author": str(config.get("author") or ""),
        "Config": docker_config(config.get("config")),
        "Architecture": str(config.get("architecture") or ""),
        "Os": str(config.get("os") or ""),
        "Size": size,
        "GraphDriver": {"Data": dict(graph_driver), "Name": "overlay2"},
        "RootFS": {"Type": str(rootfs.get("type") or "layers"), "Layers": list(rootfs.get("diff_ids") or [])},
        "Metadata": {"LastTagTime": last_tag_time or ZERO_TIME},
    }
    if config.get("variant"):
        out["Variant"] = str(config["variant"])
    if config.get("os.version"):
        out["OsVersion"] = str(config["os.version"])
    return out
