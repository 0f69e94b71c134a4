"""Push and pull a ~100 MB, 5-layer image to/from a local registry; print a table.

    .venv/bin/python bench/pull_push_bench.py [--host unix:///run/dockyard/dockyard.sock]
                                             [--docker-host unix:///var/run/docker.sock] [--mb 100]

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
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from registries import DistributionRegistry  # noqa: E402


def build_tar(path: Path, total_mb: int, layers: int = 5) -> None:
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
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tar = Path(tmp) / "big.tar"
        build_tar(tar, a.mb)
        reg = DistributionRegistry(Path(tmp) / "registry")
        try:
            rows = [("dockyard", *run_engine(["dockyard", "-H", a.host], tar, reg.host, "dy"))]
            docker = ["docker", "-H", a.docker_host]
            if subprocess.run([*docker, "version"], capture_output=True, timeout=10).returncode == 0:
                rows.append(("docker", *run_engine(docker, tar, reg.host, "dk")))
        finally:
            reg.stop()
    print(f"{a.mb} MB, 5 layers, local registry {'':>4}push (s)   pull (s)")
    for name, push, pull in rows:
        print(f"{name:<40}{push:>8.2f}   {pull:>8.2f}")
    if len(rows) == 1:
        print("(no Docker engine answered on --docker-host: no reference numbers)")


if __name__ == "__main__":
    main()
