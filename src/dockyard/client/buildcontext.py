"""A build context as the docker CLI sends it: tar chunks honouring .dockerignore, the Dockerfile placed in it.

Shared by ``dockyard build`` and ``dockyard compose build`` (docker-py keeps the same job in its
client library, ``utils/build.py``). Reads files, so not sans-I/O; stdlib only, imported lazily.
"""

from __future__ import annotations

import os

from dockyard.errors import InvalidArgument

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

DOCKERIGNORE = ".dockerignore"


class ContextError(InvalidArgument):
    """The context (or the Dockerfile) cannot be read."""


class _Sink:
    """A write-only file that hands what tarfile wrote to a generator."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        return out


def random_dockerfile_name() -> str:
    import secrets

    return f".dockerfile.{secrets.token_hex(10)}"


def ignore_patterns(context: str, dockerfile: str) -> list[str]:
    """``<Dockerfile>.dockerignore`` next to the Dockerfile wins over the context's ``.dockerignore``."""
    from dockyard.wire.dockerignore import read_patterns

    for path in ([dockerfile + DOCKERIGNORE] if dockerfile and dockerfile != "-" else []) + \
            [os.path.join(context, DOCKERIGNORE)]:
        try:
            with open(path, encoding="utf-8") as f:
                return read_patterns(f.read())
        except OSError:
            continue
    return []


def place_dockerfile(context: str, dockerfile: str) -> tuple[str, tuple[tuple[str, bytes], ...]]:
    """The Dockerfile's name in the context and the entries to add for it.

    Inside the context it is sent where it is. Outside, it is sent under a random name
    (as the docker CLI does), and that name joins the sent ``.dockerignore`` so the daemon
    leaves it out of ``COPY . .``.
    """
    ctx_abs = os.path.realpath(context)
    df_abs = os.path.realpath(dockerfile)
    if os.path.commonpath([ctx_abs, df_abs]) == ctx_abs:
        return os.path.relpath(df_abs, ctx_abs), ()
    name = random_dockerfile_name()
    try:
        with open(dockerfile, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ContextError(f"unable to prepare context: {exc.strerror or exc}") from None
    return name, ((name, data),) + ignoring(context, name)


def ignoring(context: str, name: str) -> tuple[tuple[str, bytes], ...]:
    """A ``.dockerignore`` entry: the context's own one plus ``name`` (or just ``name`` and itself)."""
    try:
        with open(os.path.join(context, DOCKERIGNORE), "rb") as f:
            ignore = f.read()
    except OSError:
        ignore = DOCKERIGNORE.encode()
    return ((DOCKERIGNORE, ignore + b"\n" + name.encode() + b"\n"),)


def context_tar(context: str, patterns: list[str], keep: tuple[str, ...] = (),
                extra: tuple[tuple[str, bytes], ...] = ()) -> Iterator[bytes]:
    """The context as tar chunks: sorted, owner 0:0, excluded paths left out (``keep`` always sent)."""
    import io
    import tarfile

    from dockyard.wire.dockerignore import Matcher

    matcher = Matcher(patterns)
    replaced = {name for name, _ in extra}  # sent from memory instead of from the directory
    sink = _Sink()
    tf = tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT)  # type: ignore[call-overload]

    def walk(rel: str) -> Iterator[bytes]:
        try:
            names = sorted(os.listdir(os.path.join(context, rel) if rel else context))
        except OSError as exc:
            raise ContextError(f"error checking context: {exc.strerror or exc}") from None
        for name in names:
            path = f"{rel}/{name}" if rel else name
            full = os.path.join(context, path)
            is_dir = os.path.isdir(full) and not os.path.islink(full)
            if path in replaced:
                continue
            if path not in keep and matcher.matches(path):
                if is_dir and not matcher.may_skip_dir(path):
                    yield from walk(path)  # a "!" pattern may re-include something below
                continue
            ti = tf.gettarinfo(full, arcname=path)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            if ti.isreg():
                with open(full, "rb") as f:
                    tf.addfile(ti, f)
            else:
                tf.addfile(ti)
            chunk = sink.take()
            if chunk:
                yield chunk
            if is_dir:
                yield from walk(path)

    yield from walk("")
    for name, data in extra:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0o644
        tf.addfile(ti, io.BytesIO(data))
    tf.close()
    yield sink.take()
