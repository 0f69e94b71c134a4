"""Push and pull a ~100 MB, 5-layer image to/from a local registry; print a table.

    .venv/bin/python bench/pull_push_bench.py [--host unix:///run/dockyard/dockyard.sock]
                                             [--docker-host unix:///var/run/docker.sock] [--mb 100]
                                             [--rounds 5]

Starts Debian's ``docker-registry`` on a free 127.0.0.1 port (stopped by pid
at the end), builds the image as a ``docker save`` tarball (layers of
half-random, half-repetitive data, so gzip has real work), loads it, then
times ``push`` (fresh repository) and ``pull`` (after ``rmi``).  With
``--docker-host`` answering, the same is timed with Docker on the same machine.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from registries import DistributionRegistry  # noqa: E402


def build_tar(path: Path, total_mb: int, layers: int = 5, small: int = 0) -> None:
    """``small``: files per layer (a few KB each, 3 directories deep) besides the big one, as in a distro layer."""
    per = total_mb * (1 << 20) // layers
    diff_ids, names = [], []
    with tarfile.open(path, "w") as out:
        for i in range(layers):
            raw = io.BytesIO()
            with tarfile.open(fileobj=raw, mode="w") as tf:
                data = os.urandom(per // 2) + bytes(range(256)) * (per // 512)
                info = tarfile.TarInfo(f"data{i}.bin")
                info.size, info.mtime = len(data), 1_700_000_000
                tf.addfile(info, io.BytesIO(data))
                for k in range(small):
                    body = f"layer {i} file {k}\n".encode() * (k % 200 + 1)
                    info = tarfile.TarInfo(f"usr/share/l{i}/d{k // 50}/f{k}.txt")
                    info.size, info.mtime = len(body), 1_700_000_000
                    tf.addfile(info, io.BytesIO(body))
            tar = raw.getvalue()
            diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
            blob = gzip.compress(tar, compresslevel=1, mtime=0)
            name = f"layer{i}.tar.gz"
            names.append(name)
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            out.addfile(info, io.BytesIO(blob))
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
        cname = hashlib.sha256(config).hexdigest() + ".json"
        for name, data in ((cname, config), ("manifest.json", json.dumps(
                [{"Config": cname, "RepoTags": ["bench/big:1"], "Layers": names}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def timed(cmd: list[str]) -> float:
    t = time.monotonic()
    cp = subprocess.run(cmd, capture_output=True, timeout=600)
    if cp.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{cp.stderr.decode()}")
    return time.monotonic() - t


def run_engine(cli: list[str], tar: Path, reg: str, tag: str) -> tuple[float, float]:
    subprocess.run([*cli, "load", "-q", "-i", str(tar)], check=True, capture_output=True, timeout=600)
    target = f"{reg}/bench/{tag}:1"
    subprocess.run([*cli, "tag", "bench/big:1", target], check=True, capture_output=True)
    push = timed([*cli, "push", target])
    subprocess.run([*cli, "rmi", target, "bench/big:1"], capture_output=True)
    pull = timed([*cli, "pull", target])
    subprocess.run([*cli, "rmi", target], capture_output=True)
    return push, pull


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="unix:///run/dockyard/dockyard.sock")
    p.add_argument("--docker-host", default="unix:///var/run/docker.sock")
    p.add_argument("--mb", type=int, default=100)
    p.add_argument("--rounds", type=int, default=1, help="repeat (a fresh registry each time); report medians")
    p.add_argument("--small-files", type=int, default=0, help="also this many small files per layer")
    a = p.parse_args()
    engines = [("dockyard", ["dockyard", "-H", a.host], "dy")]
    docker = ["docker", "-H", a.docker_host]
    if subprocess.run([*docker, "version"], capture_output=True, timeout=10).returncode == 0:
        engines.append(("docker", docker, "dk"))
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in engines}
    with tempfile.TemporaryDirectory() as tmp:
        tar = Path(tmp) / "big.tar"
        build_tar(tar, a.mb, small=a.small_files)
        for r in range(a.rounds):
            reg = DistributionRegistry(Path(tmp) / f"registry{r}")
            try:
                for name, cli, tag in engines:  # the same registry state for both: each pushes fresh blobs
                    times[name].append(run_engine(cli, tar, reg.host, f"{tag}{r}"))
            finally:
                reg.stop()
    what = f"{a.mb} MB, 5 layers" + (f" (+{a.small_files} files each)" if a.small_files else ", local registry")
    print(f"{what:<36}{'':>4}push (s)   pull (s)"
          + ("   (median of %d; pull runs: see below)" % a.rounds if a.rounds > 1 else ""))
    for name, rows in times.items():
        print(f"{name:<40}{statistics.median(x for x, _ in rows):>8.2f}   {statistics.median(y for _, y in rows):>8.2f}")
    if a.rounds > 1:
        for name, rows in times.items():
            print(f"  {name} push: {' '.join(f'{x:.2f}' for x, _ in rows)}   pull: {' '.join(f'{y:.2f}' for _, y in rows)}")
    if len(engines) == 1:
        print("(no Docker engine answered on --docker-host: no reference numbers)")


if __name__ == "__main__":
    main()
