"""Symlink resolution confined to a root, over any file system view (pure: the view is a callback).

One walk for every "resolve this path as the container would, without leaving its
root" in the project: the builder's COPY sources (a plain directory,
``build/copier.py``) and an image's merged overlay layers (``image/rootfs.py``).
Absolute link targets restart at the root, ``..`` never climbs above it, and at
most ``MAX_SYMLINKS`` links are followed (as the kernel's path walk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Literal

MAX_SYMLINKS: Final = 40


class Missing:
    """The type of MISSING (a lookup's "no such name")."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing()

# parts (symlink-free, relative to the root) -> its link target, None (there, not a link) or MISSING
Lookup = Callable[[Sequence[str]], "str | None | Missing"]


def _split(path: str) -> list[str]:
    return [c for c in path.split("/") if c not in ("", ".")]


def walk(path: str, lookup: Lookup, *, keep_missing: bool = False,
         too_many: Literal["fail", "plain"] = "fail") -> list[str] | None:
    """Components of ``path`` with its symlinks resolved inside the root ``lookup`` sees.

    A MISSING component ends the walk: None, or with ``keep_missing`` the rest of
    the path kept as written (its ``..`` dropped: nothing below a missing name can
    be resolved).  A link past ``MAX_SYMLINKS``: None (``too_many="fail"``), or the
    link counted as a plain name (``"plain"``).
    """
    todo = _split(path)
    done: list[str] = []
    hops = 0
    while todo:
        comp = todo.pop(0)
        if comp == "..":
            if done:
                done.pop()
            continue
        target = lookup(done + [comp])
        if isinstance(target, Missing):
            return done + [comp] + [c for c in todo if c != ".."] if keep_missing else None
        if target is not None:
            if hops < MAX_SYMLINKS:
                hops += 1
                if target.startswith("/"):
                    done = []
                todo = _split(target) + todo
                continue
            if too_many == "fail":
                return None
        done.append(comp)
    return done
