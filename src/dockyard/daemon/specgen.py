"""ContainerConfig (+ resolved user + per-container files) -> OCI runtime Spec.

Pure: no I/O. The default mounts, masked and read-only paths are Docker's
(moby ``oci/defaults.go``), so a container looks the same inside as under
``docker run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockyard.core.containers import ContainerConfig
from dockyard.daemon.users import ExecUser
from dockyard.oci import runtime as oci

MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

_DEFAULT_MOUNTS = (
    oci.Mount("/proc", "proc", "proc", ("nosuid", "noexec", "nodev")),
    oci.Mount("/dev", "tmpfs", "tmpfs", ("nosuid", "strictatime", "mode=755", "size=65536k")),
    oci.Mount("/dev/pts", "devpts", "devpts",
              ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
    oci.Mount("/sys", "sysfs", "sysfs", ("nosuid", "noexec", "nodev", "ro")),
    oci.Mount("/dev/mqueue", "mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
    oci.Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
)

NAMESPACES = (oci.NS_PID, oci.NS_NETWORK, oci.NS_IPC, oci.NS_UTS, oci.NS_MOUNT)


@dataclass(frozen=True, slots=True)
class ContainerFiles:
    """Host paths bind-mounted over the container's /etc files."""

    hostname: Path
    hosts: Path
    resolv_conf: Path


def build_spec(config: ContainerConfig, user: ExecUser, files: ContainerFiles, *,
               cgroup_parent: str = "dockyard") -> oci.Spec:
    env = list(config.env)
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={user.home}")  # Docker sets HOME from passwd when the image does not
    if config.tty and not any(e.startswith("TERM=") for e in env):
        env.append("TERM=xterm")
    binds = tuple(
        oci.Mount(dest, "bind", str(src), ("rbind", "rprivate"))
        for dest, src in (("/etc/resolv.conf", files.resolv_conf), ("/etc/hostname", files.hostname),
                          ("/etc/hosts", files.hosts))
    )
    return oci.Spec(
        process=oci.Process(
            args=(config.path, *config.args),
            env=tuple(env),
            cwd=config.working_dir or "/",
            user=oci.User(uid=user.uid, gid=user.gid, additional_gids=user.additional_gids),
            terminal=config.tty,
            # No rlimits by default: the container inherits the daemon's, as
            # under dockerd (raising them needs CAP_SYS_RESOURCE anyway).
        ),
        root=oci.Root(path="rootfs", readonly=bool(config.host_config_json.get("ReadonlyRootfs"))),
        hostname=config.hostname,
        domainname=config.domainname,
        mounts=_DEFAULT_MOUNTS + binds,
        linux=oci.Linux(
            namespaces=tuple(oci.Namespace(t) for t in NAMESPACES),
            cgroups_path=f"/{cgroup_parent}/{config.id}",
            masked_paths=MASKED_PATHS,
            readonly_paths=READONLY_PATHS,
        ),
        annotations={"org.opencontainers.image.ref.name": config.image},
    )


def hosts_file(hostname: str) -> str:
    """/etc/hosts for a container with loopback networking only."""
    return (
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\n"
        "ff02::1\tip6-allnodes\n"
        "ff02::2\tip6-allrouters\n"
        f"127.0.1.1\t{hostname}\n"
    )


def resolv_conf(host_resolv_conf: str) -> str:
    """The host's resolv.conf without loopback nameservers (unreachable from the
    container's own network namespace), as Docker filters it."""
    lines = []
    for line in host_resolv_conf.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver" and (
                fields[1].startswith("127.") or fields[1] == "::1"):
            continue
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")
