"""``dockyardd --userns-remap``: every container in its own user namespace (Docker's remap).

``default`` means the ``dockremap`` user and group (setup.sh creates them and their
/etc/subuid, /etc/subgid ranges); ``user[:group]`` names others (or numeric ids). The
maps are read once at start; the container's root is the first subordinate id. A container
opts out with ``--userns=host`` (HostConfig.UsernsMode). Pure except ``load`` and
``own_files``; the runtime realises the maps (runtime/userns_launch.py).
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import grp
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from dockyard.oci import runtime as oci
from dockyard.oci.runtime import IdMapping
from dockyard.errors import InvalidArgument
from dockyard.runtime.userns import id_maps, parse_subid, ranges_for, to_host

DEFAULT_USER = "dockremap"
PING_RANGE = "net.ipv4.ping_group_range"


@dataclass(frozen=True, slots=True)
class Remap:
    user: str
    group: str
    uid_maps: tuple[IdMapping, ...]
    gid_maps: tuple[IdMapping, ...]

    @property
    def root(self) -> tuple[int, int]:
        """The host (uid, gid) of the containers' root."""
        return to_host(self.uid_maps, 0), to_host(self.gid_maps, 0)


def host_ids(remap: Remap, uid: int, gid: int) -> tuple[int, int]:
    """A remapped container's (uid, gid) as the host sees them (InvalidArgument when unmapped)."""
    return to_host(remap.uid_maps, uid), to_host(remap.gid_maps, gid)


def container_ids(remap: Remap, uid: int, gid: int) -> tuple[int, int]:
    """Host ids in a remapped container's upper dir as its layer records them (the container's own);
    an id outside the maps (a copy-up of an image file owned by host root) stays as it is."""
    def back(maps: Sequence[IdMapping], host: int) -> int:
        for m in maps:
            if m.host_id <= host < m.host_id + m.size:
                return m.container_id + host - m.host_id
        return host
    return back(remap.uid_maps, uid), back(remap.gid_maps, gid)


def parse_option(value: str) -> tuple[str, str]:
    """``default`` | ``user`` | ``user:group`` -> (user, group); the group defaults to the user."""
    if value == "default":
        return DEFAULT_USER, DEFAULT_USER
    user, _, group = value.partition(":")
    if not user or ":" in group:
        raise InvalidArgument(f"invalid --userns-remap value {value!r}: expected default, user or user:group")
    return user, group or user


def maps_for(user: str, uid: int | None, group: str, gid: int | None,
             subuid: str, subgid: str) -> tuple[tuple[IdMapping, ...], tuple[IdMapping, ...]]:
    """The id maps from /etc/subuid and /etc/subgid texts (pure)."""
    try:
        return (id_maps(ranges_for(parse_subid(subuid), user, uid), "uid"),
                id_maps(ranges_for(parse_subid(subgid), group, gid), "gid"))
    except InvalidArgument as exc:
        raise InvalidArgument(f"--userns-remap {user}:{group}: {exc} (/etc/subuid, /etc/subgid)") from None


def load(value: str, etc: Path = Path("/etc")) -> Remap | None:
    """Read the maps for a ``--userns-remap`` value ("" means off)."""
    if not value:
        return None
    user, group = parse_option(value)
    uid = gid = None
    try:
        pw = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        user, uid = pw.pw_name, pw.pw_uid
    except KeyError:
        raise InvalidArgument(f"--userns-remap: user {user!r} does not exist") from None
    try:
        gr = grp.getgrgid(int(group)) if group.isdigit() else grp.getgrnam(group)
        group, gid = gr.gr_name, gr.gr_gid
    except KeyError:
        raise InvalidArgument(f"--userns-remap: group {group!r} does not exist") from None

    def text(name: str) -> str:
        try:
            return (etc / name).read_text()
        except FileNotFoundError:
            return ""
    uids, gids = maps_for(user, uid, group, gid, text("subuid"), text("subgid"))
    return Remap(user, group, uids, gids)


def wanted(host_config: Mapping[str, Any], remap: Remap | None) -> bool:
    """Whether this container gets the remap; refuses what Docker refuses with it (its texts)."""
    mode = host_config.get("UsernsMode") or ""
    if mode not in ("", "host"):
        raise InvalidArgument(f"invalid USER mode: {mode}")
    if remap is None or mode == "host":
        return False
    if host_config.get("Privileged"):
        raise InvalidArgument("privileged mode is incompatible with user namespaces.  You must run the "
                              "container in the host namespace when running privileged mode")
    if (host_config.get("NetworkMode") or "") == "host":
        raise InvalidArgument("cannot share the host's network namespace when user namespacing is enabled")
    return True


def apply(spec: oci.Spec, host_config: Mapping[str, Any], remap: Remap | None) -> oci.Spec:
    """The spec with a new user namespace and the maps, unless the container opts out."""
    if not wanted(host_config, remap):
        return spec
    assert remap is not None
    sysctl = dict(spec.linux.sysctl)
    if PING_RANGE not in (host_config.get("Sysctls") or {}):
        sysctl.pop(PING_RANGE, None)  # moby: no ping sockets in a user ns (its gids end at 65535)
    linux = dataclasses.replace(spec.linux, namespaces=(*spec.linux.namespaces, oci.Namespace(oci.NS_USER)),
                                uid_mappings=remap.uid_maps, gid_mappings=remap.gid_maps, sysctl=sysctl)
    return dataclasses.replace(spec, linux=linux)


def own_files(remap: Remap, files: Sequence[Path], dirs: Sequence[Path]) -> None:
    """The container's /etc files belong to its root (Docker chowns them too); the directories
    on the way to bundles and bind sources become traversable (0711, as Docker's roots)."""
    uid, gid = remap.root
    for f in files:
        try:
            os.chown(f, uid, gid)
        except FileNotFoundError:
            pass
    for d in dirs:
        try:
            mode = os.stat(d).st_mode & 0o7777
            if mode & 0o011 != 0o011:
                os.chmod(d, mode | 0o011)
        except FileNotFoundError:
            pass
