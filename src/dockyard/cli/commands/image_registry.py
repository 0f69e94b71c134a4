"""pull, push, tag, rmi, ``image prune`` (and the ``image`` command group)."""

from __future__ import annotations

import os
import sys

from . import Parser, UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _render(messages: Any, quiet: bool, out: Any = None) -> list[dict[str, Any]]:
    from dockyard.cli.progress import display

    stream = out or sys.stdout

    if quiet:
        out = open(os.devnull, "w")
        try:
            return display(messages, out, tty=False)
        finally:
            out.close()
    import shutil  # lazily: only progress rendering needs it

    return display(messages, stream, tty=stream.isatty(), width=shutil.get_terminal_size((80, 24)).columns)


def pull_image(ctx: Any, image: str, *, platform: str = "", quiet: bool = False, out: Any = None) -> str:
    """Pull with progress (used by ``pull`` and by ``run --pull``); the normalised name."""
    from dockyard.cli.commands.registry_auth import auth_header
    from dockyard.core.reference import parse

    ref = parse(image)
    name, tag = (ref.name, ref.digest) if ref.digest else (ref.name, ref.tag)
    _render(ctx.api.pull(name, tag=tag, platform=platform, auth=auth_header(image)), quiet, out)
    return str(ref) if not ref.digest else f"{ref.name}@{ref.digest}"


def pull(ctx: Any, argv: list[str]) -> int:
    p = Parser("pull", "Download an image from a registry")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-a", "--all-tags", action="store_true")
    p.add_argument("--platform", default=os.environ.get("DOCKER_DEFAULT_PLATFORM", ""))
    p.add_argument("--disable-content-trust", action="store_true")
    p.add_argument("image")
    args = p.parse_args(argv)
    from dockyard.cli.progress import StreamError
    from dockyard.core.reference import parse

    if args.all_tags:
        return _pull_all_tags(ctx, args.image, args.platform, args.quiet)
    if not args.quiet and ":" not in args.image.rsplit("/", 1)[-1] and "@" not in args.image:
        print("Using default tag: latest")
    parse(args.image)  # Docker's reference errors before anything is sent
    try:
        name = pull_image(ctx, args.image, platform=args.platform, quiet=args.quiet)
    except StreamError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    print(name)
    return 0


def _pull_all_tags(ctx: Any, image: str, platform: str, quiet: bool) -> int:
    from dockyard.cli.commands.registry_auth import auth_header
    from dockyard.cli.progress import StreamError
    from dockyard.core.reference import parse

    ref = parse(image, default_tag=False)
    if ref.tag or ref.digest:
        raise UsageError("dockyard: tag can't be used with --all-tags/-a")
    try:
        _render(ctx.api.pull(ref.name, platform=platform, auth=auth_header(image), all_tags=True), quiet)
    except StreamError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    print(ref.name)
    return 0


def push(ctx: Any, argv: list[str]) -> int:
    p = Parser("push", "Upload an image to a registry")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-a", "--all-tags", action="store_true")
    p.add_argument("--disable-content-trust", action="store_true")
    p.add_argument("image")
    args = p.parse_args(argv)
    from dockyard.cli.commands.registry_auth import auth_header
    from dockyard.cli.progress import StreamError
    from dockyard.core.reference import parse

    ref = parse(args.image, default_tag=False)
    if ref.digest:
        raise UsageError("dockyard: cannot push a digest reference")
    tag = ref.tag or ("" if args.all_tags else "latest")
    if not args.all_tags and not ref.tag and not args.quiet:
        print("Using default tag: latest")
    try:
        _render(ctx.api.push(ref.name, tag=tag, auth=auth_header(args.image)), args.quiet)
    except StreamError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if args.quiet:
        print(str(ref) if ref.tag else f"{ref.name}:{tag or 'latest'}")
    return 0


def tag(ctx: Any, argv: list[str]) -> int:
    p = Parser("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    p.add_argument("source")
    p.add_argument("target")
    args = p.parse_args(argv)
    from dockyard.core.reference import parse

    target = parse(args.target)
    if target.digest:
        raise UsageError("dockyard: refusing to create a tag with a digest reference")
    ctx.api.tag_image(args.source, target.name, target.tag)
    return 0


def rmi(ctx: Any, argv: list[str]) -> int:
    p = Parser("rmi", "Remove one or more images")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--no-prune", action="store_true")
    p.add_argument("images", nargs="+")
    args = p.parse_args(argv)
    from dockyard.cli.main import error_text
    from dockyard.errors import EngineError

    rc = 0
    for name in args.images:
        try:
            for item in ctx.api.remove_image(name, force=args.force, noprune=args.no_prune):
                for action, what in item.items():
                    print(f"{action}: {what}")
        except EngineError as exc:
            sys.stderr.write(error_text(exc) + "\n")
            rc = 1
    return rc


def prune(ctx: Any, argv: list[str]) -> int:
    p = Parser("image prune", "Remove unused images")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--filter", action="append", default=[])
    args = p.parse_args(argv)
    if not args.force:
        warning = ("WARNING! This will remove all images without at least one container associated to them."
                   if args.all else "WARNING! This will remove all dangling images.")
        sys.stdout.write(warning + "\nAre you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    import json

    filters: dict[str, dict[str, bool]] = {}
    for f in args.filter:
        k, sep, v = f.partition("=")
        if not sep:
            raise UsageError(f"dockyard: bad format of filter (expected name=value)")
        filters.setdefault(k, {})[v] = True
    if args.all:
        filters["dangling"] = {"false": True}
    report = ctx.api.prune_images(json.dumps(filters) if filters else None)
    deleted = report.get("ImagesDeleted") or []
    if deleted:
        print("Deleted Images:")
        for item in deleted:
            for action, what in item.items():
                print(f"{action.lower()}: {what}")
        print()
    from dockyard.wire.humanize import human_size

    print(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0)}")
    return 0


_IMAGE_SUBCOMMANDS = {
    "pull": ("image_registry", "pull"), "push": ("image_registry", "push"), "tag": ("image_registry", "tag"),
    "rm": ("image_registry", "rmi"), "rmi": ("image_registry", "rmi"), "remove": ("image_registry", "rmi"),
    "prune": ("image_registry", "prune"), "ls": ("image", "images"), "list": ("image", "images"),
    "load": ("image", "load"), "inspect": ("container", "inspect"),
}

IMAGE_USAGE = """\
Usage:  dockyard image COMMAND

Manage images

Commands:
  ls        List images
  pull      Download an image from a registry
  push      Upload an image to a registry
  rm        Remove one or more images
  tag       Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  prune     Remove unused images
  load      Load an image from a tar archive or STDIN
  inspect   Display detailed information on one or more images
"""


def image(ctx: Any, argv: list[str]) -> int:
    """``dockyard image SUBCOMMAND``; subcommands other modules provide are found by name in ``image``."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(IMAGE_USAGE)
        return 0
    import importlib

    sub, rest = argv[0], argv[1:]
    module_name, func = _IMAGE_SUBCOMMANDS.get(sub, ("image", sub))
    module = importlib.import_module(f"dockyard.cli.commands.{module_name}")
    fn = getattr(module, func, None)
    if fn is None or sub.startswith("_"):
        raise UsageError(f"dockyard: unknown command: dockyard image {sub}")
    if sub == "inspect":
        rest = ["--type", "image", *rest]
    return int(fn(ctx, rest) or 0)
