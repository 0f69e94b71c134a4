"""ContainerConfig (+ resolved user + per-container files) -> OCI runtime Spec.

Pure: no I/O. The default mounts, masked and read-only paths are Docker's
(moby ``oci/defaults.go``), so a container looks the same inside as under
``docker run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from dockyard.core.containers import ContainerConfig
from dockyard.daemon import security
from dockyard.daemon.seccomp_profile import default_profile, parse_profile, resolve
from dockyard.daemon.users import ExecUser
from dockyard.oci import runtime as oci

MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

_DEFAULT_MOUNTS: tuple[oci.Mount, ...] = (
    oci.Mount("/proc", "proc", "proc", ("nosuid", "noexec", "nodev")),
    oci.Mount("/dev", "tmpfs", "tmpfs", ("nosuid", "strictatime", "mode=755", "size=65536k")),
    oci.Mount("/dev/pts", "devpts", "devpts",
              ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
    oci.Mount("/sys", "sysfs", "sysfs", ("nosuid", "noexec", "nodev", "ro")),
    oci.Mount("/dev/mqueue", "mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
    oci.Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
)

NAMESPACES = (oci.NS_PID, oci.NS_NETWORK, oci.NS_IPC, oci.NS_UTS, oci.NS_MOUNT)


def _rule(type: str, major: int | None, minor: int | None, access: str = "rwm",
          allow: bool = True) -> oci.DeviceRule:
    return oci.DeviceRule(allow, type, major, minor, access)


# The device cgroup: deny everything, then the OCI default devices + pts/ptmx/tun (moby's
# oci/defaults.go and runc's allowed devices); any node may be created (m), not opened.
DEVICE_RULES = (
    _rule("a", None, None, allow=False), _rule("c", None, None, "m"), _rule("b", None, None, "m"),
    _rule("c", 1, 3), _rule("c", 1, 5), _rule("c", 1, 7), _rule("c", 1, 8), _rule("c", 1, 9),
    _rule("c", 5, 0), _rule("c", 5, 1), _rule("c", 5, 2), _rule("c", 136, None), _rule("c", 10, 200),
)
PRIVILEGED_DEVICE_RULES = (_rule("a", None, None),)
# Namespaced sysctls Docker sets in a private network namespace (moby oci_linux.go): ping
# without CAP_NET_RAW, and low ports without CAP_NET_BIND_SERVICE.
NETWORK_SYSCTLS = {"net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_unprivileged_port_start": "0"}


@dataclass(frozen=True, slots=True)
class SecurityDefaults:
    """What the daemon decides for every container; the host facts are passed in (pure)."""

    no_new_privileges: bool = False  # dockyardd --no-new-privileges
    seccomp: bool = True  # False: dockyardd --seccomp-profile unconfined
    seccomp_profile_json: str = ""  # dockyardd --seccomp-profile FILE, instead of Docker's default
    machine: str = "x86_64"  # os.uname().machine
    kernel: tuple[int, int] = (6, 1)
    last_cap: int = len(security.KNOWN_CAPS) - 1
    available_caps: int = -1  # the daemon's own bounding set: --privileged cannot give more
    host_devices: tuple[oci.Device, ...] = ()  # every host /dev node, for --privileged


@dataclass(frozen=True, slots=True)
class ContainerFiles:
    """Host paths bind-mounted over the container's /etc files."""

    hostname: Path
    hosts: Path
    resolv_conf: Path


INIT_TARGET = "/sbin/docker-init"  # where Docker mounts its init, so scripts that look for it find it


def init_binary(host_config: Mapping[str, Any], init_path: str, daemon_default: bool) -> str | None:
    """``HostConfig.Init`` (null: the daemon's ``--init``) → the host binary to run as PID 1, or None."""
    wanted = host_config.get("Init")
    return init_path if (daemon_default if wanted is None else bool(wanted)) else None


