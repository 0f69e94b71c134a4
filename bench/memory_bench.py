#!/usr/bin/env python3
"""Memory of the engine with N running containers (PSS), beside Docker's.

    .venv/bin/python bench/memory_bench.py [-n 50] [--host unix://...]
        [--docker-host unix:///tmp/refdocker/docker.sock] [--docker-pidfile /tmp/refdocker/docker.pid]

Dockyard: the daemon, its spawn helper, and each container's shim (the
``shim_pid`` of ``<exec-root>/runtime/<id>/state.json``: the native monitor
once the shim handed over, runtime/monitor; ``--native-monitor=off`` daemons
keep the Python shim).  Docker: dockerd,
containerd, and each container's shim (the parent of ``State.Pid``).  PSS
(``/proc/<pid>/smaps_rollup``) is used so shared pages are split between the
processes that map them instead of counted N times.  Per-container overhead
= (engine PSS with N containers − engine PSS idle) / N; the containers'
own processes (``sleep``) are not counted on either side.  "shim priv" is the
mean private memory of one shim (Private_Clean + Private_Dirty: what each one
alone holds, whatever the others share), the floor of the per-container figure.
Without --host a
private dockyardd is started on temporary roots and stopped at the end; every
container this script makes is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lifecycle_bench import docker_answers, seed_tar, start_private_daemon  # noqa: E402


def pss_kb(pid: int) -> int:
    return _rollup(pid, ("Pss:",))


def private_kb(pid: int) -> int:
    return _rollup(pid, ("Private_Clean:", "Private_Dirty:"))


def _rollup(pid: int, keys: tuple[str, ...]) -> int:
    try:
        return sum(int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                   if line.startswith(keys))
    except OSError:
        return 0


def children(pid: int) -> list[int]:
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def is_native(pid: int) -> bool:
    """Whether the shim has handed over to dockyard-monitor (runtime/monitor)."""
    try:
        return os.readlink(f"/proc/{pid}/exe").endswith("dockyard-monitor")
    except OSError:
        return False


def ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def run_n(c: docker.APIClient, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        cid = c.create_container("busybox", ["sleep", "600"], labels={"bench": "memory"},
                                 host_config=c.create_host_config(network_mode="none"))["Id"]
        c.start(cid)
        ids.append(cid)
    return ids


def remove(c: docker.APIClient, ids: list[str]) -> None:
    for cid in ids:
        try:
            c.remove_container(cid, force=True)
        except docker.errors.APIError:
            pass


def measure_dockyard(host: str, daemon_pid: int, exec_root: Path, n: int) -> tuple[int, int, int, int]:
    c = docker.APIClient(base_url=host, version="auto", timeout=120)
    engine = [daemon_pid, *children(daemon_pid)]  # the daemon and its spawn helper
    idle = sum(pss_kb(p) for p in engine)
    ids: list[str] = []
    try:
        ids = run_n(c, n)
        shims = [json.loads((exec_root / "runtime" / cid / "state.json").read_text())["shim_pid"] for cid in ids]
        deadline = time.monotonic() + 2  # the hand-over to the native monitor follows start's reply
        while sum(map(is_native, shims)) not in (0, len(shims)) and time.monotonic() < deadline:
            time.sleep(0.01)
        print(f"dockyard: {sum(map(is_native, shims))} of {len(shims)} shims are the native monitor",
              file=sys.stderr)
        daemon_kb = sum(pss_kb(p) for p in engine)
        return idle, daemon_kb, sum(pss_kb(p) for p in shims), sum(private_kb(p) for p in shims) // len(shims)
    finally:
        remove(c, ids)
        c.close()


def measure_docker(host: str, pidfile: Path, n: int) -> tuple[int, int, int, int] | None:
    try:
        dockerd = int(pidfile.read_text())
    except (OSError, ValueError):
        return None
    cmd = Path(f"/proc/{dockerd}/cmdline").read_bytes().split(b"\0")
    sock = cmd[cmd.index(b"--containerd") + 1].decode() if b"--containerd" in cmd else ""
    engine = [dockerd] + [p for p in (int(e.name) for e in os.scandir("/proc") if e.name.isdigit())
                          if _comm(p) == "containerd" and (not sock or _config_dir(sock) in _cmdline(p))]
    c = docker.APIClient(base_url=host, version="auto", timeout=120)
    idle = sum(pss_kb(p) for p in engine)
    ids: list[str] = []
    try:
        ids = run_n(c, n)
        shims = {ppid(c.inspect_container(cid)["State"]["Pid"]) for cid in ids}
        return (idle, sum(pss_kb(p) for p in engine), sum(pss_kb(p) for p in shims),
                sum(private_kb(p) for p in shims) // len(shims))
    finally:
        remove(c, ids)
        c.close()


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _config_dir(sock: str) -> str:
    """/tmp/refdocker/ctd/containerd.sock -> /tmp/refdocker: the containerd run by that dockerd."""
    return str(Path(sock).parent.parent)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--host", default=None, help="a running dockyardd (default: a private one)")
    ap.add_argument("--daemon-pid", type=int, default=0, help="its pid, with --host")
    ap.add_argument("--exec-root", default="/run/dockyard", help="its exec root, with --host")
    ap.add_argument("--docker-host", default=None)
    ap.add_argument("--docker-pidfile", default="/tmp/refdocker/docker.pid")
    a = ap.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory(prefix="dy-membench-") as tmp:
        base = Path(tmp)
        proc = None
        host, pid, exec_root = a.host, a.daemon_pid, Path(a.exec_root)
        if host is None:
            proc, host = start_private_daemon(base, seed_tar(base))
            pid, exec_root = proc.pid, base / "exec"
        try:
            rows["dockyard"] = measure_dockyard(host, pid, exec_root, a.n)
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
    if a.docker_host and docker_answers(a.docker_host):
        got = measure_docker(a.docker_host, Path(a.docker_pidfile), a.n)
        if got is not None:
            rows["docker"] = got
    print(f"{a.n} running containers (busybox sleep), PSS in MiB")
    print(f"{'engine':<10} {'idle':>8} {'daemons':>8} {'shims':>8} {'total':>8} {'per ctr':>8} {'shim priv':>10}")
    for name, (idle, daemons, shims, priv) in rows.items():
        per = (daemons + shims - idle) / a.n
        print(f"{name:<10} {idle / 1024:8.1f} {daemons / 1024:8.1f} {shims / 1024:8.1f} "
              f"{(daemons + shims) / 1024:8.1f} {per / 1024:8.2f} {priv / 1024:10.2f}")
    if len(rows) == 2:
        ours = (sum(rows["dockyard"][1:3]) - rows["dockyard"][0]) / a.n
        theirs = (sum(rows["docker"][1:3]) - rows["docker"][0]) / a.n
        print(f"per-container overhead: dockyard {ours / theirs:.2f} x docker's (target < 0.33)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
