"""User namespaces: subordinate id ranges, id maps, and entering a new user ns with maps.

Pieces (the daemon's ``--userns-remap`` will compose them; see docs/architecture.md):

* ``parse_subid`` / ``ranges_for``: ``/etc/subuid`` and ``/etc/subgid`` lines
  (``name-or-uid:start:count``), as shadow-utils and Docker read them;
* ``id_maps``: the OCI ``linux.uidMappings``/``gidMappings`` for a remap user
  (container 0..n-1 -> host start..start+n-1, ranges concatenated like Docker);
* ``map_text``: what ``/proc/<pid>/uid_map`` takes;
* ``enter_with_maps``: unshare with ``CLONE_NEWUSER`` and get the maps written
  from *outside* the new namespace (only a process holding CAP_SETUID in the
  parent namespace may write a map for more than its own id).  A helper is
  forked before the unshare, so no message to the shim is needed: the helper
  waits on a pipe, writes the maps, exits; we then become root of the new
  namespace (``setresuid(0)``), i.e. the host's first subordinate id.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

from dockyard.errors import InvalidArgument
from dockyard.oci.runtime import IdMapping as IdMap  # the spec's linux.uidMappings entries
from dockyard.runtime.sys.syscalls import CloneFlag

Unshare = Callable[[CloneFlag], object]  # unshare(2): Syscalls.unshare or a ctypes wrapper


def parse_subid(text: str) -> list[tuple[str, int, int]]:
    """``name:start:count`` lines -> entries; comments and malformed lines are skipped (as shadow)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            continue
        out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


def ranges_for(entries: Iterable[tuple[str, int, int]], name: str, uid: int | None = None) -> list[tuple[int, int]]:
    """The (start, count) ranges of user ``name`` (or its numeric ``uid``), in file order."""
    keys = {name} | ({str(uid)} if uid is not None else set())
    return [(start, count) for who, start, count in entries if who in keys and count > 0]


def id_maps(ranges: Sequence[tuple[int, int]], what: str = "uid") -> tuple[IdMap, ...]:
    """Container ids from 0 mapped onto the ranges one after another (Docker's idtools)."""
    if not ranges:
        raise InvalidArgument(f"no subordinate {what} ranges found for the remap user")
    maps, next_id = [], 0
    for start, count in ranges:
        maps.append(IdMap(next_id, start, count))
        next_id += count
    if len(maps) > 340:  # the kernel's limit on map lines
        raise InvalidArgument(f"too many subordinate {what} ranges ({len(maps)})")
    return tuple(maps)


def to_host(maps: Sequence[IdMap], container_id: int) -> int:
    for m in maps:
        if m.container_id <= container_id < m.container_id + m.size:
            return m.host_id + container_id - m.container_id
    raise InvalidArgument(f"container id {container_id} is not mapped")


def map_text(maps: Sequence[IdMap]) -> str:
    return "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps)


def write_maps(pid: int, uid_maps: Sequence[IdMap], gid_maps: Sequence[IdMap]) -> None:
    """Write both maps of ``pid``'s user namespace (gid first: either order works for a privileged writer)."""
    for name, maps in (("gid_map", gid_maps), ("uid_map", uid_maps)):
        fd = os.open(f"/proc/{pid}/{name}", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, map_text(maps).encode())  # one write(2): the kernel accepts exactly one
        finally:
            os.close(fd)


