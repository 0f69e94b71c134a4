"""Resolve a container's ``User`` ("name", "uid", "name:group", "uid:gid")
against the image's /etc/passwd and /etc/group, as runc's libcontainer/user
does. Pure: the caller reads the files.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True, slots=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExecUser:
    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    home: str = "/"


def parse_passwd(data: bytes | None) -> list[PasswdEntry]:
    out: list[PasswdEntry] = []
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        parts = line.strip().split(":")
        if len(parts) < 4 or line.startswith("#"):
            continue
        try:
            out.append(PasswdEntry(parts[0], int(parts[2]), int(parts[3]), parts[5] if len(parts) > 5 else "/"))
        except ValueError:
            continue  # malformed lines are skipped, as libc does
    return out


def parse_group(data: bytes | None) -> list[GroupEntry]:
    out: list[GroupEntry] = []
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        parts = line.strip().split(":")
        if len(parts) < 3 or line.startswith("#"):
            continue
        try:
            members = tuple(m for m in parts[3].split(",") if m) if len(parts) > 3 else ()
            out.append(GroupEntry(parts[0], int(parts[2]), members))
        except ValueError:
            continue
    return out


def _as_id(text: str) -> int | None:
    if text.isdigit():
        value = int(text)
        if value > 2**31 - 1:
            raise InvalidArgument(f"uids and gids must be in range 0-{2**31 - 1}")
        return value
    return None


def resolve_user(spec: str, passwd: bytes | None, group: bytes | None) -> ExecUser:
    """Turn ``spec`` into numeric ids.

    A numeric uid/gid need not exist in the files; a name must, else
    Docker's ``unable to find user NAME: no matching entries in passwd file``.
    """
    user_part, _, group_part = (spec or "").partition(":")
    users = parse_passwd(passwd)
    groups = parse_group(group)

    uid, gid, home, name = 0, 0, "/", "root"
    if user_part:
        numeric = _as_id(user_part)
        match = next((u for u in users if (u.uid == numeric if numeric is not None else u.name == user_part)), None)
        if match is None and numeric is None:
            raise InvalidArgument(f"unable to find user {user_part}: no matching entries in passwd file")
        if match is not None:
            uid, gid, home, name = match.uid, match.gid, match.home, match.name
        else:
            uid, gid, home, name = numeric or 0, 0, "/", ""
    else:
        root = next((u for u in users if u.uid == 0), None)
        if root is not None:
            gid, home, name = root.gid, root.home, root.name

    if group_part:
        numeric = _as_id(group_part)
        gmatch = next((g for g in groups if (g.gid == numeric if numeric is not None else g.name == group_part)), None)
        if gmatch is None and numeric is None:
            raise InvalidArgument(f"unable to find group {group_part}: no matching entries in group file")
        gid = gmatch.gid if gmatch is not None else (numeric or 0)
        extra: tuple[int, ...] = ()  # an explicit group replaces the supplementary list (runc)
    else:
        extra = tuple(sorted({g.gid for g in groups if name and name in g.members and g.gid != gid}))
    # The primary gid leads the list, so `id` inside shows groups=0(root),10(wheel) as under Docker.
    return ExecUser(uid=uid, gid=gid, additional_gids=(gid, *extra), home=home or "/")
