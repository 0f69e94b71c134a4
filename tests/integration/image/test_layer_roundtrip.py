"""Whiteouts and opaque directories survive apply -> diff -> apply (root: whiteouts are device nodes)."""

import io
import os
import tarfile

import pytest

from dockyard.image.diff import Change, Kind, changes, layer_chunks
from dockyard.image.layers import apply_layer
from tests.unit.image.layertars import E, dir_, layer
from tests.unit.image.treeutil import describe

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="whiteouts are device nodes: root only")


def test_whiteouts_and_opaque_dirs_round_trip(tmp_path):
    lower, upper, again = tmp_path / "lower", tmp_path / "upper", tmp_path / "again"
    for d in (lower, upper, again):
        d.mkdir()
    apply_layer(io.BytesIO(layer(dir_("d"), E("d/old", data=b"o"), dir_("e"), E("e/gone", data=b"g"),
                                 E("e/kept", data=b"k"))), lower)
    cap = b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"  # cap_net_bind_service
    apply_layer(io.BytesIO(layer(dir_("d"), E("d/.wh..wh..opq"), E("d/new", data=b"n"), dir_("e"), E("e/.wh.gone"),
                                 E("ping", data=b"p", mode=0o755,
                                   pax={"SCHILY.xattr.security.capability": cap.decode("utf-8", "surrogateescape")}))),
                upper)
    data = b"".join(layer_chunks(str(upper), [str(lower)]))
    names = [m.name for m in tarfile.open(fileobj=io.BytesIO(data))]
    assert names == ["d", "d/.wh..wh..opq", "d/new", "e", "e/.wh.gone", "ping"]
    apply_layer(io.BytesIO(data), again)
    assert describe(again) == describe(upper)
    assert os.getxattr(again / "ping", "security.capability") == cap
    assert changes(str(upper), [str(lower)]) == [
        Change("/d", Kind.MODIFIED), Change("/d/new", Kind.ADDED), Change("/e", Kind.MODIFIED),
        Change("/e/gone", Kind.DELETED), Change("/ping", Kind.ADDED)]
