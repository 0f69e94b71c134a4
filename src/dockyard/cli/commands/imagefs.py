"""save, import, export, commit, diff, history: images and container filesystems as files."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable

from . import Parser, UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_TERMINAL = "cowardly refusing to save to a terminal. Use the -o flag or redirect"
_KINDS = {0: "C", 1: "A", 2: "D"}


def _write_out(chunks: Iterable[bytes], output: str | None) -> None:
    """To ``output`` (removed again if anything fails) or to stdout (never a terminal)."""
    from dockyard.errors import EngineError

    if not output:
        if sys.stdout.isatty():
            raise EngineError(_TERMINAL)
        out = sys.stdout.buffer
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        return
    try:
        f = open(output, "wb")
    except OSError as exc:
        raise UsageError(f"dockyard: open {output}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        with f:
            for chunk in chunks:
                f.write(chunk)
    except BaseException:
        os.unlink(output)
        raise


def save(ctx: Any, argv: list[str]) -> int:
    p = Parser("save", "Save one or more images to a tar archive (streamed to STDOUT by default)")
    p.add_argument("-o", "--output", default=None)
    p.add_argument("--format", choices=("docker", "oci"), default="",
                   help="docker (default: docker-archive + OCI layout in one) or oci (OCI layout only)")
    p.add_argument("images", nargs="*")
    args = p.parse_args(argv)
    if not args.images:
        raise UsageError('dockyard: "save" requires at least 1 argument.')
    if not args.output and sys.stdout.isatty():
        from dockyard.errors import EngineError

        raise EngineError(_TERMINAL)
    _write_out(ctx.api.save(args.images, fmt=args.format), args.output)
    return 0


def export(ctx: Any, argv: list[str]) -> int:
    p = Parser("export", "Export a container's filesystem as a tar archive")
    p.add_argument("-o", "--output", default=None)
    p.add_argument("container", nargs="?")
    args = p.parse_args(argv)
    if not args.container:
        raise UsageError('dockyard: "export" requires exactly 1 argument.')
    if not args.output and sys.stdout.isatty():
        from dockyard.errors import EngineError

        raise EngineError(_TERMINAL)
    _write_out(ctx.api.export(args.container), args.output)
    return 0


def import_(ctx: Any, argv: list[str]) -> int:
    p = Parser("import", "Import the contents from a tarball to create a filesystem image")
    p.add_argument("-c", "--change", action="append", default=[])
    p.add_argument("-m", "--message", default="")
    p.add_argument("--platform", default="")
    p.add_argument("source", nargs="?")
    p.add_argument("reference", nargs="?")
    args = p.parse_args(argv)
    if not args.source:
        raise UsageError('dockyard: "import" requires at least 1 argument.')
    repo, tag = _repo_tag(args.reference)
    kw = dict(repo=repo, tag=tag, message=args.message, changes=args.change, platform=args.platform)
    from dockyard.wire.jsonmessage import error_of

    if args.source.startswith(("http://", "https://")):
        messages = ctx.api.import_image(None, src=args.source, **kw)
        source = None
    elif args.source == "-":
        source = sys.stdin.buffer
        messages = ctx.api.import_image(source, **kw)
    else:
        try:
            source = open(args.source, "rb")
        except OSError as exc:
            raise UsageError(f"dockyard: open {args.source}: {(exc.strerror or str(exc)).lower()}") from None
        messages = ctx.api.import_image(source, **kw)
    try:
        for msg in messages:
            err = error_of(msg)
            if err:
                sys.stderr.write(err + "\n")
                return 1
            if msg.get("status"):
                sys.stdout.write(msg["status"] + "\n")
    finally:
        if source is not None and source is not sys.stdin.buffer:
            source.close()
    return 0


def commit(ctx: Any, argv: list[str]) -> int:
    p = Parser("commit", "Create a new image from a container's changes")
    p.add_argument("-a", "--author", default="")
    p.add_argument("-c", "--change", action="append", default=[])
    p.add_argument("-m", "--message", default="")
    p.add_argument("-p", "--pause", nargs="?", const="true", default="true")
    p.add_argument("container", nargs="?")
    p.add_argument("reference", nargs="?")
    args = p.parse_args(argv)
    if not args.container:
        raise UsageError('dockyard: "commit" requires at least 1 and at most 2 arguments.')
    pause = args.pause.lower() not in ("false", "0", "no")
    repo, tag = _repo_tag(args.reference)
    out = ctx.api.commit(args.container, repo=repo, tag=tag, author=args.author, comment=args.message,
                         changes=args.change, pause=pause)
    sys.stdout.write(out["Id"] + "\n")
    return 0


def diff(ctx: Any, argv: list[str]) -> int:
    p = Parser("diff", "Inspect changes to files or directories on a container's filesystem")
    p.add_argument("container", nargs="?")
    args = p.parse_args(argv)
    if not args.container:
        raise UsageError('dockyard: "diff" requires exactly 1 argument.')
    for c in ctx.api.changes(args.container):
        sys.stdout.write(f"{_KINDS.get(c['Kind'], '?')} {c['Path']}\n")
    return 0


def history(ctx: Any, argv: list[str]) -> int:
    p = Parser("history", "Show the history of an image")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-H", "--human", nargs="?", const="true", default="true")
    p.add_argument("image", nargs="?")
    args = p.parse_args(argv)
    if not args.image:
        raise UsageError('dockyard: "history" requires exactly 1 argument.')
    from dockyard.cli.render import created_ago, ellipsis, short_id, table
    from dockyard.wire.humanize import human_size

    entries = ctx.api.history(args.image)
    trunc = not args.no_trunc
    ids = [e["Id"] if not trunc or e["Id"] == "<missing>" else short_id(e["Id"]) for e in entries]
    if args.quiet:
        sys.stdout.write("".join(i + "\n" for i in ids))
        return 0
    human = args.human.lower() not in ("false", "0", "no")
    now = time.time()
    rows = []
    for iid, e in zip(ids, entries):
        by = e["CreatedBy"].replace("\t", " ")
        when = created_ago(e["Created"], now) if human else time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(e["Created"]))
        size = human_size(e["Size"]) if human else str(e["Size"])
        rows.append([iid, when, ellipsis(by, 45) if trunc else by, size, e["Comment"]])
    sys.stdout.write(table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows))
    return 0


def _repo_tag(ref: str | None) -> tuple[str, str]:
    if not ref:
        return "", ""
    from dockyard.cli.render import split_repo_tag

    repo, tag = split_repo_tag(ref)
    return repo, "" if tag in ("", "<none>") else tag