def enter_with_maps(unshare: Unshare, flags: int, uid_maps: Sequence[IdMap], gid_maps: Sequence[IdMap]) -> None:
    """``unshare(flags)`` (which includes CLONE_NEWUSER), maps written by a forked helper, then
    become root of the new namespace. Must run single-threaded (it forks)."""
    go_r, go_w = os.pipe()
    helper = os.fork()
    if helper == 0:  # still in the parent user namespace, with its privileges
        code = 1
        try:
            os.close(go_w)
            if os.read(go_r, 1) == b"u":
                write_maps(os.getppid(), uid_maps, gid_maps)
                code = 0
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(go_r)
    try:
        unshare(CloneFlag(flags))
    except BaseException:
        os.close(go_w)
        os.waitpid(helper, 0)
        raise
    os.write(go_w, b"u")
    os.close(go_w)
    _, status = os.waitpid(helper, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(1, "writing the user namespace's uid/gid maps failed")
    os.setresgid(0, 0, 0)  # root of the namespace = the first subordinate id on the host
    os.setresuid(0, 0, 0)


def create_userns(unshare: Unshare, uid_maps: Sequence[IdMap], gid_maps: Sequence[IdMap]) -> int:
    """A new user namespace with the maps, as an fd (O_CLOEXEC); the caller keeps its privileges.

    A forked child unshares CLONE_NEWUSER; we (still privileged in the parent namespace) write
    its maps and open ``/proc/<child>/ns/user``; the fd keeps the namespace alive after the
    child exits. The fd serves both ``MOUNT_ATTR_IDMAP`` and ``setns``. Single-threaded callers only."""
    fd, child = start_userns(unshare, uid_maps, gid_maps)
    os.waitpid(child, 0)
    return fd


def start_userns(unshare: Unshare, uid_maps: Sequence[IdMap], gid_maps: Sequence[IdMap],
                 fork: Callable[[], int] = os.fork,
                 fork_in_userns: Callable[[], int] | None = None) -> tuple[int, int]:
    """``create_userns`` without the wait: (ns fd, helper pid). The helper is already told to
    exit; the caller reaps it later, so its exit (~0.5 ms of mm teardown) overlaps the
    caller's next steps. The runtime passes ``fork_in_userns`` (sys.linux.fork_into_new_userns:
    the child is born in the new ns, so no round trip waits for it to unshare) or ``fork``
    (``quiet_fork``: no at-fork hooks); the default is plain ``os.fork`` + ``unshare``."""
    if fork_in_userns is not None:
        return _start_born_in_userns(fork_in_userns, uid_maps, gid_maps)
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    child = fork()
    if child == 0:
        code = 1
        try:
            os.close(ready_r)
            os.close(done_w)
            unshare(CloneFlag.NEWUSER)
            os.write(ready_w, b"u")
            os.read(done_r, 1)  # EOF: the parent has what it needs
            code = 0
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(done_r)
    try:
        ok = os.read(ready_r, 1) == b"u"
    finally:
        os.close(ready_r)
    if not ok:  # the child failed to unshare and exited
        os.close(done_w)
        os.waitpid(child, 0)
        raise OSError(1, "creating the user namespace failed")
    return _finish(child, done_w, uid_maps, gid_maps)


def _start_born_in_userns(fork_in_userns: Callable[[], int], uid_maps: Sequence[IdMap],
                          gid_maps: Sequence[IdMap]) -> tuple[int, int]:
    done_r, done_w = os.pipe()
    try:
        child = fork_in_userns()
    except BaseException:
        os.close(done_r)
        os.close(done_w)
        raise
    if child == 0:  # plain syscalls only, then _exit (see fork_into_new_userns)
        try:
            os.close(done_w)
            os.read(done_r, 1)  # EOF: the parent has what it needs
        finally:
            os._exit(0)
    os.close(done_r)
    return _finish(child, done_w, uid_maps, gid_maps)


def _finish(child: int, done_w: int, uid_maps: Sequence[IdMap], gid_maps: Sequence[IdMap]) -> tuple[int, int]:
    """Maps written, ns opened, helper told to go (closing ``done_w``); reaped here on failure."""
    try:
        write_maps(child, uid_maps, gid_maps)
        fd = os.open(f"/proc/{child}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except BaseException:
        os.close(done_w)
        os.waitpid(child, 0)
        raise
    os.close(done_w)  # EOF: the helper exits now, while we go on
    return fd, child
