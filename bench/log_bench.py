#!/usr/bin/env python3
"""Logging throughput: 100 000 lines through the shim's encoder and log writer, per driver.

    bench/log_bench.py [-n 100000] [--host unix:///run/dockyard/dockyard.sock]
                       [--docker-host unix:///tmp/refdocker/docker.sock] [--rounds 3]

"in-process" rows feed the Python shim's path (``LogWriter.encoder()`` then
``LogWriter.write``, 64 KiB reads) and time it alone.  With a daemon
answering, the "engine" rows time ``run -d --log-driver D busybox seq 1 N``
from start to ``wait`` (the container blocks on its pipe while the log
writer lags, so this is the writer's speed) and check ``logs`` gives back
every line; with the reference engine too, the same through the docker CLI.
Medians of ``--rounds``; removes its containers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
sys.path.insert(0, SRC)

from dockyard.runtime.logrotate import LogWriter  # noqa: E402

DRIVERS = ("json-file", "local")


def in_process(driver: str, n: int) -> float:
    data = b"".join(b"%d\n" % i for i in range(1, n + 1))
    with tempfile.TemporaryDirectory() as d:
        w = LogWriter(Path(d) / "c-json.log", driver=driver)
        enc = w.encoder()
        t0 = time.perf_counter()
        for i in range(0, len(data), 65536):
            w.write(enc.feed(1, data[i:i + 65536]))
        w.write(enc.close(1))
        took = time.perf_counter() - t0
        w.close()
    return took


def engine(cli: list[str], driver: str, n: int, env: dict[str, str]) -> float | None:
    cp = subprocess.run([*cli, "run", "-d", "--log-driver", driver, "busybox", "seq", "1", str(n)],
                        capture_output=True, env=env)
    if cp.returncode != 0:
        print(f"failed: {cp.stderr.decode().strip()}", file=sys.stderr)
        return None
    cid = cp.stdout.decode().strip()
    t0 = time.perf_counter()
    subprocess.run([*cli, "wait", cid], capture_output=True, env=env)
    took = time.perf_counter() - t0
    logs = subprocess.run([*cli, "logs", cid], capture_output=True, env=env).stdout
    subprocess.run([*cli, "rm", "-f", cid], capture_output=True, env=env)
    lines = logs.count(b"\n")
    if lines != n:
        print(f"{driver}: logs gave {lines} lines of {n}", file=sys.stderr)
    return took


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--host", default="unix:///run/dockyard/dockyard.sock")
    ap.add_argument("--docker-host", default="unix:///tmp/refdocker/docker.sock")
    a = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": SRC}
    ours = [sys.executable, "-m", "dockyard.cli", "-H", a.host]
    rows: list[tuple[str, list[str] | None]] = [(f"in-process {d}", None) for d in DRIVERS]
    if subprocess.run([*ours, "version"], capture_output=True, env=env).returncode == 0:
        rows += [(f"dockyardd {d}", ours) for d in DRIVERS]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "-H", a.docker_host, "info"], capture_output=True).returncode == 0:
        rows += [(f"docker engine {d}", [docker, "-H", a.docker_host]) for d in DRIVERS]
    times: dict[str, list[float]] = {label: [] for label, _ in rows}
    for _ in range(a.rounds):  # round robin: load from elsewhere hits every row alike
        for label, cli in rows:
            driver = label.rsplit(" ", 1)[1]
            took = in_process(driver, a.n) if cli is None else engine(cli, driver, a.n, env)
            if took is not None:
                times[label].append(took)
    print(f"{'%d lines' % a.n:<28} {'median':>10}")
    for label, _ in rows:
        xs = times[label]
        print(f"{label:<28} {statistics.median(xs) * 1000:>8.0f}ms" if xs else f"{label:<28} {'n/a':>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
