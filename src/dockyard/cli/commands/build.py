"""build, builder prune: pack the context (honouring .dockerignore), stream it, render the daemon's messages."""

from __future__ import annotations

import os
import sys

from . import Parser, UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

_CHUNK = 1 << 16


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


def ignore_patterns(context: str, dockerfile: str) -> list[str]:
    """``<Dockerfile>.dockerignore`` next to the Dockerfile wins over the context's ``.dockerignore``."""
    from dockyard.wire.dockerignore import read_patterns

    for path in ([dockerfile + ".dockerignore"] if dockerfile and dockerfile != "-" else []) + \
            [os.path.join(context, ".dockerignore")]:
        try:
            with open(path, encoding="utf-8") as f:
                return read_patterns(f.read())
        except OSError:
            continue
    return []


def context_tar(context: str, patterns: list[str], keep: tuple[str, ...] = (),
                extra: tuple[tuple[str, bytes], ...] = ()) -> Iterator[bytes]:
    """The context as tar chunks: sorted, owner 0:0, excluded paths left out (``keep`` always sent)."""
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
            raise UsageError(f"dockyard: error checking context: {exc.strerror or exc}") from None
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
        import io

        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0o644
        tf.addfile(ti, io.BytesIO(data))
    tf.close()
    yield sink.take()


def build(ctx: Any, argv: list[str]) -> int:
    p = Parser("build", "Build an image from a Dockerfile")
    p.add_argument("-t", "--tag", action="append", default=[])
    p.add_argument("-f", "--file", default="")
    p.add_argument("--build-arg", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--target", default="")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--pull", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--network", default="")
    p.add_argument("--platform", default="")
    p.add_argument("--cache-from", action="append", default=[])
    p.add_argument("--secret", action="append", default=[])
    p.add_argument("--iidfile", default="")
    p.add_argument("--progress", default="auto")
    p.add_argument("--rm", default="true")
    p.add_argument("--force-rm", action="store_true")
    p.add_argument("context", nargs="?")
    args = p.parse_args(argv)
    if not args.context:
        raise UsageError('dockyard: "build" requires exactly 1 argument.')
    if args.progress not in ("auto", "plain", "tty", "quiet"):
        raise UsageError(f'dockyard: invalid progress mode "{args.progress}": want auto, plain, tty or quiet')
    if args.progress == "quiet":
        args.quiet = True
    import json
    import secrets

    build_args: dict[str, str | None] = {}
    for a in args.build_arg:
        k, sep, v = a.partition("=")
        build_args[k] = v if sep else os.environ.get(k)
    labels = {}
    for a in args.label:
        k, _, v = a.partition("=")
        labels[k] = v
    query: dict[str, object] = {"t": args.tag or None, "buildargs": json.dumps(build_args),
                                "labels": json.dumps(labels), "target": args.target or None,
                                "nocache": args.no_cache, "pull": args.pull, "q": args.quiet, "rm": True,
                                "forcerm": args.force_rm, "networkmode": args.network or None,
                                "platform": args.platform or None,
                                "cachefrom": json.dumps(args.cache_from) if args.cache_from else None}
    if args.context == "-":
        if args.file:
            raise UsageError("dockyard: cannot use -f with a context from STDIN")
        body: Any = iter(lambda: sys.stdin.buffer.read(_CHUNK), b"")
    else:
        if not os.path.isdir(args.context):
            raise UsageError(f"dockyard: unable to prepare context: path \"{args.context}\" not found")
        extra: tuple[tuple[str, bytes], ...] = ()
        dockerfile = args.file or os.path.join(args.context, "Dockerfile")
        if args.file == "-":
            name = f".dockerfile.{secrets.token_hex(10)}"
            extra = ((name, sys.stdin.buffer.read()),)
        else:
            if not os.path.lexists(dockerfile):  # the docker CLI checks before sending anything
                raise UsageError("dockyard: unable to prepare context: unable to evaluate symlinks in Dockerfile "
                                 f"path: lstat {os.path.abspath(dockerfile)}: no such file or directory")
            ctx_abs = os.path.realpath(args.context)
            df_abs = os.path.realpath(dockerfile)
            if os.path.commonpath([ctx_abs, df_abs]) == ctx_abs:
                name = os.path.relpath(df_abs, ctx_abs)
            else:  # outside the context: sent under a random name, as the docker CLI does
                name = f".dockerfile.{secrets.token_hex(10)}"
                try:
                    with open(dockerfile, "rb") as f:
                        extra = ((name, f.read()),)
                except OSError as exc:
                    raise UsageError(f"dockyard: unable to prepare context: {exc.strerror or exc}") from None
        query["dockerfile"] = name
        if extra:  # as the docker CLI: the random name joins .dockerignore, so the daemon drops it from the context
            try:
                with open(os.path.join(args.context, ".dockerignore"), "rb") as f:
                    ignore = f.read()
            except OSError:
                ignore = b".dockerignore"
            extra += ((".dockerignore", ignore + b"\n" + name.encode() + b"\n"),)
        patterns = ignore_patterns(args.context, args.file or dockerfile)
        body = context_tar(args.context, patterns, keep=(name, ".dockerignore"), extra=extra)
    if args.iidfile:  # as the docker CLI: no stale id is left behind by a failed build
        try:
            os.remove(args.iidfile)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise UsageError(f"dockyard: removing image ID file: {exc.strerror or exc}") from None
    headers = {}
    if args.secret:
        from dockyard.wire import buildsecrets

        try:
            headers[buildsecrets.HEADER] = buildsecrets.encode(buildsecrets.load(args.secret, dict(os.environ)))
        except buildsecrets.SecretSpecError as exc:
            raise UsageError(f"dockyard: {exc}") from None
    tty = None
    if not args.quiet and (args.progress == "tty" or (args.progress == "auto" and sys.stdout.isatty())):
        from dockyard.cli.buildprogress import TtyProgress, TtyWriter

        try:
            width = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):
            width = 80
        tty = TtyWriter(sys.stdout, TtyProgress(width=width)).start()
    try:
        return _stream(ctx, args, body, query, headers, tty)
    finally:
        if tty is not None:
            tty.stop()


