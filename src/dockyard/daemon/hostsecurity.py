"""Host facts the security defaults depend on, read once at daemon start (I/O lives here,
so ``specgen`` stays pure): architecture, kernel, highest capability, host device nodes."""

from __future__ import annotations

import os
import stat

from pathlib import Path

from dockyard.daemon.seccomp_profile import kernel_version, parse_profile
from dockyard.errors import InvalidArgument
from dockyard.daemon.specgen import SecurityDefaults
from dockyard.oci.runtime import Device
from dockyard.runtime.capabilities import last_cap


def host_devices(root: str = "/dev") -> tuple[Device, ...]:
    """Every char/block node under /dev (moby's HostDevices, used by --privileged);
    /dev/pts and /dev/shm are the container's own, so they are skipped."""
    out: list[Device] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in ("/dev/pts", "/dev/shm", "/dev/mqueue")]
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                if path == "/dev/console":
                    continue  # the console belongs to the container's terminal, not the host's
                out.append(Device(path, "c" if stat.S_ISCHR(st.st_mode) else "b", os.major(st.st_rdev),
                                  os.minor(st.st_rdev), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
    return tuple(sorted(out, key=lambda d: d.path))


def security_defaults(*, no_new_privileges: bool = False, seccomp_profile: str = "builtin") -> SecurityDefaults:
    """``seccomp_profile`` is dockyardd's --seccomp-profile: builtin, unconfined or a file (read now,
    so a broken file stops the daemon at start, as dockerd)."""
    custom = ""
    if seccomp_profile not in ("builtin", "unconfined", ""):
        try:
            custom = Path(seccomp_profile).read_text()
        except OSError as exc:
            raise InvalidArgument(f"opening seccomp profile ({seccomp_profile}) failed: {exc.strerror}") from None
        parse_profile(custom)
    u = os.uname()
    return SecurityDefaults(no_new_privileges=no_new_privileges, seccomp=seccomp_profile != "unconfined",
                            seccomp_profile_json=custom, machine=u.machine, kernel=kernel_version(u.release),
                            last_cap=last_cap(), available_caps=own_bounding_set(), host_devices=host_devices())


def own_bounding_set() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapBnd:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return -1
