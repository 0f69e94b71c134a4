"""``dockyard cp`` path rules (docker ``pkg/archive/copy.go``), pure where it can be.

``plan`` decides, from what the source is and what the destination is,
the directory to extract into and the name the source's top entry gets
(Docker's ``PrepareArchiveCopy`` + ``RebaseArchiveEntries``).
"""

from __future__ import annotations

import posixpath


class CopyError(ValueError):
    pass


def split_dir_entry(path: str) -> tuple[str, str]:
    """docker SplitPathDirEntry: "/a/b/." → ("/a/b", "."); "/a/b/" → ("/a", "b")."""
    if path.endswith("/.") or path == ".":
        return (path[:-2] or "/") if path != "." else ".", "."
    clean = posixpath.normpath(path)
    d, base = posixpath.split(clean)
    return d or ".", base


def plan(src_path: str, src_is_dir: bool, dst_path: str, dst_exists: bool, dst_is_dir: bool,
         rebase_name: str = "") -> tuple[str, str]:
    """→ (directory to extract into, new name of the source's top entry)."""
    src_base = rebase_name or split_dir_entry(src_path)[1]
    if dst_exists and dst_is_dir:
        return dst_path, src_base
    if src_is_dir:
        if dst_exists:
            raise CopyError("cannot copy a directory to a file")  # moby ErrCannotCopyDir
        d, base = split_dir_entry(dst_path.rstrip("/") or "/")
        return d, base
    if dst_path.endswith("/") or dst_path.endswith("/."):
        raise CopyError(f"destination directory \"{dst_path}\" must exist")  # ErrDirNotExists
    d, base = split_dir_entry(dst_path)
    return d, base


def rebase(name: str, old: str, new: str) -> str:
    """Replace the top component ``old`` of a tar name with ``new`` ("." tops gain ``new/``)."""
    name = name.lstrip("/")
    if old == ".":
        rest = name[2:] if name.startswith("./") else "" if name == "." else name
        return new + ("/" + rest if rest else "")
    if name == old or name == old + "/":
        return new
    if name.startswith(old + "/"):
        return new + name[len(old):]
    return name
