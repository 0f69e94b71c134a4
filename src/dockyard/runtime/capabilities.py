"""Capability sets from ``process.capabilities``: names -> bit masks -> kernel.

Applied in two halves around the uid switch (runc's finalizeNamespace order):

* ``prepare`` (still uid 0, every capability): keep-caps on, so the
  permitted set survives setresuid; drop what is not in the bounding set
  (dropping the bounding set needs CAP_SETPCAP, which we only have now).
* ``finish`` (after setresuid): keep-caps off, then capset the
  effective/permitted/inheritable sets and raise the ambient ones.

After execve the kernel recomputes the sets: a root process gets
bounding ∩ (its permitted ∪ inheritable); a non-root one keeps only the
ambient set, which Docker leaves empty.
"""

from __future__ import annotations

from typing import Iterable

from dockyard.errors import InvalidArgument
from dockyard.oci.runtime import Capabilities
from dockyard.runtime.sys.syscalls import Syscalls

# linux/capability.h, in bit order: NAMES[n] is capability number n.
NAMES: tuple[str, ...] = tuple("CAP_" + n for n in (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
))
NUMBERS: dict[str, int] = {name: i for i, name in enumerate(NAMES)}


def last_cap(path: str = "/proc/sys/kernel/cap_last_cap") -> int:
    """The highest capability the running kernel knows (falls back to our table)."""
    try:
        with open(path) as f:
            return min(int(f.read()), len(NAMES) - 1)
    except (OSError, ValueError):
        return len(NAMES) - 1


def number(name: str) -> int:
    try:
        return NUMBERS[name]
    except KeyError:
        raise InvalidArgument(f"unknown capability {name!r}") from None


def mask(names: Iterable[str]) -> int:
    m = 0
    for name in names:
        m |= 1 << number(name)
    return m


def validate(caps: Capabilities) -> None:
    """Every name known; ambient ⊆ permitted ∩ inheritable (the kernel refuses otherwise)."""
    for name in (*caps.bounding, *caps.effective, *caps.inheritable, *caps.permitted, *caps.ambient):
        number(name)
    missing = set(caps.ambient) - (set(caps.permitted) & set(caps.inheritable))
    if missing:
        raise InvalidArgument(f"ambient capabilities {sorted(missing)} must be permitted and inheritable")


def prepare(sys: Syscalls, caps: Capabilities, top: int) -> None:
    """Keep permitted caps across setuid; shrink the bounding set (needs CAP_SETPCAP: do it first)."""
    sys.set_keep_caps(True)
    keep = mask(caps.bounding)
    for n in range(top + 1):
        if not keep & (1 << n):
            sys.drop_bounding(n)


def finish(sys: Syscalls, caps: Capabilities) -> None:
    """The final sets, after setresuid; ambient last (each raise needs the cap permitted+inheritable)."""
    sys.set_keep_caps(False)
    sys.capset(mask(caps.effective), mask(caps.permitted), mask(caps.inheritable))
    for name in caps.ambient:
        sys.raise_ambient(number(name))
