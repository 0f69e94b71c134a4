"""Push and pull a ~100 MB, 5-layer image to/from a local registry; print a table.

    .venv/bin/python bench/pull_push_bench.py [--host unix:///run/dockyard/dockyard.sock]
                                             [--docker-host unix:///var/run/docker.sock] [--mb 100]
                                             [--rounds 5]

Starts Debian's ``docker-registry`` on a free 127.0.0.1 port (stopped by pid
at the end), builds the image as a ``docker save`` tarball (layers of
half-random, half-repetitive data, so gzip has real work), loads it, then
times ``push`` (fresh repository) and ``pull`` (after ``rmi``).  With
``--docker-host`` answering, the same is timed with Docker on the same machine.

"push local" times the push of a *locally built* image: a tarball of
uncompressed layers (as ``build``/``commit`` store them; half random, half
word-salad text, so gzip has real but realistic work), loaded and pushed to a
fresh repository, so each engine has to gzip every layer on the way out.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
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


def _text(n: int, rng: random.Random) -> bytes:
    """``n`` bytes of word salad: compresses about as well as source code or man pages."""
    vocab = [bytes(rng.choices(range(97, 123), k=rng.randint(2, 10))) for _ in range(4000)]
    words = rng.choices(vocab, k=n // 5)
    out = b" ".join(words).replace(b"a ", b"a\n", n // 400)
    return (out * (n // max(1, len(out)) + 1))[:n]


def build_tar(path: Path, total_mb: int, layers: int = 5, small: int = 0, local: bool = False) -> None:
    """``small``: files per layer (a few KB each, 3 directories deep) besides the big one, as in a distro layer.

    ``local``: uncompressed layers of random + text data, as a locally built image is stored."""
    per = total_mb * (1 << 20) // layers
    rng = random.Random(7)
    diff_ids, names = [], []
    with tarfile.open(path, "w") as out:
        for i in range(layers):
            raw = io.BytesIO()
            with tarfile.open(fileobj=raw, mode="w") as tf:
                data = (os.urandom(per // 2) + _text(per - per // 2, rng) if local
                        else os.urandom(per // 2) + bytes(range(256)) * (per // 512))
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
            blob = tar if local else gzip.compress(tar, compresslevel=1, mtime=0)
            name = f"layer{i}.tar" if local else f"layer{i}.tar.gz"
            names.append(name)
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            out.addfile(info, io.BytesIO(blob))
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
        cname = hashlib.sha256(config).hexdigest() + ".json"
        for name, data in ((cname, config), ("manifest.json", json.dumps(
                [{"Config": cname, "RepoTags": ["bench/local:1" if local else "bench/big:1"],
                  "Layers": names}]).encode())):
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


def push_local(cli: list[str], tar: Path, reg: str, tag: str) -> float:
    """Push of a locally built image (uncompressed layers): the engine gzips every layer."""
    subprocess.run([*cli, "load", "-q", "-i", str(tar)], check=True, capture_output=True, timeout=600)
    target = f"{reg}/bench/{tag}-local:1"
    subprocess.run([*cli, "tag", "bench/local:1", target], check=True, capture_output=True)
    try:
        return timed([*cli, "push", target])
    finally:
        subprocess.run([*cli, "rmi", target, "bench/local:1"], capture_output=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="unix:///run/dockyard/dockyard.sock")
    p.add_argument("--docker-host", default="unix:///var/run/docker.sock")
    p.add_argument("--mb", type=int, default=100)
    p.add_argument("--rounds", type=int, default=1, help="repeat (a fresh registry each time); report medians")
    p.add_argument("--small-files", type=int, default=0, help="also this many small files per layer")
    p.add_argument("--local-only", action="store_true", help="only the push of a locally built image")
    a = p.parse_args()
    engines = [("dockyard", ["dockyard", "-H", a.host], "dy")]
    docker = ["docker", "-H", a.docker_host]
    if subprocess.run([*docker, "version"], capture_output=True, timeout=10).returncode == 0:
        engines.append(("docker", docker, "dk"))
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in engines}
    local_times: dict[str, list[float]] = {name: [] for name, _, _ in engines}
    with tempfile.TemporaryDirectory() as tmp:
        tar, local_tar = Path(tmp) / "big.tar", Path(tmp) / "local.tar"
        if not a.local_only:
            build_tar(tar, a.mb, small=a.small_files)
        build_tar(local_tar, a.mb, local=True)
        for r in range(a.rounds):
            reg = DistributionRegistry(Path(tmp) / f"registry{r}")
            try:
                for name, cli, tag in engines:  # the same registry state for both: each pushes fresh blobs
                    if not a.local_only:
                        times[name].append(run_engine(cli, tar, reg.host, f"{tag}{r}"))
                    local_times[name].append(push_local(cli, local_tar, reg.host, f"{tag}{r}"))
            finally:
                reg.stop()
    what = f"{a.mb} MB, 5 layers" + (f" (+{a.small_files} files each)" if a.small_files else ", local registry")
    med = "   (medians of %d)" % a.rounds if a.rounds > 1 else ""
    print(f"{what:<36}{'':>4}push (s)   pull (s)   push local (s){med}")
    for name in times:
        rows, local = times[name], local_times[name]
        push_s = f"{statistics.median(x for x, _ in rows):>8.2f}" if rows else f"{'-':>8}"
        pull_s = f"{statistics.median(y for _, y in rows):>8.2f}" if rows else f"{'-':>8}"
        print(f"{name:<40}{push_s}   {pull_s}   {statistics.median(local):>14.2f}")
    if a.rounds > 1:
        for name, rows in times.items():
            print(f"  {name} push: {' '.join(f'{x:.2f}' for x, _ in rows)}   pull: {' '.join(f'{y:.2f}' for _, y in rows)}"
                  f"   push local: {' '.join(f'{x:.2f}' for x in local_times[name])}")
    print("push local: a locally built image (uncompressed layers, half random, half text): each engine gzips")
    if len(engines) == 1:
        print("(no Docker engine answered on --docker-host: no reference numbers)")


if __name__ == "__main__":
    main()
