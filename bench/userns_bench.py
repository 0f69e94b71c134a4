#!/usr/bin/env python3
"""Cost of --userns-remap on `run --rm busybox true`: two private daemons, same host.

    sudo .venv/bin/python bench/userns_bench.py [-n 20]

The remap path adds: a forked child to create the user namespace, an idmapped
clone of each lower layer dir (open_tree + mount_setattr + move_mount), and a
second unshare. Needs the `dockremap` user (setup.sh --userns-remap).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def start(base: Path, extra: list[str]) -> tuple[subprocess.Popen, str]:
    sock = base / "exec" / "dockyard.sock"
    tag = secrets.token_hex(3)
    (base / "daemon.json").write_text("{}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dockyard.daemon.main", "--data-root", str(base / "data"), "--exec-root",
         str(base / "exec"), "-H", f"unix://{sock}", "--cgroup-parent", f"dockyard-bench-{tag}",
         "--bridge-name", f"dyb{tag}", "--iptables-chain-prefix", f"DYB{tag}",
         "--default-address-pool", f"base=10.{150 + secrets.randbelow(40)}.0.0/16,size=24",
         "--registry-loopback-only", "--config-file", str(base / "daemon.json"), *extra],
        stdout=open(base / "log", "wb"), stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not sock.exists():
        time.sleep(0.05)
    return proc, f"unix://{sock}"


def cli(host: str, *args: str) -> subprocess.CompletedProcess:

    cmd = [exe] if exe else [sys.executable, "-m", "dockyard.cli"]
    return subprocess.run([*cmd, "-H", host, *args],
                          capture_output=True, env=ENV, timeout=60)


def bench(host: str, n: int) -> list[float]:
    cli(host, "run", "--rm", "busybox", "true")
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        cp = cli(host, "run", "--rm", "busybox", "true")
        out.append(time.perf_counter() - t0)
        if cp.returncode:
            raise SystemExit(cp.stderr.decode())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seed", default="/var/lib/dockyard/seed/busybox.tar")
    a = ap.parse_args()
    rows = []
    for name, extra in (("default", []), ("--userns-remap=default", ["--userns-remap", "default"])):
        base = Path(tempfile.mkdtemp(prefix="dyb-", dir="/tmp"))
        os.chmod(base, 0o711)
        proc, host = start(base, extra)
        try:
            cli(host, "load", "-q", "-i", a.seed)
            t = bench(host, a.n)
            rows.append((name, statistics.median(t) * 1e3, sorted(t)[int(len(t) * 0.9) - 1] * 1e3))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            shutil.rmtree(base, ignore_errors=True)
    print(f"{'run --rm busybox true':28} {'median ms':>10} {'p90 ms':>8}")
    for name, med, p90 in rows:
        print(f"{name:28} {med:10.1f} {p90:8.1f}")


if __name__ == "__main__":
    main()