def build_spec(config: ContainerConfig, user: ExecUser, files: ContainerFiles, *,
               cgroup_parent: str = "dockyard", sec: SecurityDefaults = SecurityDefaults(),
               network_ns: str | None = "", init_binary: str | None = None) -> oci.Spec:
    """``network_ns``: "" a new network namespace, None the host's (no
    namespace in the spec), else the path of one to join. ``init_binary``
    (``--init``): bind-mounted read-only at /sbin/docker-init and run as
    PID 1 with the command after ``--`` (it forwards signals, reaps zombies)."""
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
    host = config.host_config_json
    privileged = bool(host.get("Privileged"))
    cap_add, cap_drop, sec_opts = security.host_lists(host)
    caps = tuple(security.effective_caps(cap_add, cap_drop, privileged=privileged,
                                            last_cap=sec.last_cap, available=sec.available_caps))
    opts = security.parse_security_opts(sec_opts, default_no_new_privileges=sec.no_new_privileges)
    masked, readonly = _system_paths(host, privileged)
    mounts = _DEFAULT_MOUNTS
    if privileged:  # /sys writable, as Docker's --privileged
        mounts = tuple(oci.Mount(m.destination, m.type, m.source, tuple(o for o in m.options if o != "ro"))
                       if m.destination == "/sys" else m for m in mounts)
    args: tuple[str, ...] = (config.path, *config.args)
    if init_binary:
        args = (INIT_TARGET, "--", *args)
        binds += (oci.Mount(INIT_TARGET, "bind", init_binary, ("bind", "ro", "nosuid", "nodev")),)
    return oci.Spec(
        process=oci.Process(
            args=args,
            env=tuple(env),
            cwd=config.working_dir or "/",
            user=oci.User(uid=user.uid, gid=user.gid, additional_gids=user.additional_gids),
            terminal=config.tty,
            no_new_privileges=opts.no_new_privileges,
            # Bounding = effective = permitted; inheritable and ambient empty (moby since
            # CVE-2022-24769), so a non-root user keeps no capability across execve.
            capabilities=oci.Capabilities(bounding=caps, effective=caps, permitted=caps),
            # No rlimits by default: the container inherits the daemon's, as
            # under dockerd (raising them needs CAP_SYS_RESOURCE anyway).
        ),
        root=oci.Root(path="rootfs", readonly=bool(config.host_config_json.get("ReadonlyRootfs"))),
        hostname=config.hostname,
        domainname=config.domainname,
        mounts=mounts + binds,
        linux=oci.Linux(
            namespaces=tuple(oci.Namespace(t, network_ns or None if t == oci.NS_NETWORK else None)
                             for t in NAMESPACES if not (t == oci.NS_NETWORK and network_ns is None)),
            cgroups_path=f"/{cgroup_parent}/{config.id}",
            resources=oci.Resources(devices=PRIVILEGED_DEVICE_RULES if privileged else DEVICE_RULES),
            masked_paths=masked,
            readonly_paths=readonly,
            # Docker's defaults only in a new network namespace (a joined one has them already)
            sysctl={**(NETWORK_SYSCTLS if network_ns == "" else {}), **_str_map(host.get("Sysctls"))},
            seccomp=_seccomp(opts.seccomp, privileged, caps, sec),
            devices=sec.host_devices if privileged else (),
        ),
        annotations={"org.opencontainers.image.ref.name": config.image},
    )


def _system_paths(host: Mapping[str, Any], privileged: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """HostConfig.MaskedPaths/ReadonlyPaths: null means Docker's lists; the CLI sends [] for
    ``--security-opt systempaths=unconfined``; --privileged clears both."""
    if privileged:
        return (), ()
    masked, readonly = host.get("MaskedPaths"), host.get("ReadonlyPaths")
    return (MASKED_PATHS if masked is None else tuple(masked),
            READONLY_PATHS if readonly is None else tuple(readonly))


def _seccomp(opt: str, privileged: bool, caps: tuple[str, ...], sec: SecurityDefaults) -> oci.Seccomp | None:
    """moby's WithSeccomp: unconfined wins; privileged runs unfiltered unless given a profile."""
    if opt == "unconfined" or (privileged and opt in ("", "builtin")) or (not opt and not sec.seccomp):
        return None
    if not opt and sec.seccomp_profile_json:
        opt = sec.seccomp_profile_json
    profile = default_profile() if opt in ("", "builtin") else parse_profile(opt)
    return resolve(profile, caps=caps, machine=sec.machine, kernel=sec.kernel)


def _str_map(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


# /etc/hosts and /etc/resolv.conf content lives in network/dnsfiles.py (pure);
# re-exported here for the callers that wrote them before networking existed.
from dockyard.network.dnsfiles import hosts_file, resolv_conf  # noqa: E402

