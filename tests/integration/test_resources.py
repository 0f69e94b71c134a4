"""Resource limits end to end (cgroup v1 on this hybrid host): OOM kill, pids
limit against a fork bomb, --cpus, ulimits, shm size, devices, update, and
Docker's validation messages."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from .conftest import Daemon

pytestmark = pytest.mark.root


def _cgroup(daemon: Daemon, cid: str, controller: str) -> Path:
    dirs = json.loads((daemon.exec_root / "runtime" / cid / "cgroup.json").read_text())["dirs"]
    return next(Path(d) for name, d in dirs.items() if controller in name.split(","))


def _inspect(daemon: Daemon, ref: str) -> dict:
    return json.loads(daemon.cli("inspect", ref, check=True).stdout)[0]


def test_memory_hog_is_oom_killed(daemon: Daemon) -> None:
    since = str(int(time.time()) - 1)
    cp = daemon.cli("run", "--name", "res-oom", "-m", "8m", "--memory-swap", "8m", "busybox",
                    "sh", "-c", "x=aaaaaaaa; while true; do x=$x$x; done", timeout=30)
    assert cp.returncode == 137, cp.stderr
    state = _inspect(daemon, "res-oom")["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    host = _inspect(daemon, "res-oom")["HostConfig"]
    assert host["Memory"] == 8 << 20 and host["MemorySwap"] == 8 << 20
    ev = daemon.cli("events", "--since", since, "--until", str(int(time.time()) + 1),
                    "--filter", "container=res-oom", "--format", "{{.Action}}", check=True).stdout.decode()
    assert "oom" in ev.split() and "die" in ev.split()
    daemon.cli("rm", "res-oom", check=True)


def test_pids_limit_contains_fork_bomb_and_cpus(daemon: Daemon) -> None:
    bomb = daemon.cli("run", "-d", "--name", "res-pids", "--pids-limit", "20", "-m", "64m", "busybox", "sleep", "300",
                      check=True).stdout.decode().strip()
    spin = daemon.cli("run", "-d", "--name", "res-cpu", "--cpus", "0.5", "busybox", "sh", "-c",
                      "while :; do :; done", check=True).stdout.decode().strip()
    try:
        pids = _cgroup(daemon, bomb, "pids")
        assert (pids / "pids.max").read_text().strip() == "20"
        # the bomb forks until the kernel refuses; busybox sh then gives up ("can't fork")
        cp = daemon.docker("exec", "res-pids", "sh", "-c", "while true; do sleep 60 </dev/null >/dev/null 2>&1 & done", timeout=30)
        assert b"can't fork" in cp.stderr
        assert int((pids / "pids.events").read_text().split()[1]) > 0  # forks were refused
        assert 10 < int((pids / "pids.current").read_text()) <= 20
        assert _inspect(daemon, "res-pids")["State"]["Running"]
        assert daemon.cli("ps", "-q", check=True).returncode == 0  # the host (and daemon) carry on

        cpu = _cgroup(daemon, spin, "cpu")
        assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
        assert (cpu / "cpu.cfs_period_us").read_text().strip() == "100000"
        acct = _cgroup(daemon, spin, "cpuacct")
        u0, t0 = int((acct / "cpuacct.usage").read_text()), time.monotonic()
        time.sleep(1.0)
        used = (int((acct / "cpuacct.usage").read_text()) - u0) / 1e9 / (time.monotonic() - t0)
        assert 0.05 < used < 0.6, used  # the cap is the proof; a busy CI host may give less
        # the same through GET /containers/{id}/stats (docker's stats computes CPU % from two samples)
        cp = daemon.docker("stats", "--no-stream", "--format", "{{.CPUPerc}} {{.PIDs}}", "res-cpu")
        assert cp.returncode == 0, cp.stderr
        perc, npids = cp.stdout.decode().split()
        assert 0.0 < float(perc.rstrip("%")) < 60.0 and npids == "1"
        ours = daemon.cli("stats", "--no-stream", "res-cpu", "res-pids", check=True).stdout.decode().splitlines()
        assert ours[0].split()[:3] == ["CONTAINER", "ID", "NAME"] and len(ours) == 3
        import docker  # docker-py: the stream, one-shot, and the JSON shape

        api = docker.APIClient(base_url=daemon.host, version="1.43")
        frames = api.stats("res-cpu", decode=True, stream=True)
        first, second = next(frames), next(frames)
        frames.close()
        assert second["precpu_stats"]["cpu_usage"]["total_usage"] == first["cpu_stats"]["cpu_usage"]["total_usage"]
        assert second["cpu_stats"]["throttling_data"]["throttled_periods"] > 0
        one = api.stats("res-pids", stream=False, one_shot=True)
        assert one["pids_stats"]["limit"] == 20 and one["pids_stats"]["current"] > 10 and one["memory_stats"]["limit"] == 64 << 20
        assert "eth0" in one["networks"] and one["precpu_stats"]["cpu_usage"]["total_usage"] == 0
        api.close()
        mem = daemon.docker("stats", "--no-stream", "--format", "{{.MemUsage}}", "res-pids").stdout.decode()
        assert mem.strip().endswith("/ 64MiB"), mem
        # update on the live cgroup, through the docker CLI
        up = daemon.docker("update", "--cpus", "0.25", "--pids-limit", "30", "res-cpu")
        assert up.returncode == 0, up.stderr
        assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "25000"
        assert (_cgroup(daemon, spin, "pids") / "pids.max").read_text().strip() == "30"
        assert _inspect(daemon, "res-cpu")["HostConfig"]["NanoCpus"] == 250_000_000
    finally:
        daemon.cli("rm", "-f", "res-pids", "res-cpu", timeout=30)


def test_ulimit_shm_devices(daemon: Daemon) -> None:
    cp = daemon.cli("run", "--rm", "--ulimit", "nofile=100:200", "--shm-size", "32m",
                    "--device", "/dev/null:/dev/mynull", "busybox", "sh", "-c",
                    "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1; echo hi > /dev/mynull && echo ok",
                    check=True, timeout=30)
    lines = cp.stdout.decode().split("\n")
    assert lines[0] == "100" and lines[1] == "200"
    assert lines[2].split()[1] == str(32 * 1024)
    assert lines[3] == "ok"
    # a node the rules do not allow cannot be opened, --device-cgroup-rule opens it
    # /dev/fuse (10:229) is outside the list: open(2) denied until a --device-cgroup-rule allows it
    mk = "mknod /tmp/f c 10 229 && (cat /tmp/f </dev/null >/dev/null 2>/tmp/e & sleep 0.2; " \
         "grep -q \"can't open\" /tmp/e && echo denied || echo open)"
    assert daemon.cli("run", "--rm", "busybox", "sh", "-c", mk).stdout.decode().strip() == "denied"
    out = daemon.cli("run", "--rm", "--device-cgroup-rule", "c 10:229 r", "busybox", "sh", "-c", mk)
    assert out.stdout.decode().strip() == "open"


@pytest.mark.parametrize("flags, message", [
    (["-m", "4m"], "Minimum memory limit allowed is 6MB"),
    (["--memory-swap", "10m"], "You should always set the Memory limit when using Memoryswap limit, see usage"),
    (["-m", "10m", "--memory-swap", "8m"], "Minimum memoryswap limit should be larger than memory limit, see usage"),
    (["--cpus", "0.5", "--cpu-period", "1000"], "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    (["--cpu-quota", "500"], "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    (["--cpuset-cpus", "abc"], "Invalid value abc for cpuset cpus: invalid format: abc"),
])
def test_docker_validation_messages(daemon: Daemon, flags: list[str], message: str) -> None:
    before = daemon.cli("ps", "-aq", check=True).stdout
    cp = daemon.docker("create", *flags, "busybox", "true")
    assert cp.returncode != 0 and f"Error response from daemon: {message}" in cp.stderr.decode()
    assert daemon.cli("ps", "-aq", check=True).stdout == before  # nothing left behind


def test_create_warnings(daemon: Daemon) -> None:
    cp = daemon.cli("create", "--name", "res-warn", "--kernel-memory", "10m", "--oom-kill-disable",
                    "busybox", "true")
    try:
        err = cp.stderr.decode()
        assert cp.returncode == 0, err
        assert "WARNING: Specifying a kernel memory limit is deprecated" in err
        assert "OOM killer is disabled for the container, but no memory limit is set" in err
    finally:
        daemon.cli("rm", "-f", "res-warn")
