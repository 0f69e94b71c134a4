"""Stats: cgroup file parsers, Docker's stats JSON, the CLI's row."""

from __future__ import annotations

from pathlib import Path

from dockyard.cli.statsfmt import cpu_percent, row
from dockyard.daemon.services.stats import encode
from dockyard.runtime.cgroups import stats as cs

NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    1500      10    1    2    0     0          0         0     2500      20    3    4    0     0       0          0
"""


def test_parsers() -> None:
    assert cs.net_dev(NET_DEV) == {"eth0": {"rx_bytes": 1500, "rx_packets": 10, "rx_errors": 1, "rx_dropped": 2,
                                            "tx_bytes": 2500, "tx_packets": 20, "tx_errors": 3, "tx_dropped": 4}}
    assert cs.blkio_v1("8:0 Read 4096\n8:0 Write 512\nTotal 4608\n") == [(8, 0, "Read", 4096), (8, 0, "Write", 512)]
    by, ops = cs.io_stat_v2("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n")
    assert by == [(8, 0, "read", 10), (8, 0, "write", 20)] and ops[1] == (8, 0, "write", 2)
    assert cs.system_cpu_ns("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 1\n") == 28 * cs._NS_PER_TICK


def test_v2_sample_on_fake_tree(tmp_path: Path) -> None:
    (tmp_path / "cpu.stat").write_text("usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 4\n"
                                       "nr_throttled 2\nthrottled_usec 100\n")
    (tmp_path / "memory.current").write_text("4096\n")
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.stat").write_text("anon 1024\ninactive_file 1000\n")
    (tmp_path / "pids.current").write_text("3\n")
    (tmp_path / "pids.max").write_text("20\n")
    s = cs.sample_v2(tmp_path)
    assert (s.cpu_total, s.cpu_user, s.throttled_time) == (2_000_000, 1_500_000, 100_000)
    assert (s.mem_usage, s.mem_limit, s.pids_current, s.pids_limit) == (4096, 0, 3, 20)


def test_encode_and_row() -> None:
    pre = cs.Sample(cpu_total=1_000_000_000, percpu=[1, 2])
    cur = cs.Sample(cpu_total=1_500_000_000, mem_usage=10 << 20, mem_limit=64 << 20,
                    mem_stat={"total_inactive_file": 2 << 20}, pids_current=5, pids_limit=20,
                    io_bytes=[(8, 0, "Read", 1000)])
    out = encode(id="a" * 64, name="web", cur=cur, read_ns=2 * 10**18, system=12 * 10**9, pre=pre,
                 pre_ns=10**18, pre_system=10 * 10**9, ncpu=2, host_mem=1 << 34,
                 networks={"eth0": {"rx_bytes": 1000, "tx_bytes": 2000}})
    assert out["memory_stats"]["limit"] == 64 << 20 and out["pids_stats"] == {"current": 5, "limit": 20}
    assert out["precpu_stats"]["cpu_usage"]["total_usage"] == 10**9 and out["name"] == "/web"
    assert cpu_percent(out) == 50.0  # 0.5 s of CPU over 2 s of the system's 2 CPUs
    r = row(out)
    assert r[:3] == ("a" * 12, "web", "50.00%") and r[3] == "8MiB / 64MiB" and r[4] == "12.50%"
    assert r[5] == "1kB / 2kB" and r[6] == "1kB / 0B" and r[7] == "5"