def _stream(ctx: Any, args: Any, body: Any, query: dict[str, object], headers: dict[str, str], tty: Any) -> int:
    """Send the build; render its messages (plain text, or the tty frames); write the id where asked."""
    from dockyard.wire.jsonmessage import error_of

    image_id = ""
    for msg in ctx.api.build(body, query, headers):
        err = error_of(msg)
        if err:
            if tty is not None:
                tty.finish(failed=True)
            sys.stdout.flush()
            sys.stderr.write(err + "\n")
            return 1
        aux = msg.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            image_id = str(aux["ID"])
            continue
        if "stream" in msg and not args.quiet:
            if tty is not None:
                tty.feed(str(msg["stream"]))
                continue
            sys.stdout.write(str(msg["stream"]))
            sys.stdout.flush()
    if tty is not None:
        tty.finish(failed=False)
    if args.quiet and image_id:
        sys.stdout.write(image_id + "\n")
    if args.iidfile and image_id:
        with open(args.iidfile, "w") as f:
            f.write(image_id)
    return 0


def builder(ctx: Any, argv: list[str]) -> int:
    if not argv or argv[0] != "prune":
        raise UsageError("dockyard: usage: dockyard builder prune [-f]")
    p = Parser("builder prune", "Remove build cache")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("-a", "--all", action="store_true")
    p.parse_args(argv[1:])
    from dockyard.wire.humanize import human_size

    out = ctx.api.prune_build_cache()
    for key in out.get("CachesDeleted") or []:
        sys.stdout.write(f"Deleted build cache object {key}\n")
    sys.stdout.write(f"Total reclaimed space: {human_size(out.get('SpaceReclaimed') or 0)}\n")
    return 0
