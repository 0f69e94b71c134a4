#!/usr/bin/env python3
"""Container lifecycle throughput: create + start + stop + rm of N detached
containers through the Engine API, beside Docker when one answers.

    .venv/bin/python bench/lifecycle_bench.py [-n 50] [--workers 1]
        [--docker-host unix:///tmp/refdocker/docker.sock] [--host unix://...]

Without --host it starts a private dockyardd on temporary roots (its own
socket and cgroup parent), loads the busybox seed image, and stops it at the
end, so nothing is left behind.  Each container runs ``sleep 300`` and is
stopped with t=0 (SIGTERM, then SIGKILL at once), the same for both engines.
Prints total seconds, containers per second and per-phase medians.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("create", "start", "stop", "rm")


def one(client: docker.APIClient, times: dict[str, list[float]]) -> None:
    t0 = time.perf_counter()
    cid = client.create_container("busybox", ["sleep", "300"], labels={"bench": "lifecycle"})["Id"]
    t1 = time.perf_counter()
    client.start(cid)
    t2 = time.perf_counter()
    client.stop(cid, timeout=0)
    t3 = time.perf_counter()
    client.remove_container(cid)
    t4 = time.perf_counter()
    for name, dt in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
        times[name].append(dt)


def measure(host: str, n: int, workers: int) -> tuple[float, dict[str, list[float]]]:
    clients = [docker.APIClient(base_url=host, version="auto", timeout=120) for _ in range(workers)]
    times: dict[str, list[float]] = {p: [] for p in PHASES}
    try:
        one(clients[0], {p: [] for p in PHASES})  # warm-up, not counted
        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda i: one(clients[i % workers], times), range(n)))
        return time.perf_counter() - t0, times
    finally:
        for c in clients:
            c.close()


def start_private_daemon(base: Path, seed: Path) -> tuple[subprocess.Popen, str]:
    sock = base / "exec" / "dockyard.sock"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    log = open(base / "dockyardd.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "dockyard.daemon.main", "--data-root", str(base / "data"),
                             "--exec-root", str(base / "exec"), "-H", f"unix://{sock}",
                             "--cgroup-parent", "dockyard-bench-" + secrets.token_hex(4)],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    log.close()
    host = f"unix://{sock}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if sock.exists():
            try:
                c = docker.APIClient(base_url=host, version="auto", timeout=30)
                with open(seed, "rb") as fh:
                    list(c.load_image(fh.read()) or [])
                c.close()
                return proc, host
            except Exception:  # noqa: BLE001 - not up yet
                pass
        time.sleep(0.05)
    proc.terminate()
    proc.wait(30)
    raise SystemExit(f"dockyardd did not start: {(base / 'dockyardd.log').read_text()}")


def seed_tar(base: Path) -> Path:
    default = Path("/var/lib/dockyard/seed/busybox.tar")
    if default.exists():
        return default
    out = base / "busybox.tar"
    subprocess.run([sys.executable, "-m", "dockyard.image.seed", "--busybox", os.path.realpath("/bin/busybox"),
                    "-o", str(out)], check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return out


def docker_answers(host: str) -> bool:
    try:
        c = docker.APIClient(base_url=host, version="auto", timeout=5)
        ok = c.ping()
        c.close()
        return bool(ok)
    except Exception:  # noqa: BLE001 - no reference engine
        return False


def row(name: str, total: float, n: int, times: dict[str, list[float]]) -> str:
    phases = " ".join(f"{statistics.median(times[p]) * 1000:8.1f}" for p in PHASES)
    return f"{name:<10} {total:8.2f} s {n / total:10.1f} {phases}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--host", default=None, help="a running dockyardd (default: start a private one)")
    ap.add_argument("--docker-host", default=None, help="reference Docker engine, e.g. unix:///var/run/docker.sock")
    a = ap.parse_args()
    print(f"{'engine':<10} {'total':>10} {'ctr/s':>10} " + " ".join(f"{p + ' ms':>8}" for p in PHASES))
    results = {}
    with tempfile.TemporaryDirectory(prefix="dy-bench-") as tmp:
        base = Path(tmp)
        proc = None
        host = a.host
        if host is None:
            proc, host = start_private_daemon(base, seed_tar(base))
        try:
            total, times = measure(host, a.n, a.workers)
            results["dockyard"] = total
            print(row("dockyard", total, a.n, times))
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
        if a.docker_host and docker_answers(a.docker_host):
            total, times = measure(a.docker_host, a.n, a.workers)
            results["docker"] = total
            print(row("docker", total, a.n, times))
        else:
            print(f"{'docker':<10} n/a (no engine answered on --docker-host)")
    if len(results) == 2:
        print(f"dockyard rate / docker rate: {results['docker'] / results['dockyard']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
