"""Docker Engine API shapes for containers (ContainerSummary, ContainerInspectResponse). Pure."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dockyard.core.containers import ContainerRecord, Status
from dockyard.core.timefmt import parse_rfc3339
from dockyard.wire import humanize


def mounts_json(mounts: Any) -> list[dict[str, Any]]:
    """``Mounts`` of inspect and of the list: the container's MountPoints in Docker's shape."""
    from dockyard.core.volumes import MountPoint

    return [MountPoint.from_json(m).inspect_json() for m in mounts or ()]


@dataclass(frozen=True, slots=True)
class ContainerPaths:
    """Host-side files of one container, shown by inspect."""

    log: str
    hostname: str
    hosts: str
    resolv_conf: str
    graph_driver: dict[str, str]


def status_text(rec: ContainerRecord, now: float | None = None) -> str:
    """The STATUS column, as moby's ``State.String()``."""
    st = rec.state
    return humanize.status_text(
        running=st.status in (Status.RUNNING, Status.PAUSED, Status.RESTARTING),
        paused=st.status is Status.PAUSED,
        restarting=st.status is Status.RESTARTING,
        dead=st.status is Status.DEAD,
        removing=st.status is Status.REMOVING,
        exit_code=st.exit_code,
        started_at=None if st.status is Status.CREATED else parse_rfc3339(st.started_at),
        finished_at=parse_rfc3339(st.finished_at),
        now=time.time() if now is None else now,
    )


def command_text(rec: ContainerRecord) -> str:
    return " ".join((rec.config.path, *rec.config.args))


def summary(rec: ContainerRecord, now: float | None = None) -> dict[str, Any]:
    c = rec.config
    return {
        "Id": c.id,
        "Names": ["/" + c.name],
        "Image": c.image,
        "ImageID": c.image_id,
        "Command": command_text(rec),
        "Created": int(parse_rfc3339(c.created)),
        "Ports": [],
        "Labels": dict(c.labels),
        "State": rec.state.status.value,
        "Status": status_text(rec, now),
        "HostConfig": {"NetworkMode": c.host_config_json.get("NetworkMode", "none")},
        "NetworkSettings": {"Networks": {}},
        "Mounts": mounts_json(c.mounts),
    }


def state_json(rec: ContainerRecord) -> dict[str, Any]:
    st = rec.state
    return {
        "Status": st.status.value,
        "Running": st.status in (Status.RUNNING, Status.PAUSED),
        "Paused": st.status is Status.PAUSED,
        "Restarting": st.status is Status.RESTARTING,
        "OOMKilled": st.oom_killed,
        "Dead": st.status is Status.DEAD,
        "Pid": st.pid,
        "ExitCode": st.exit_code,
        "Error": st.error,
        "StartedAt": st.started_at,
        "FinishedAt": st.finished_at,
    }


def inspect(rec: ContainerRecord, paths: ContainerPaths) -> dict[str, Any]:
    c = rec.config
    return {
        "Id": c.id,
        "Created": c.created,
        "Path": c.path,
        "Args": list(c.args),
        "State": state_json(rec),
        "Image": c.image_id,
        "ResolvConfPath": paths.resolv_conf,
        "HostnamePath": paths.hostname,
        "HostsPath": paths.hosts,
        "LogPath": paths.log,
        "Name": "/" + c.name,
        "RestartCount": rec.state.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": dict(c.host_config_json),
        "GraphDriver": {"Name": "overlay2", "Data": dict(paths.graph_driver)},
        "Mounts": mounts_json(c.mounts),
        "Config": dict(c.config_json),
        "NetworkSettings": {
            "Bridge": "", "SandboxID": "", "SandboxKey": "", "Ports": {},
            "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": "", "Networks": {},
        },
    }
