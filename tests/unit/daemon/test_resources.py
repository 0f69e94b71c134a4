"""HostConfig resources → OCI resources, Docker's validation texts, and the cgroupfs writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from dockyard.daemon import resources as r
from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci import runtime as oci
from dockyard.runtime.cgroups import limits
from dockyard.runtime.cgroups.v2 import CgroupV2

FACTS = r.HostFacts(ncpu=2, cpus=frozenset({0, 1}), mems=frozenset({0}))


@pytest.mark.parametrize("host, message", [
    ({"Memory": 4 << 20}, "Minimum memory limit allowed is 6MB"),
    ({"MemorySwap": 10 << 20}, "You should always set the Memory limit when using Memoryswap limit, see usage"),
    ({"Memory": 10 << 20, "MemorySwap": 8 << 20}, "Minimum memoryswap limit should be larger than memory limit, see usage"),
    ({"MemoryReservation": 1 << 20}, "Minimum memory reservation allowed is 6MB"),
    ({"Memory": 10 << 20, "MemoryReservation": 20 << 20},
     "Minimum memory limit can not be less than memory reservation limit, see usage"),
    ({"NanoCpus": 5 * 10**8, "CpuPeriod": 1000}, "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    ({"NanoCpus": 100 * 10**9}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
    ({"CpuPeriod": 500}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
    ({"CpuQuota": 500}, "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    ({"CpusetCpus": "99"}, "Requested CPUs are not available - requested 99, available: 0-1"),
    ({"CpusetCpus": "abc"}, "Invalid value abc for cpuset cpus: invalid format: abc"),
    ({"BlkioWeight": 5}, "Range of blkio weight is from 10 to 1000"),
    ({"ShmSize": -1}, "SHM size can not be less than 0"),
    ({"DeviceCgroupRules": ["x 1:2 r"]}, "invalid device cgroup format 'x 1:2 r'"),
    ({"Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 5}]},
     "ulimit soft limit must be less than or equal to hard limit: 10 > 5"),
])
def test_validation_texts(host: dict, message: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        r.validate(host, FACTS)
    assert exc.value.message == message


def test_warnings() -> None:
    assert r.validate({"KernelMemory": 1 << 20}, FACTS) == [
        "Specifying a kernel memory limit is deprecated and will be removed in a future release."]
    assert "no memory limit is set" in r.validate({"OomKillDisable": True}, FACTS)[0]
    no_blkio = r.HostFacts(ncpu=2, blkio_weight=False)
    assert "Block I/O weight" in r.validate({"BlkioWeight": 500}, no_blkio)[0]


def test_adapt_defaults() -> None:
    assert r.adapt({"Memory": 10}) == {"Memory": 10, "MemorySwap": 20, "ShmSize": r.DEFAULT_SHM_SIZE}


def test_spec_resources_cpus_and_memory() -> None:
    base = oci.Resources(devices=(oci.DeviceRule(False),))
    res = r.spec_resources({"NanoCpus": 5 * 10**8, "Memory": 64 << 20, "MemorySwap": 128 << 20, "PidsLimit": 20,
                            "DeviceCgroupRules": ["c 10:229 rw", "b *:* m"]}, FACTS, base)
    assert (res.cpu_quota, res.cpu_period) == (50_000, 100_000)
    assert (res.memory_limit, res.memory_swap, res.pids_limit) == (64 << 20, 128 << 20, 20)
    assert res.devices[1:] == (oci.DeviceRule(True, "c", 10, 229, "rw"), oci.DeviceRule(True, "b", None, None, "m"))


def test_with_resources_shm_rlimits_devices() -> None:
    spec = oci.Spec(process=oci.Process(args=("sh",)),
                    mounts=(oci.Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "size=65536k")),))
    fake = SimpleNamespace(st_mode=stat.S_IFCHR | 0o666, st_rdev=os.makedev(1, 3), st_uid=0, st_gid=0)

    def fake_stat(path: str) -> SimpleNamespace:
        if path != "/dev/null":
            raise FileNotFoundError(2, "No such file or directory")
        return fake

    host = {"ShmSize": 32 << 20, "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}],
            "Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/n", "CgroupPermissions": "rw"}]}
    out = r.with_resources(spec, host, FACTS, stat=fake_stat)  # type: ignore[arg-type]
    assert out.mounts[0].options == ("nosuid", f"size={32 << 20}")
    assert out.process.rlimits == (oci.Rlimit("RLIMIT_NOFILE", 100, 200),)
    assert out.linux.devices[0].path == "/dev/n" and (out.linux.devices[0].major, out.linux.devices[0].minor) == (1, 3)
    assert out.linux.resources.devices[-1] == oci.DeviceRule(True, "c", 1, 3, "rw")
    with pytest.raises(NotFound, match="error gathering device information"):
        r.with_resources(spec, {"Devices": [{"PathOnHost": "/dev/nope"}]}, FACTS, stat=fake_stat)


def test_update_resources_only_named_fields() -> None:
    res = r.update_resources({"NanoCpus": 25 * 10**7}, {"NanoCpus": 25 * 10**7, "Memory": 64 << 20}, FACTS)
    assert res == oci.Resources(cpu_quota=25_000, cpu_period=100_000)


def test_codec_round_trip() -> None:
    res = oci.Resources(memory_limit=1 << 30, memory_swap=2 << 30, memory_reservation=1 << 20,
                        disable_oom_killer=True, cpu_quota=50_000, cpu_period=100_000, cpuset_cpus="0-1",
                        cpuset_mems="0", blkio_weight=300, pids_limit=20, cpu_shares=512)
    spec = oci.Spec(process=oci.Process(args=("sh",)), linux=oci.Linux(resources=res))
    assert oci.from_json(oci.to_json(spec)).linux.resources == res
    assert oci.to_json(spec)["linux"]["resources"]["cpu"] == {"shares": 512, "quota": 50_000, "period": 100_000,
                                                              "cpus": "0-1", "mems": "0"}


def test_v1_swap_order() -> None:
    raise_ = limits.v1_writes(oci.Resources(memory_limit=200, memory_swap=400), current_limit=100)
    assert [w[1] for w in raise_] == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
    lower = limits.v1_writes(oci.Resources(memory_limit=50, memory_swap=60), current_limit=100)
    assert [w[1] for w in lower] == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]


def test_v2_writes_on_fake_tree(tmp_path: Path) -> None:
    cg = CgroupV2(tmp_path, tmp_path / "c")
    (tmp_path / "c").mkdir()
    cg.apply(oci.Resources(memory_limit=64 << 20, memory_swap=128 << 20, memory_reservation=32 << 20,
                           cpu_quota=50_000, cpu_period=100_000, cpuset_cpus="0", blkio_weight=500))
    read = lambda n: (tmp_path / "c" / n).read_text()  # noqa: E731
    assert read("memory.max") == str(64 << 20) and read("memory.swap.max") == str(64 << 20)
    assert read("memory.low") == str(32 << 20) and read("cpu.max") == "50000 100000"
    assert read("cpuset.cpus") == "0" and read("io.weight") == f"default {limits.blkio_to_io_weight(500)}"
    (tmp_path / "c" / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert cg.oom_kills() == 1
    assert limits.oom_kills(tmp_path / "missing", "v1") == 0
