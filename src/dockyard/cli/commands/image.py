"""images, load."""

from __future__ import annotations

import os
import sys
import time

from . import Parser, UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO


def images(ctx: Any, argv: list[str]) -> int:
    p = Parser("images", "List images")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("repository", nargs="?")
    args = p.parse_args(argv)
    filters = None
    if args.repository:
        from dockyard.wire.filters import encode

        filters = encode({"reference": [args.repository]})
    found = ctx.api.images(all=args.all, filters=filters)
    if args.quiet:
        from dockyard.cli.render import short_id

        seen: list[str] = []
        for img in found:
            iid = img["Id"] if args.no_trunc else short_id(img["Id"])
            if iid not in seen:
                seen.append(iid)
        sys.stdout.write("".join(i + "\n" for i in seen))
        return 0
    from dockyard.cli.render import images_table

    sys.stdout.write(images_table(found, time.time(), trunc=not args.no_trunc))
    return 0


def _tar_of_dir(path: str) -> BinaryIO:
    """Stream a directory as the tar the API takes (``load -i`` of an OCI layout dir).

    The daemon validates every entry as it does for any archive; symlinks are
    sent as symlinks, never followed here.
    """
    import tarfile
    import threading

    r, w = os.pipe()

    def produce() -> None:
        with os.fdopen(w, "wb") as out, tarfile.open(fileobj=out, mode="w|") as tar:
            for name in sorted(os.listdir(path)):
                tar.add(os.path.join(path, name), arcname=name)

    threading.Thread(target=produce, name="load-dir", daemon=True).start()
    return os.fdopen(r, "rb")


def load(ctx: Any, argv: list[str]) -> int:
    p = Parser("load", "Load an image from a tar archive or STDIN")
    p.add_argument("-i", "--input", default=None)
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    from dockyard.errors import EngineError
    from dockyard.wire.jsonmessage import error_of

    if args.input and os.path.isdir(args.input):
        source = _tar_of_dir(args.input)  # an OCI image layout directory
    elif args.input:
        try:
            source = open(args.input, "rb")
        except OSError as exc:
            raise UsageError(f"dockyard: open {args.input}: {(exc.strerror or str(exc)).lower()}") from None
    else:
        if sys.stdin.isatty():
            raise EngineError("requested load from stdin, but stdin is empty")
        source = sys.stdin.buffer
    with source:
        for msg in ctx.api.load(source, quiet=args.quiet):
            err = error_of(msg)
            if err:
                sys.stderr.write(err + "\n")
                return 1
            if "stream" in msg:
                sys.stdout.write(msg["stream"])
            elif msg.get("status") and not args.quiet:
                sys.stdout.write(msg["status"] + "\n")
    return 0
