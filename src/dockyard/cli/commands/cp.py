"""``dockyard cp``: copy files between a container and the local filesystem (or a tar on stdin/stdout)."""

from __future__ import annotations

import os
import sys

from . import Parser, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator


def _split(arg: str) -> tuple[str, str]:
    """"ctr:/path" → ("ctr", "/path"); a local path → ("", path) (docker splitCpArg)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return "", arg
    ctr, _, path = arg.partition(":")
    return ctr, path


def cp(ctx: Any, argv: list[str]) -> int:
    p = Parser("cp", "Copy files/folders between a container and the local filesystem")
    p.add_argument("-a", "--archive", action="store_true")
    p.add_argument("-L", "--follow-link", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("src")
    p.add_argument("dst")
    a = p.parse_args(argv)
    sc, sp = _split(a.src)
    dc, dp = _split(a.dst)
    if sc and dc:
        raise UsageError("dockyard: copying between containers is not supported")
    if not sc and not dc:
        raise UsageError("dockyard: must specify at least one container source")
    from dockyard.cli.cpcopy import CopyError

    try:
        if sc:
            return _from_container(ctx, sc, sp, a.dst, a.follow_link)
        return _to_container(ctx, a.src, dc, dp, a.follow_link, a.archive)
    except CopyError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1


def _from_container(ctx: Any, ctr: str, src: str, dst: str, follow: bool) -> int:
    from dockyard.cli import cpcopy
    from dockyard.client import volumes
    from dockyard.wire import pathstat

    src = src if src.startswith("/") else "/" + src
    rebase_name = ""
    if follow:
        st = volumes.stat_path(ctx.api, ctr, src)
        if pathstat.is_symlink(st.get("mode", 0)) and st.get("linkTarget"):
            rebase_name, src = cpcopy.split_dir_entry(src)[1], st["linkTarget"]
    info, chunks = volumes.get_archive(ctx.api, ctr, src)
    if dst == "-":
        out = sys.stdout.buffer
        for c in chunks:
            out.write(c)
        out.flush()
        return 0
    top = "." if src.endswith("/.") else info.get("name", "")
    exists = os.path.exists(dst)
    if not exists and not os.path.isdir(os.path.dirname(os.path.abspath(dst.rstrip("/") or "/"))):
        raise cpcopy.CopyError(f"destination directory \"{os.path.dirname(dst)}\" must exist")
    into, new = cpcopy.plan(src, pathstat.is_dir(info.get("mode", 0)), dst, exists, os.path.isdir(dst),
                            rebase_name)
    _extract_local(chunks, into, top, new)
    return 0


class _Chunks:
    def __init__(self, it: Iterator[bytes]) -> None:
        self._it, self._buf = it, b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._it)
            except StopIteration:
                break
        out = self._buf if n < 0 else self._buf[:n]
        self._buf = b"" if n < 0 else self._buf[n:]
        return out


def _extract_local(chunks: Iterator[bytes], into: str, old: str, new: str) -> None:
    """Untar into ``into`` with names rebased; never through a symlink, never outside ``into``
    (a hostile container controls this tar); ownership is not restored (docker's NoLchown)."""
    import posixpath
    import stat
    import tarfile

    from dockyard.cli import cpcopy

    root = os.path.abspath(into)
    uid, gid = os.getuid(), os.getgid()
    dirs = []
    # stream mode only reads; typeshed's _Fileobj also demands write/seek/tell/close
    with tarfile.open(fileobj=_Chunks(chunks), mode="r|") as tf:  # type: ignore[call-overload]
        for m in tf:
            name = posixpath.normpath(cpcopy.rebase(m.name, old, new))
            if name.startswith("../") or name == ".." or name.startswith("/"):
                raise cpcopy.CopyError(f"invalid tar entry {m.name!r}: outside the destination")
            cur = root
            for comp in name.split("/")[:-1]:
                cur = os.path.join(cur, comp)
                if os.path.islink(cur):
                    raise cpcopy.CopyError(f"refusing to extract {m.name!r} through a symlink")
            if m.islnk():
                target = posixpath.normpath(cpcopy.rebase(m.linkname, old, new))
                if target.startswith("../") or target.startswith("/"):
                    raise cpcopy.CopyError(f"invalid hard link {m.name!r}")
                m.linkname = target
            path = os.path.join(root, name)
            if os.path.lexists(path):
                isdir = stat.S_ISDIR(os.lstat(path).st_mode)
                if isdir and not m.isdir():
                    raise cpcopy.CopyError(f"cannot overwrite directory \"{path}\" with non-directory")
                if not isdir and m.isdir():
                    raise cpcopy.CopyError(f"cannot overwrite non-directory \"{path}\" with directory")
                if not isdir:
                    os.unlink(path)
            m.name = name
            m.uid, m.gid, m.uname, m.gname = uid, gid, "", ""
            if m.isdir():
                dirs.append(m)
            tf.extract(m, root, set_attrs=not m.isdir(), numeric_owner=True, filter="fully_trusted")
    for m in reversed(dirs):  # modes and times of directories after their contents
        path = os.path.join(root, m.name)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, m.mode & 0o7777)
            os.utime(path, (m.mtime, m.mtime))


def _to_container(ctx: Any, src: str, ctr: str, dst: str, follow: bool, archive: bool) -> int:
    from dockyard.cli import cpcopy
    from dockyard.client import volumes
    from dockyard.errors import NotFound
    from dockyard.wire import pathstat

    dst = dst if dst.startswith("/") else "/" + dst
    try:
        st = volumes.stat_path(ctx.api, ctr, dst)
        exists = True
        if pathstat.is_symlink(st.get("mode", 0)) and st.get("linkTarget"):
            dst = st["linkTarget"]
            try:
                st = volumes.stat_path(ctx.api, ctr, dst)
            except NotFound:
                st, exists = {}, False
    except NotFound:
        st, exists = {}, False
    dst_is_dir = exists and pathstat.is_dir(st.get("mode", 0))
    if src == "-":
        if not dst_is_dir:
            raise cpcopy.CopyError(f"destination \"{ctr}:{dst}\" must be a directory")
        volumes.put_archive(ctx.api, ctr, dst, iter(lambda: sys.stdin.buffer.read(1 << 16), b""),
                            copy_uidgid=archive)
        return 0
    path, rebase_name = src, ""
    if follow and os.path.islink(src):
        rebase_name, path = os.path.basename(src.rstrip("/")), os.path.realpath(src)
    if not os.path.lexists(path):
        raise cpcopy.CopyError(f"lstat {os.path.abspath(path)}: no such file or directory")
    src_is_dir = os.path.isdir(path) and not os.path.islink(path)
    into, top = cpcopy.plan(src, src_is_dir, dst, exists, dst_is_dir, rebase_name)
    volumes.put_archive(ctx.api, ctr, into, _tar_local(path, top), copy_uidgid=archive)
    return 0


def _tar_local(path: str, top: str) -> Iterator[bytes]:
    """The local source as a tar named ``top``, ownership recorded as on disk."""
    import tarfile
    import tempfile

    spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
    with tarfile.open(fileobj=spool, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        tf.add(path, arcname=top, recursive=True)
    spool.seek(0)
    return iter(lambda: spool.read(1 << 16), b"")
