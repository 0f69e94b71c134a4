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


def ignore_patterns(context: str, dockerfile: str) -> list[str]:
    from dockyard.client.buildcontext import ignore_patterns as patterns

    return patterns(context, dockerfile)


def context_tar(context: str, patterns: list[str], keep: tuple[str, ...] = (),
                extra: tuple[tuple[str, bytes], ...] = ()) -> Iterator[bytes]:
    """``client/buildcontext.py``'s tar, its errors as the CLI's usage errors."""
    from dockyard.client.buildcontext import ContextError, context_tar as tar

    try:
        yield from tar(context, patterns, keep=keep, extra=extra)
    except ContextError as exc:
        raise UsageError(f"dockyard: {exc}") from None


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
        if args.file == "-":
            from dockyard.errors import InvalidArgument

            raise InvalidArgument("invalid argument: can't use stdin for both build context and dockerfile")  # exit 1
        if args.file:  # the Dockerfile's path inside the tar (a bare Dockerfile on stdin is taken as it is)
            query["dockerfile"] = args.file
        body: Any = iter(lambda: sys.stdin.buffer.read(_CHUNK), b"")
    else:
        if not os.path.isdir(args.context):
            raise UsageError(f"dockyard: unable to prepare context: path \"{args.context}\" not found")
        from dockyard.client.buildcontext import ContextError, ignoring, place_dockerfile, random_dockerfile_name

        extra: tuple[tuple[str, bytes], ...] = ()
        dockerfile = args.file or os.path.join(args.context, "Dockerfile")
        if args.file == "-":
            name = random_dockerfile_name()
            extra = ((name, sys.stdin.buffer.read()),) + ignoring(args.context, name)
        else:
            if not os.path.lexists(dockerfile):  # the docker CLI checks before sending anything
                raise UsageError("dockyard: unable to prepare context: unable to evaluate symlinks in Dockerfile "
                                 f"path: lstat {os.path.abspath(dockerfile)}: no such file or directory")
            try:  # outside the context: a random name, and that name joins the sent .dockerignore
                name, extra = place_dockerfile(args.context, dockerfile)
            except ContextError as exc:
                raise UsageError(f"dockyard: {exc}") from None
        query["dockerfile"] = name
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
