"""Kernel seam of the runtime: the ``Syscalls`` protocol, its Linux implementation and a recording fake."""

from dockyard.runtime.sys.recording import RecordingSyscalls
from dockyard.runtime.sys.syscalls import MNT_DETACH, CloneFlag, MountFlag, Syscalls

__all__ = ["MNT_DETACH", "CloneFlag", "MountFlag", "RecordingSyscalls", "Syscalls"]
