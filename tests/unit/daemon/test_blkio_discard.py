"""Create stores what the kernel cannot apply emptied, as moby's verifyPlatformContainerResources."""

from __future__ import annotations

from dockyard.daemon import blkio

DEV = [{"Path": "/dev/null", "Weight": 300}]
BPS = [{"Path": "/dev/null", "Rate": 1 << 20}]


def test_unsupported_lists_become_empty_and_weight_zero() -> None:
    host = {"BlkioWeightDevice": DEV, "BlkioDeviceReadBps": BPS, "BlkioWeight": 300}
    out = blkio.discard_unsupported(host, frozenset({"BlkioDeviceReadBps"}), weight=False)
    assert out == {"BlkioWeightDevice": [], "BlkioDeviceReadBps": BPS, "BlkioWeight": 0}


def test_supported_or_absent_values_are_kept() -> None:
    host = {"BlkioWeightDevice": DEV, "BlkioWeight": 300, "BlkioDeviceWriteIOps": None}
    assert blkio.discard_unsupported(dict(host), frozenset(blkio.FIELDS), weight=True) == host
    assert blkio.discard_unsupported({}, frozenset(), weight=False) == {}
