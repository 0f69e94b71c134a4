"""Build directory trees and describe them for comparisons (layer round trips)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def describe(root: Path, *, mtimes: bool = True) -> dict[str, tuple]:
    """{relative path: (type, mode, uid, gid, content/link/rdev, mtime?, xattrs)} for every entry below root."""
    out: dict[str, tuple] = {}
    inodes: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = os.lstat(p)
            mode = st.st_mode
            if stat.S_ISREG(mode):
                first = inodes.setdefault(st.st_ino, rel) if st.st_nlink > 1 else rel
                body: object = ("link", first) if first != rel else p.read_bytes()
            elif stat.S_ISLNK(mode):
                body = os.readlink(p)
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                body = (os.major(st.st_rdev), os.minor(st.st_rdev))
            else:
                body = None
            try:
                xattrs = tuple(sorted((k, os.getxattr(p, k, follow_symlinks=False))
                                      for k in os.listxattr(p, follow_symlinks=False)))
            except OSError:
                xattrs = ()
            mt = int(st.st_mtime) if mtimes and not stat.S_ISLNK(mode) else None
            out[rel] = (stat.S_IFMT(mode), stat.S_IMODE(mode), st.st_uid, st.st_gid, body, mt, xattrs)
    return out
