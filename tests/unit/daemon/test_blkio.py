"""Per-device block I/O limits: the CLI flags, the daemon's checks, OCI codec, v1/v2 cgroupfs writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from dockyard.cli import resourcespecs as rs
from dockyard.daemon import blkio
from dockyard.daemon import resources as r
from dockyard.errors import Internal, InvalidArgument
from dockyard.oci import runtime as oci
from dockyard.runtime.cgroups import limits, v1, v2

ALL = frozenset(blkio.FIELDS)
FACTS = r.HostFacts(ncpu=2, cpus=frozenset({0, 1}), blkio_devices=ALL)
HOST = {"BlkioWeightDevice": [{"Path": "/dev/vda", "Weight": 300}],
        "BlkioDeviceReadBps": [{"Path": "/dev/vda", "Rate": 1 << 20}],
        "BlkioDeviceWriteBps": [{"Path": "/dev/vda", "Rate": 2 << 20}],
        "BlkioDeviceReadIOps": [{"Path": "/dev/vda", "Rate": 100}],
        "BlkioDeviceWriteIOps": [{"Path": "/dev/vda", "Rate": 50}, {"Path": "/dev/vdb", "Rate": 60}]}


def fake_stat(path: str) -> SimpleNamespace:
    minors = {"/dev/vda": 0, "/dev/vdb": 16}
    if path not in minors:
        raise FileNotFoundError(2, "No such file or directory")
    return SimpleNamespace(st_mode=stat.S_IFBLK | 0o660, st_rdev=os.makedev(254, minors[path]))


def test_cli_flags_as_docker() -> None:
    assert rs.parse_throttle("--device-read-bps", "/dev/sda:1mb") == {"Path": "/dev/sda", "Rate": 1 << 20}
    assert rs.parse_throttle("--device-write-iops", "/dev/sda:300") == {"Path": "/dev/sda", "Rate": 300}
    assert rs.parse_weight_device("/dev/sda:0") == {"Path": "/dev/sda", "Weight": 0}
    cases = [("--device-read-bps", "/dev/sda:1x",
              "invalid rate for device: /dev/sda:1x. The correct format is <device-path>:<number>[<unit>]. "
              "Number must be a positive integer. Unit is optional and can be kb, mb, or gb"),
             ("--device-read-iops", "/dev/sda:1k",
              "invalid rate for device: /dev/sda:1k. The correct format is <device-path>:<number>. "
              "Number must be a positive integer"),
             ("--device-write-bps", "sda:1", "bad format for device path: sda:1"),
             ("--device-write-bps", "/dev/sda", "bad format: /dev/sda")]
    for flag, value, why in cases:
        with pytest.raises(rs.ResourceSpecError) as exc:
            rs.parse_throttle(flag, value)
        assert str(exc.value) == f'invalid argument "{value}" for "{flag}" flag: {why}'
    with pytest.raises(rs.ResourceSpecError, match=r'for "--blkio-weight-device" flag: invalid weight for device: '
                                                   r'/dev/sda:5$'):
        rs.parse_weight_device("/dev/sda:5")


def test_daemon_checks_and_warnings() -> None:
    assert blkio.validate(HOST, ALL) == []
    assert r.validate(HOST, r.HostFacts(ncpu=2)) == [w for _, _, _, w in blkio.FIELDS.values()]
    with pytest.raises(InvalidArgument, match="invalid weight for device: /dev/sda:5"):
        r.validate({"BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 5}]}, FACTS)
    with pytest.raises(InvalidArgument, match="BlkioDeviceReadBps entries"):
        r.validate({"BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": -1}]}, FACTS)


def test_probe_support(tmp_path: Path) -> None:
    (tmp_path / "blkio").mkdir()
    (tmp_path / "blkio" / "blkio.throttle.read_bps_device").touch()
    assert blkio.probe_support(tmp_path, False) == {"BlkioDeviceReadBps"}
    assert blkio.probe_support(tmp_path, True) == ALL


def test_start_resolves_major_minor_and_codec_round_trip() -> None:
    spec = oci.Spec(process=oci.Process(args=("sh",)))
    res = r.with_resources(spec, HOST, FACTS, stat=fake_stat).linux.resources  # type: ignore[arg-type]
    assert res.blkio_weight_device == (oci.BlockDeviceValue(254, 0, 300),)
    assert res.blkio_write_iops == (oci.BlockDeviceValue(254, 0, 50), oci.BlockDeviceValue(254, 16, 60))
    blockio = oci.to_json(oci.Spec(process=spec.process, linux=oci.Linux(resources=res)))["linux"]["resources"]["blockIO"]
    assert blockio["throttleReadBpsDevice"] == [{"major": 254, "minor": 0, "rate": 1 << 20}]
    assert blockio["weightDevice"] == [{"major": 254, "minor": 0, "weight": 300}]
    back = oci.from_json(oci.to_json(oci.Spec(process=spec.process, linux=oci.Linux(resources=res))))
    assert back.linux.resources == res
    unsupported = r.HostFacts(ncpu=2, blkio_devices=frozenset({"BlkioDeviceReadBps"}))
    res = r.with_resources(spec, HOST, unsupported, stat=fake_stat).linux.resources  # type: ignore[arg-type]
    assert res.blkio_read_bps and not res.blkio_weight_device and not res.blkio_write_iops  # discarded
    with pytest.raises(Internal) as exc:
        r.with_resources(spec, {"BlkioDeviceReadBps": [{"Path": "/dev/nope", "Rate": 1}]}, FACTS,
                         stat=fake_stat)  # type: ignore[arg-type]
    assert exc.value.message == "stat /dev/nope: no such file or directory"


RES = oci.Resources(blkio_weight_device=(oci.BlockDeviceValue(8, 0, 500),),
                    blkio_read_bps=(oci.BlockDeviceValue(8, 0, 1048576),),
                    blkio_write_bps=(oci.BlockDeviceValue(8, 0, 2097152),),
                    blkio_read_iops=(oci.BlockDeviceValue(8, 0, 100),),
                    blkio_write_iops=(oci.BlockDeviceValue(8, 16, 7),))


def _recorded(monkeypatch: pytest.MonkeyPatch, module: object) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(module, "write", lambda path, value: seen.append((path.name, value)))
    return seen


def test_v1_writes_on_fake_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _recorded(monkeypatch, v1)
    v1.CgroupV1({"blkio": tmp_path / "blkio" / "c"}).apply(RES)
    assert seen == [("blkio.weight_device", "8:0 500"), ("blkio.throttle.read_bps_device", "8:0 1048576"),
                    ("blkio.throttle.write_bps_device", "8:0 2097152"), ("blkio.throttle.read_iops_device", "8:0 100"),
                    ("blkio.throttle.write_iops_device", "8:16 7")]


def test_v2_writes_on_fake_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _recorded(monkeypatch, v2)
    (tmp_path / "c").mkdir()
    v2.CgroupV2(tmp_path, tmp_path / "c").apply(RES)
    assert seen == [("io.weight", f"8:0 {limits.blkio_to_io_weight(500)}"), ("io.max", "8:0 rbps=1048576"),
                    ("io.max", "8:0 wbps=2097152"), ("io.max", "8:0 riops=100"), ("io.max", "8:16 wiops=7")]
    monkeypatch.undo()
    one = oci.Resources(blkio_read_bps=(oci.BlockDeviceValue(8, 0, 4096),))
    v2.CgroupV2(tmp_path, tmp_path / "c").apply(one)  # the real writer against the fake tree
    assert (tmp_path / "c" / "io.max").read_text() == "8:0 rbps=4096"
