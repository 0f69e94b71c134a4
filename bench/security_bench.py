#!/usr/bin/env python3
"""What the security defaults cost on `run`: medians of `run --rm busybox true` with the
defaults (14 caps + Docker's seccomp profile), with seccomp off, and fully privileged.

    bench/security_bench.py [-n 20] [-H unix:///run/dockyard/dockyard.sock]

Target (issue 12): seccomp + capabilities add under 5 ms to `run`.  The compiled filter is
cached per profile (runtime/seccomp.py), so only the first run pays libseccomp's ~9 ms.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time

CASES = {
    "default (caps + seccomp)": [],
    "seccomp=unconfined": ["--security-opt", "seccomp=unconfined"],
    "caps ALL + unconfined": ["--cap-add", "ALL", "--security-opt", "seccomp=unconfined"],
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("-H", "--host", default=None)
    ap.add_argument("--dockyard", default=shutil.which("dockyard") or "dockyard")
    a = ap.parse_args()
    base = [a.dockyard] + (["-H", a.host] if a.host else [])
    results = {}
    for name, flags in CASES.items():
        cmd = base + ["run", "--rm", *flags, "busybox", "true"]
        warm = subprocess.run(cmd, capture_output=True, text=True)  # warm-up (and the filter cache)
        if warm.returncode:
            raise SystemExit(f"{cmd}: {warm.stderr}")
        times = []
        for _ in range(a.n):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append((time.perf_counter() - t) * 1000)
        results[name] = statistics.median(times)
        print(f"{name:28s} median {results[name]:7.1f} ms")
    extra = results["default (caps + seccomp)"] - results["caps ALL + unconfined"]
    print(f"{'security defaults add':28s}        {extra:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
