import pytest

from dockyard.registry.server import uploads
from dockyard.registry.server.codes import RegistryError


def test_patch_moves_offset_and_range_header():
    s = uploads.start("u", "x", 0.0)
    assert s.range_header == "0-0"
    assert uploads.check_patch(s, "0-9", 10) == 10
    s = uploads.received(s, 10, 1.0)
    assert (s.offset, s.range_header, s.touched_at) == (10, "0-9", 1.0)
    assert uploads.check_patch(s, "10-19", None) == 10
    assert uploads.check_patch(s, None, None) is None  # streamed


@pytest.mark.parametrize("crange,length,status", [
    ("5-9", None, 416),     # not at the offset
    ("0-4", None, 416),     # rewinds
    ("x", None, 416),
    ("10-19", 3, 400),      # length disagrees
    ("12-10", None, 416),
])
def test_patch_refused(crange, length, status):
    s = uploads.received(uploads.start("u", "x", 0.0), 10, 0.0)
    with pytest.raises(RegistryError) as info:
        uploads.check_patch(s, crange, length)
    assert info.value.status == status


def test_closed_session_refuses_everything():
    s = uploads.finish(uploads.start("u", "x", 0.0), 1.0)
    for step in (lambda: uploads.check_patch(s, None, 1), lambda: uploads.check_put(s, "d"),
                 lambda: uploads.cancel(s, 2.0)):
        with pytest.raises(RegistryError) as info:
            step()
        assert info.value.code.name == "BLOB_UPLOAD_UNKNOWN"


def test_put_needs_digest_and_expiry():
    s = uploads.start("u", "x", 100.0)
    with pytest.raises(RegistryError):
        uploads.check_put(s, "")
    assert not s.is_expired(150.0, 60)
    assert s.is_expired(161.0, 60)


@pytest.mark.parametrize("header,expect", [
    (None, None), ("bytes=0-9", (0, 9)), ("bytes=5-", (5, 99)), ("bytes=-10", (90, 99)),
    ("bytes=90-500", (90, 99)), ("items=0-1", None), ("bytes=0-1,5-6", None),
])
def test_parse_range(header, expect):
    assert uploads.parse_range(header, 100) == expect


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=5-4", "bytes=-0"])
def test_parse_range_unsatisfiable(header):
    with pytest.raises(RegistryError) as info:
        uploads.parse_range(header, 100)
    assert info.value.status == 416
