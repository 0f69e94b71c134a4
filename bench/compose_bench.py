#!/usr/bin/env python3
"""`compose up -d` and `down -v` of issue 13's three-service application.

    bench/compose_bench.py [-n 5] [--host unix:///run/dockyard/dockyard.sock]
                           [--docker-host unix:///tmp/refdocker/docker.sock]

Rows: `dockyard compose` and Debian's docker-compose 1.29 against dockyardd,
and docker-compose 1.29 against a Docker engine when one answers (its busybox
image must be loaded: `docker load` of our seed tarball). The app is
tests/integration/compose/app.py's, with `depends_on: service_started`
(dockyardd runs no health checks yet, and Docker's first probe only runs
after one interval, which would measure the interval, not the tools). The
api image is built once before timing, so `up` measures the cached build
check plus create/start; `up` after `up` (nothing to do) is timed too.
The three services form a chain (frontend → api → db), so a second app,
"wide" (six independent services), shows what starting independent services
in parallel buys.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration" / "compose"))
from app import free_port, write_app  # noqa: E402


WIDE = "services:\n" + "".join(
    f"  s{i}:\n    image: busybox\n    init: true\n    command: [sleep, '300']\n" for i in range(6))


def run(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    cp = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
    dt = time.perf_counter() - t0
    if cp.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{cp.stderr.decode()[-2000:]}")
    return dt


def fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:8.0f} ms" if xs else "     n/a"


def bench(name: str, base: list[str], env: dict[str, str], n: int) -> tuple[str, list[float], list[float], list[float]]:
    ups, again, downs = [], [], []
    run(base + ["up", "-d", "--build"], env)  # build the api image once, untimed
    run(base + ["down", "-v"], env)
    for _ in range(n):
        ups.append(run(base + ["up", "-d"], env))
        again.append(run(base + ["up", "-d"], env))
        downs.append(run(base + ["down", "-v"], env))
    return name, ups, again, downs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--host", default=os.environ.get("DOCKYARD_HOST", "unix:///run/dockyard/dockyard.sock"))
    ap.add_argument("--docker-host", default="unix:///tmp/refdocker/docker.sock")
    ap.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="compose-bench-"))
    path = write_app(work, free_port(), condition="service_started")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
    env["PYTHONPATH"] = str(ROOT / "src")
    rows = []
    try:
        ours = [a.python, "-m", "dockyard.cli", "-H", a.host, "compose", "-f", str(path), "-p", "benchdy"]
        rows.append(bench("dockyard compose -> dockyardd", ours, env, a.n))
        (work / "wide").mkdir()
        (work / "wide" / "compose.yaml").write_text(WIDE)
        wide = [a.python, "-m", "dockyard.cli", "-H", a.host, "compose", "-f", str(work / "wide" / "compose.yaml"),
                "-p", "benchwide"]
        rows.append(bench("wide app: dockyard compose", wide, env, a.n))
        dc = shutil.which("docker-compose")
        if dc:
            rows.append(bench("docker-compose 1.29 -> dockyardd", [dc, "-f", str(path), "-p", "benchdc"],
                              {**env, "DOCKER_HOST": a.host}, a.n))
            denv = {**env, "DOCKER_HOST": a.docker_host}
            if subprocess.run(["docker", "info"], capture_output=True, env=denv).returncode == 0:
                try:
                    rows.append(bench("docker-compose 1.29 -> Docker", [dc, "-f", str(path), "-p", "benchref"],
                                      denv, a.n))
                except SystemExit as exc:
                    print(f"Docker engine row skipped: {str(exc).splitlines()[-1]}", file=sys.stderr)
                finally:
                    subprocess.run([dc, "-f", str(path), "-p", "benchref", "down", "-v", "--rmi", "local"],
                                   capture_output=True, env=denv)
    finally:
        subprocess.run(ours + ["down", "-v", "--rmi", "local"], capture_output=True, env=env)
        subprocess.run([a.python, "-m", "dockyard.cli", "-H", a.host, "compose", "-f",
                        str(work / "wide" / "compose.yaml"), "-p", "benchwide", "down", "-t", "1"],
                       capture_output=True, env=env)
        if shutil.which("docker-compose"):
            subprocess.run(["docker-compose", "-f", str(path), "-p", "benchdc", "down", "-v", "--rmi", "local"],
                           capture_output=True, env={**env, "DOCKER_HOST": a.host})
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'case (median of %d)' % a.n:36} {'up -d':>11} {'up again':>11} {'down -v':>11}")
    for name, ups, again, downs in rows:
        print(f"{name:36} {fmt(ups):>11} {fmt(again):>11} {fmt(downs):>11}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
