#!/usr/bin/env python3
"""Speed of the hot paths, beside Docker's when a Docker engine answers.

    bench/run_bench.py [-n 20] [--docker-host unix:///var/run/docker.sock]

Prints a table of medians (and p90) for:
  run --rm busybox true   the whole user-visible path: CLI start, create,
                          attach, wait, start, exit, removal
  ps -q                   CLI start-up plus one API round trip
Docker's numbers are measured on the same machine with the same busybox
image (our seed tarball, loaded into Docker with `docker load`) when
`docker info` succeeds; otherwise its column says "n/a".
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], n: int, env: dict[str, str] | None = None, warm: bool = True) -> list[float] | None:
    # One warm-up run (page cache, daemon auto-start) that is not counted.
    if warm and subprocess.run(cmd, capture_output=True, env=env).returncode != 0:
        return None
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        cp = subprocess.run(cmd, capture_output=True, env=env)
        out.append(time.perf_counter() - t0)
        if cp.returncode != 0:
            print(f"failed: {' '.join(cmd)}: {cp.stderr.decode()}", file=sys.stderr)
            return None
    return out


def fmt(xs: list[float] | None) -> str:
    if not xs:
        return "n/a"
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, int(len(xs) * 0.9))]
    return f"{statistics.median(xs) * 1000:7.1f} ms (p90 {p90 * 1000:.1f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20, help="runs per case")
    ap.add_argument("--dockyard", default=shutil.which("dockyard") or "dockyard")
    ap.add_argument("--docker-host", default=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    ap.add_argument("--seed", default="/var/lib/dockyard/seed/busybox.tar",
                    help="busybox image tarball loaded into Docker for a fair comparison")
    a = ap.parse_args()

    docker = shutil.which("docker")
    denv = {**os.environ, "DOCKER_HOST": a.docker_host}
    have_docker = bool(docker) and subprocess.run([docker, "info"], capture_output=True, env=denv).returncode == 0
    if have_docker and os.path.exists(a.seed):
        subprocess.run([docker, "load", "-q", "-i", a.seed], capture_output=True, env=denv)

    cases = [
        ("run --rm busybox true", ["run", "--rm", "busybox", "true"]),
        ("ps -q", ["ps", "-q"]),
    ]
    print(f"{'case':<26} {'dockyard':<28} {'docker':<28} ratio")
    for title, args in cases:
        ours = timed([a.dockyard, *args], a.n)
        theirs = timed([docker, *args], a.n, env=denv) if have_docker else None
        ratio = f"{statistics.median(ours) / statistics.median(theirs):.2f}" if ours and theirs else "-"
        print(f"{title:<26} {fmt(ours):<28} {fmt(theirs):<28} {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
