"""``X-Docker-Container-Path-Stat``: base64 of JSON ``{name, size, mode, mtime, linkTarget}``
where ``mode`` is a Go ``os.FileMode`` (type bits high, permissions low). Pure."""

from __future__ import annotations

import base64
import json
import stat

HEADER = "X-Docker-Container-Path-Stat"
# Go os.FileMode type bits
MODE_DIR = 1 << 31
MODE_SYMLINK = 1 << 27
MODE_DEVICE = 1 << 26
MODE_NAMED_PIPE = 1 << 25
MODE_SOCKET = 1 << 24
MODE_SETUID = 1 << 23
MODE_SETGID = 1 << 22
MODE_CHAR_DEVICE = 1 << 21
MODE_STICKY = 1 << 20


def go_mode(st_mode: int) -> int:
    m = st_mode & 0o777
    fmt = stat.S_IFMT(st_mode)
    m |= {stat.S_IFDIR: MODE_DIR, stat.S_IFLNK: MODE_SYMLINK, stat.S_IFBLK: MODE_DEVICE,
          stat.S_IFCHR: MODE_DEVICE | MODE_CHAR_DEVICE, stat.S_IFIFO: MODE_NAMED_PIPE,
          stat.S_IFSOCK: MODE_SOCKET}.get(fmt, 0)
    if st_mode & stat.S_ISUID:
        m |= MODE_SETUID
    if st_mode & stat.S_ISGID:
        m |= MODE_SETGID
    if st_mode & stat.S_ISVTX:
        m |= MODE_STICKY
    return m


def is_dir(mode: int) -> bool:
    return bool(mode & MODE_DIR)


def is_symlink(mode: int) -> bool:
    return bool(mode & MODE_SYMLINK)


def encode(obj: dict) -> str:
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def decode(value: str) -> dict:
    return json.loads(base64.b64decode(value))
