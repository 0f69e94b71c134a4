"""Detach keys: Docker's syntax and the escape proxy, fed byte by byte and in chunks."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.wire.detachkeys import DEFAULT, EscapeProxy, parse


def test_parse() -> None:
    assert parse(DEFAULT) == b"\x10\x11"
    assert parse("ctrl-a,x,ctrl-@,ctrl-[") == b"\x01x\x00\x1b"
    for bad in ("", "ctrl-", "ctrl-1", "abc", "ctrl-p,,ctrl-q"):
        with pytest.raises(InvalidArgument, match="Invalid escape keys"):
            parse(bad)


def test_proxy_forwards_until_the_whole_sequence() -> None:
    p = EscapeProxy(b"\x10\x11")
    assert p.feed(b"ls\n") == b"ls\n" and not p.detached
    assert p.feed(b"a\x10") == b"a"  # held back
    assert p.feed(b"b") == b"\x10b"  # a broken match is released
    assert p.feed(b"\x10\x10") == b"\x10"  # the second may start a match
    assert p.feed(b"\x11tail") == b"" and p.detached
    assert p.feed(b"more") == b""


def test_proxy_in_one_chunk() -> None:
    p = EscapeProxy(b"\x10\x11")
    assert p.feed(b"echo\x10\x11ignored") == b"echo" and p.detached
