"""core/pathwalk.walk over an in-memory view: the rules both COPY and rootfs reads rely on."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, strategies as st

from dockyard.core import pathwalk
from dockyard.core.pathwalk import MISSING, MAX_SYMLINKS, walk


def view(entries: dict[str, str | None]) -> pathwalk.Lookup:
    """``entries``: "a/b" -> link target, or None for a plain file or directory."""
    calls: list[str] = []

    def lookup(parts: Sequence[str]) -> str | None | pathwalk.Missing:
        key = "/".join(parts)
        calls.append(key)
        return entries[key] if key in entries else MISSING
    return lookup


FS = view({"etc": None, "etc/passwd": None, "bin": "usr/bin", "usr": None, "usr/bin": None, "usr/bin/sh": None,
           "abs": "/etc", "up": "../../../etc", "loop": "loop", "a": "b", "b": "c", "c": "/usr/bin/sh",
           "dir": None, "dir/rel": "../etc/passwd"})


def test_plain_and_dot_components() -> None:
    assert walk("/etc/passwd", FS) == ["etc", "passwd"]
    assert walk("./etc//./passwd/", FS) == ["etc", "passwd"]
    assert walk("", FS) == [] and walk("/", FS) == []


def test_links_resolve_inside_the_root() -> None:
    assert walk("bin/sh", FS) == ["usr", "bin", "sh"]          # relative target, from the link's directory
    assert walk("abs/passwd", FS) == ["etc", "passwd"]         # absolute target restarts at the root
    assert walk("up/passwd", FS) == ["etc", "passwd"]          # ".." in a target stops at the root
    assert walk("dir/rel", FS) == ["etc", "passwd"]
    assert walk("a", FS) == ["usr", "bin", "sh"]               # chains


def test_dotdot_never_climbs_above_the_root() -> None:
    assert walk("../../etc", FS) == ["etc"]
    assert walk("usr/../../../etc/passwd", FS) == ["etc", "passwd"]


def test_missing() -> None:
    assert walk("nope/x", FS) is None
    assert walk("etc/nope", FS) is None
    # keep_missing: the rest as written, its ".." dropped (nothing under a missing name resolves)
    assert walk("bin/new/../x", FS, keep_missing=True) == ["usr", "bin", "new", "x"]
    assert walk("abs/../nope/y", FS, keep_missing=True) == ["nope", "y"]


def test_link_limit() -> None:
    assert walk("loop", FS) is None
    assert walk("loop/x", FS, keep_missing=True, too_many="plain") == ["loop", "x"]  # past the limit: a plain name
    chain = {f"l{i}": f"l{i + 1}" for i in range(MAX_SYMLINKS)} | {f"l{MAX_SYMLINKS}": None}
    assert walk("l0", view(chain)) == [f"l{MAX_SYMLINKS}"]      # exactly MAX_SYMLINKS links: followed
    chain = {f"l{i}": f"l{i + 1}" for i in range(MAX_SYMLINKS + 1)} | {f"l{MAX_SYMLINKS + 1}": None}
    assert walk("l0", view(chain)) is None                       # one more: refused


def test_lookup_sees_only_symlink_free_paths() -> None:
    seen: list[tuple[str, ...]] = []

    def lookup(parts: Sequence[str]) -> str | None | pathwalk.Missing:
        seen.append(tuple(parts))
        return FS(parts)
    walk("bin/sh", lookup)
    assert seen == [("bin",), ("usr",), ("usr", "bin"), ("usr", "bin", "sh")]


names = st.sampled_from(["a", "b", "c", "..", ".", "x"])
paths = st.lists(names, max_size=6).map("/".join)


@given(links=st.dictionaries(st.sampled_from(["a", "b", "c", "a/b", "b/c"]),
                             st.none() | st.lists(names, max_size=4).map(lambda p: "/".join(p))
                             | st.lists(names, max_size=4).map(lambda p: "/" + "/".join(p))),
       path=paths, keep=st.booleans())
def test_result_is_confined_and_free_of_dots(links: dict[str, str | None], path: str, keep: bool) -> None:
    got = walk(path, view(links), keep_missing=keep, too_many="plain" if keep else "fail")
    if got is not None:
        assert all(c not in ("", ".", "..") and "/" not in c for c in got)
    if keep:
        assert got is not None


def test_copier_scoped_on_a_real_directory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """build/copier.scoped: the walk over a plain directory (missing names kept, loops refused)."""
    import os

    import pytest

    from dockyard.build.copier import scoped
    from dockyard.errors import InvalidArgument

    root = tmp_path / "ctx"
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "sh").write_text("")
    os.symlink("usr/bin", root / "bin")
    os.symlink("/usr", root / "abs")
    os.symlink("../../../../usr", root / "usr" / "up")
    os.symlink("loop", root / "loop")
    r = str(root)
    assert scoped(r, "bin/sh") == f"{r}/usr/bin/sh"
    assert scoped(r, "abs/bin/sh") == f"{r}/usr/bin/sh"
    assert scoped(r, "usr/up/bin") == f"{r}/usr/bin"
    assert scoped(r, "nope/../bin/sh") == f"{r}/usr/bin/sh"  # a missing name is a plain one: ".." applies
    assert scoped(r, "../..") == r
    with pytest.raises(InvalidArgument, match="too many levels of symbolic links: loop/x"):
        scoped(r, "loop/x")
    # inside the root, where the kernel agrees, the same answer as the kernel's walk
    assert scoped(r, "bin/sh") == os.path.realpath(root / "bin" / "sh")
