"""Subordinate id ranges -> OCI id maps (pure)."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.userns import IdMap, id_maps, map_text, parse_subid, ranges_for, to_host

SUBUID = """\
# comment
dockremap:165536:65536
other:231072:65536
bad line
dockremap:300000:1000
1001:400000:10
zero:500000:0
"""


def test_parse_and_select_ranges():
    entries = parse_subid(SUBUID)
    assert ranges_for(entries, "dockremap") == [(165536, 65536), (300000, 1000)]
    assert ranges_for(entries, "alice", uid=1001) == [(400000, 10)]
    assert ranges_for(entries, "zero") == []


def test_maps_are_concatenated_from_zero():
    maps = id_maps([(165536, 65536), (300000, 1000)])
    assert maps == (IdMap(0, 165536, 65536), IdMap(65536, 300000, 1000))
    assert map_text(maps) == "0 165536 65536\n65536 300000 1000\n"
    assert to_host(maps, 0) == 165536 and to_host(maps, 65537) == 300001
    with pytest.raises(InvalidArgument):
        to_host(maps, 70000)


def test_no_range_is_an_error():
    with pytest.raises(InvalidArgument, match="subordinate uid"):
        id_maps([])
