"""Helpers for runtime integration tests: a busybox rootfs, specs, bundles, a Harness."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

from dockyard.core.mount import Mount
from dockyard.oci.runtime import Linux, Mount as SpecMount, Namespace, Process, Root, Spec, User, to_json
from dockyard.runtime import ShimRuntime

BUSYBOX = "/bin/busybox"
ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root")
CGROUP_PARENT = "dockyard-test"


def build_rootfs(root: Path) -> Path:
    """A minimal image: /bin/busybox + applet symlinks, /etc/passwd, /etc/group."""
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root"):
        (root / d).mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout.split()
    for name in applets:
        if name != "busybox":
            (root / "bin" / name).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    (root / "etc" / "group").write_text("root:x:0:\nnobody:x:65534:\n")
    return root


def make_spec(args: tuple[str, ...], container_id: str, **overrides: object) -> Spec:
    ns = tuple(Namespace(t) for t in ("mount", "pid", "uts", "ipc", "network"))
    mounts = (
        SpecMount("/proc", "proc", "proc", ("nosuid", "noexec", "nodev")),
        SpecMount("/dev", "tmpfs", "tmpfs", ("nosuid", "strictatime", "mode=755", "size=65536k")),
        SpecMount("/dev/pts", "devpts", "devpts",
                  ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
        SpecMount("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
        SpecMount("/dev/mqueue", "mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
        SpecMount("/sys", "sysfs", "sysfs", ("nosuid", "noexec", "nodev", "ro")),
    )
    process = Process(args=args, env=ENV, cwd=str(overrides.pop("cwd", "/")),
                      user=overrides.pop("user", User()))  # type: ignore[arg-type]
    linux = Linux(namespaces=ns, cgroups_path=f"/{CGROUP_PARENT}/{container_id}",
                  masked_paths=("/proc/kcore", "/proc/keys", "/proc/acpi", "/sys/firmware"),
                  readonly_paths=("/proc/sys", "/proc/sysrq-trigger", "/proc/bus"))
    base = dict(process=process, root=Root("rootfs"), hostname="c-" + container_id[:8], mounts=mounts, linux=linux)
    base.update(overrides)
    return Spec(**base)  # type: ignore[arg-type]


class Harness:
    """Writes bundles and drives a ShimRuntime; deletes every container it made."""

    def __init__(self, tmp: Path, rootfs: Path, runtime: ShimRuntime) -> None:
        self.tmp, self.rootfs, self.runtime = tmp, rootfs, runtime
        self.ids: list[str] = []

    def bundle(self, spec: Spec, container_id: str) -> Path:
        bundle = self.tmp / "bundles" / container_id
        (bundle / "rootfs").mkdir(parents=True)
        (bundle / "config.json").write_text(json.dumps(to_json(spec)))
        return bundle

    def new_id(self) -> str:
        cid = uuid.uuid4().hex
        self.ids.append(cid)
        return cid

    def create(self, *args: str, rootfs: list[Mount] | None = None, **overrides: object) -> tuple[str, Path]:
        cid = self.new_id()
        bundle = self.bundle(make_spec(args, cid, **overrides), cid)
        mounts = rootfs if rootfs is not None else [Mount("bind", str(self.rootfs), options=("rbind", "rw"))]
        self.runtime.create(cid, bundle, mounts, self.log_path(cid))
        return cid, bundle

    def log_path(self, cid: str) -> Path:
        return self.tmp / "logs" / f"{cid}-json.log"

    def logs(self, cid: str) -> list[dict[str, str]]:
        path = self.log_path(cid)
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def run(self, *args: str, **overrides: object) -> tuple[str, int, str]:
        """create + start + wait; returns (id, exit code, stdout text from the log)."""
        cid, _ = self.create(*args, **overrides)
        self.runtime.start(cid)
        status = self.runtime.wait(cid, timeout=30)
        assert status is not None
        text = "".join(e["log"] for e in self.logs(cid) if e["stream"] == "stdout")
        return cid, status.code, text


