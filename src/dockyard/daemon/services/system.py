"""``/version`` and ``/info``: what the daemon can tell about itself and the host.

Shapes follow moby's ``api/types/system`` (``Info``) and ``types.Version``;
fields we cannot fill honestly get Docker's zero values so clients decode them.
"""

from __future__ import annotations

import os
import platform
import socket
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import dockyard
from dockyard.wire.versions import API_VERSION, MIN_API_VERSION

# Go's GOARCH names, which clients expect in "Arch".
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x"}


class _Counts(Protocol):
    def counts(self) -> dict[str, int]: ...


class _ImageCount(Protocol):
    def count(self) -> int: ...


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _os_release() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "Linux"


def _mem_total() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def cgroup_version(root: Path = Path("/sys/fs/cgroup")) -> str:
    """"2" on a unified hierarchy, else "1"."""
    return "2" if (root / "cgroup.controllers").exists() else "1"


class SystemService:
    """Answers ``/version`` and ``/info``.

    Args:
        containers: anything with ``counts()`` (the container service).
        images: anything with ``count()`` (the image service).
        data_root: the daemon's data directory; the engine id lives there.
        exec_root: runtime state directory (reported for diagnostics only).
    """

    def __init__(
        self,
        containers: _Counts,
        images: _ImageCount,
        data_root: Path,
        *,
        exec_root: Path = Path("/run/dockyard"),
        hostname: str | None = None,
        now: Any = None,
        volumes: Any = None,
        log_driver: str = "json-file",
    ) -> None:
        self._log_driver = log_driver  # dockyardd --log-driver: info's LoggingDriver
        self._volumes = volumes  # VolumeService: df lists volumes with UsageData
        self._containers = containers
        self._images = images
        self._data_root = Path(data_root)
        self._exec_root = Path(exec_root)
        self._hostname = hostname or socket.gethostname()
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._engine_id: str | None = None

    def engine_id(self) -> str:
        """A stable id kept in ``<data_root>/engine-id`` (Docker keeps one too)."""
        if self._engine_id is None:
            path = self._data_root / "engine-id"
            try:
                self._engine_id = path.read_text().strip()
            except OSError:
                self._engine_id = str(uuid.uuid4())
                try:  # best effort: a read-only root still answers /info
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(self._engine_id + "\n")
                except OSError:
                    pass
        return self._engine_id

    def version_json(self) -> dict[str, Any]:
        arch = _GOARCH.get(platform.machine(), platform.machine())
        kernel = platform.release()
        version = dockyard.__version__
        details = {
            "ApiVersion": API_VERSION,
            "Arch": arch,
            "BuildTime": "",
            "Experimental": "false",
            "GitCommit": "",
            "GoVersion": f"python{platform.python_version()}",
            "KernelVersion": kernel,
            "MinAPIVersion": MIN_API_VERSION,
            "Os": "linux",
        }
        return {
            "Platform": {"Name": "Dockyard"},
            "Components": [{"Name": "Engine", "Version": version, "Details": details}],
            "Version": version,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": "",
            "GoVersion": details["GoVersion"],
            "Os": "linux",
            "Arch": arch,
            "KernelVersion": kernel,
            "BuildTime": "",
        }

    def df_json(self) -> dict[str, Any]:
        """``GET /system/df``: images (with how many containers use each),
        containers with their sizes, no volumes or build cache yet."""
        containers = getattr(self._containers, "list_json")(True, -1, {}, size=True)
        images = getattr(self._images, "list_json")(False, {})
        users: dict[str, int] = {}
        for c in containers:
            users[c.get("ImageID", "")] = users.get(c.get("ImageID", ""), 0) + 1
        layers = 0
        for img in images:
            img["Containers"] = users.get(img.get("Id", ""), 0)
            layers += int(img.get("Size", 0))
        vols = self._volumes.df_json() if self._volumes is not None else []
        return {"LayersSize": layers, "Images": images, "Containers": containers, "Volumes": vols,
                "BuildCache": []}

    def info_json(self) -> dict[str, Any]:
        counts = self._containers.counts()
        running = int(counts.get("running", 0))
        paused = int(counts.get("paused", 0))
        stopped = int(counts.get("stopped", 0))
        cg = cgroup_version()
        return {
            "ID": self.engine_id(),
            "Containers": running + paused + stopped,
            "ContainersRunning": running,
            "ContainersPaused": paused,
            "ContainersStopped": stopped,
            "Images": self._images.count(),
            "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "extfs"]],
            "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"], "Authorization": None, "Log": ["json-file", "local"]},
            "MemoryLimit": True,
            "SwapLimit": cg == "2",
            "CpuCfsPeriod": True,
            "CpuCfsQuota": True,
            "CPUShares": True,
            "CPUSet": True,
            "PidsLimit": True,
            "IPv4Forwarding": _read("/proc/sys/net/ipv4/ip_forward").strip() == "1",
            "Debug": False,
            "NFd": len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0,
            "OomKillDisable": False,
            "NGoroutines": 0,
            "SystemTime": self._now().isoformat().replace("+00:00", "Z"),
            "LoggingDriver": self._log_driver,
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": cg,
            "NEventsListener": 0,
            "KernelVersion": platform.release(),
            "OperatingSystem": _os_release(),
            "OSVersion": "",
            "OSType": "linux",
            "Architecture": platform.machine(),
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {
                "AllowNondistributableArtifactsCIDRs": None,
                "AllowNondistributableArtifactsHostnames": None,
                "InsecureRegistryCIDRs": ["::1/128", "127.0.0.0/8"],
                "IndexConfigs": {
                    "docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True, "Official": True}
                },
                "Mirrors": None,
            },
            "NCPU": os.cpu_count() or 1,
            "MemTotal": _mem_total(),
            "GenericResources": None,
            "DockerRootDir": str(self._data_root),
            "HttpProxy": "",
            "HttpsProxy": "",
            "NoProxy": "",
            "Name": self._hostname,
            "Labels": [],
            "ExperimentalBuild": False,
            "ServerVersion": dockyard.__version__,
            "Runtimes": {"dockyard": {"path": "dockyard-runtime"}},
            "DefaultRuntime": "dockyard",
            "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False, "Error": "", "RemoteManagers": None},
            "LiveRestoreEnabled": True,
            "Isolation": "",
            "InitBinary": "",
            "ContainerdCommit": {"ID": ""},
            "RuncCommit": {"ID": ""},
            "InitCommit": {"ID": ""},
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"] if cg == "2" else ["name=seccomp,profile=builtin"],
            "CDISpecDirs": [],
            "Warnings": None,
        }
