#!/usr/bin/env python3
"""Speed of `load` and `save` of a 100 MB, 5-layer image, beside Docker's when a Docker engine answers.

    bench/image_archive_bench.py [-n 3] [--mb 100] [--host unix:///run/dockyard/dockyard.sock]
                                 [--docker-host unix:///tmp/refdocker/docker.sock]

The image is generated (deterministic pseudo-random files, 5 uncompressed
layers of equal size, as `docker save` writes them) into a temp dir; each
engine loads it (`load -i`) and saves it back (`save -o`), the image being
removed between runs.  Prints medians.  Dockyard runs through its own CLI,
Docker through the docker CLI: both include CLI start-up.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

TAG = "dy-bench-archive:1"


def make_archive(path: str, total_mb: int, layers: int = 5) -> None:
    rng = random.Random(7)
    per_layer = total_mb * 1_000_000 // layers
    blobs: list[bytes] = []
    for i in range(layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
            left, n = per_layer, 0
            while left > 0:
                size = min(left, rng.choice([4096, 65536, 1 << 20, 4 << 20]))
                ti = tarfile.TarInfo(f"layer{i}/f{n:05d}")
                ti.size, ti.mtime = size, 1_700_000_000
                tf.addfile(ti, io.BytesIO(rng.randbytes(size)))
                left -= size
                n += 1
        blobs.append(buf.getvalue())
    diff_ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "history": [{"created_by": f"layer {i}"} for i in range(layers)]}).encode()
    files = {f"blobs/sha256/{d[7:]}": b for d, b in zip(diff_ids, blobs)}
    cfg_hex = hashlib.sha256(config).hexdigest()
    files[f"blobs/sha256/{cfg_hex}"] = config
    files["manifest.json"] = json.dumps([{"Config": f"blobs/sha256/{cfg_hex}", "RepoTags": [TAG],
                                          "Layers": [f"blobs/sha256/{d[7:]}" for d in diff_ids]}]).encode()
    with tarfile.open(path, "w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))


def measure(cli: list[str], archive: str, out: str, n: int) -> tuple[list[float], list[float]] | None:
    loads, saves = [], []
    for _ in range(n):
        subprocess.run([*cli, "rmi", TAG], capture_output=True)
        t0 = time.perf_counter()
        cp = subprocess.run([*cli, "load", "-i", archive], capture_output=True)
        loads.append(time.perf_counter() - t0)
        if cp.returncode != 0:
            print(f"{cli[0]} load failed: {cp.stderr.decode()}", file=sys.stderr)
            return None
        t0 = time.perf_counter()
        cp = subprocess.run([*cli, "save", "-o", out, TAG], capture_output=True)
        saves.append(time.perf_counter() - t0)
        if cp.returncode != 0:
            print(f"{cli[0]} save failed: {cp.stderr.decode()}", file=sys.stderr)
            return None
    subprocess.run([*cli, "rmi", TAG], capture_output=True)
    return loads, saves


def med(xs: list[float] | None) -> str:
    return f"{statistics.median(xs):6.2f} s" if xs else "   n/a"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--dockyard", default=shutil.which("dockyard") or "dockyard")
    ap.add_argument("--host", default="")
    ap.add_argument("--docker-host", default=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dy-bench-") as tmp:
        archive, out = os.path.join(tmp, "image.tar"), os.path.join(tmp, "saved.tar")
        make_archive(archive, a.mb)
        print(f"image: {os.path.getsize(archive) / 1e6:.0f} MB archive, 5 layers")
        ours = measure([a.dockyard, *(["-H", a.host] if a.host else [])], archive, out, a.n)
        docker = shutil.which("docker")
        theirs = None
        if docker and subprocess.run([docker, "-H", a.docker_host, "info"], capture_output=True).returncode == 0:
            theirs = measure([docker, "-H", a.docker_host], archive, out, a.n)
    print(f"{'case':<8}{'dockyard':>12}{'docker':>12}")
    for i, case in enumerate(("load", "save")):
        print(f"{case:<8}{med(ours[i] if ours else None):>12}{med(theirs[i] if theirs else None):>12}")
    return 0 if ours else 1


if __name__ == "__main__":
    sys.exit(main())
