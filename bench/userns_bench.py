#!/usr/bin/env python3
"""Cost of --userns-remap on `run --rm busybox true`: two private daemons, same host.

    sudo .venv/bin/python bench/userns_bench.py [-n 20]

Three rows: a plain daemon, a --userns-remap daemon, and the remap daemon with
--userns=host. Both daemons run at once and the rows alternate run by run. The
remap path adds: a child born in the new user namespace (clone(CLONE_NEWUSER)),
an idmapped clone of each lower layer dir (open_tree + mount_setattr +
move_mount), and a second unshare; bench/userns_steps.py times those apart.
Needs the `dockremap` user (setup.sh --userns-remap).
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
    exe = shutil.which("dockyard")  # the installed entry point: the CLI as users start it
    cmd = [exe] if exe else [sys.executable, "-m", "dockyard.cli"]
    return subprocess.run([*cmd, "-H", host, *args],
                          capture_output=True, env=ENV, timeout=60)


def one(host: str, *extra: str) -> float:
    t0 = time.perf_counter()
    cp = cli(host, "run", "--rm", *extra, "busybox", "true")
    if cp.returncode:
        raise SystemExit(cp.stderr.decode())
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seed", default="/var/lib/dockyard/seed/busybox.tar")
    a = ap.parse_args()
    # Both daemons run at once and the cases alternate run by run, so a load spike from
    # other work on the machine hits every case alike instead of skewing one of them.
    cases = (("default", [], ()), ("--userns-remap=default", ["--userns-remap", "default"], ()),
             ("remap daemon, --userns=host", None, ("--userns=host",)))
    daemons: list[tuple[subprocess.Popen, Path]] = []
    hosts: dict[str, str] = {}
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    try:
        for name, extra, _ in cases:
            if extra is None:
                hosts[name] = hosts["--userns-remap=default"]
                continue
            base = Path(tempfile.mkdtemp(prefix="dyb-", dir="/tmp"))
            os.chmod(base, 0o711)
            proc, host = start(base, extra)
            daemons.append((proc, base))
            cli(host, "load", "-q", "-i", a.seed)
            hosts[name] = host
        for name, _, flags in cases:  # warm-up, not counted
            one(hosts[name], *flags)
        for _ in range(a.n):
            for name, _, flags in cases:
                times[name].append(one(hosts[name], *flags))
    finally:
        for proc, base in daemons:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            shutil.rmtree(base, ignore_errors=True)
    print(f"{'run --rm busybox true':28} {'median ms':>10} {'p90 ms':>8}")
    for name, t in times.items():
        t = sorted(t)
        print(f"{name:28} {statistics.median(t) * 1e3:10.1f} {t[int(len(t) * 0.9) - 1] * 1e3:8.1f}")


if __name__ == "__main__":
    main()
