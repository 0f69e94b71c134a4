"""Build timings: cold build, no-op rebuild, one-file-change rebuild, beside Docker's classic builder.

The Dockerfile has 8 instructions (two COPY + RUN pairs) over a 5 MB,
200-file context.  "cold" is ``--no-cache``; the rebuilds use the cache.
Docker runs with ``DOCKER_BUILDKIT=0`` (the classic builder) when an engine
answers on ``--docker-host`` with a ``busybox`` image (loaded from our seed
when missing, and removed again afterwards).

    bench/build_bench.py [-n 3] [--host unix:///run/dockyard/dockyard.sock] [--docker-host ...]
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

DOCKERFILE = """\
FROM busybox
ENV APP=/app
WORKDIR /app
COPY deps/ ./deps/
RUN cat deps/* | wc -c > /deps.size
COPY src/ ./src/
RUN ls src | wc -l > /src.count
CMD ["sh"]
"""


def make_context(root: str) -> None:
    os.makedirs(os.path.join(root, "deps"))
    os.makedirs(os.path.join(root, "src"))
    for i in range(200):
        sub = "deps" if i < 100 else "src"
        with open(os.path.join(root, sub, f"file{i}"), "wb") as f:
            f.write(os.urandom(25 * 1024))
    with open(os.path.join(root, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    cp = subprocess.run(cmd, capture_output=True, env=env)
    dt = time.perf_counter() - t0
    if cp.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {cp.stderr.decode()[-500:]}")
    return dt


def measure(cli: list[str], ctx: str, n: int, env: dict[str, str], tag: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"cold": [], "no-op": [], "one file": []}
    for _ in range(n):
        out["cold"].append(timed([*cli, "build", "--no-cache", "-q", "-t", tag, ctx], env))
        out["no-op"].append(timed([*cli, "build", "-q", "-t", tag, ctx], env))
        with open(os.path.join(ctx, "src", "file150"), "ab") as f:
            f.write(b"x")
        out["one file"].append(timed([*cli, "build", "-q", "-t", tag, ctx], env))
    return out


def med(xs: list[float] | None) -> str:
    return f"{statistics.median(xs):7.3f} s" if xs else "    n/a"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--dockyard", default=shutil.which("dockyard") or "dockyard")
    ap.add_argument("--host", default="")
    ap.add_argument("--docker-host", default="unix:///tmp/refdocker/docker.sock")
    a = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    tag = "dockyard-build-bench:latest"
    with tempfile.TemporaryDirectory(prefix="dy-build-bench-") as tmp:
        ctx = os.path.join(tmp, "ctx")
        make_context(ctx)
        ours_cli = [a.dockyard, *(["-H", a.host] if a.host else [])]
        ours = measure(ours_cli, ctx, a.n, env, tag)
        subprocess.run([*ours_cli, "rmi", tag], capture_output=True)
        subprocess.run([*ours_cli, "image", "prune", "-f"], capture_output=True)  # the retagged builds
        theirs = None
        docker = shutil.which("docker")
        dcli = [docker or "docker", "-H", a.docker_host]
        if docker and subprocess.run([*dcli, "info"], capture_output=True, env=env).returncode == 0:
            loaded = False
            if subprocess.run([*dcli, "image", "inspect", "busybox"], capture_output=True).returncode != 0:
                seed = os.path.join(tmp, "busybox.tar")
                subprocess.run([sys.executable, "-m", "dockyard.image.seed", "--busybox",
                                os.path.realpath("/bin/busybox"), "-o", seed], check=True)
                subprocess.run([*dcli, "load", "-i", seed], check=True, capture_output=True)
                loaded = True
            try:
                theirs = measure(dcli, ctx, a.n, {**env, "DOCKER_BUILDKIT": "0"}, tag)
            finally:
                subprocess.run([*dcli, "rmi", tag], capture_output=True)
                subprocess.run([*dcli, "builder", "prune", "-f"], capture_output=True)
                if loaded:
                    subprocess.run([*dcli, "rmi", "busybox"], capture_output=True)
    print("8 instructions, 200 files / 5 MB context; medians of", a.n)
    print(f"{'case':<10}{'dockyard':>12}{'docker classic':>16}")
    for case in ("cold", "no-op", "one file"):
        print(f"{case:<10}{med(ours[case]):>12}{med(theirs[case] if theirs else None):>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
