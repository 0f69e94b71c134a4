#!/usr/bin/env python3
"""Push and pull of a 100 MB, 5-layer image: ``dockyard registry`` vs Debian's ``docker-registry``.

    bench/registry_bench.py [-n 3] [--layer-mb 20] [--layers 5]

The same client (skopeo) copies an OCI layout into each registry and back
out to a fresh layout; each registry starts empty for every push, on
127.0.0.1, storing under a temporary directory.  Prints medians in seconds
and throughput.  Target: dockyard at least as fast as docker-registry.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_layout(dest: Path, layers: int, layer_mb: int) -> None:
    """An OCI image layout with ``layers`` uncompressed tar layers of random bytes."""
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        h = hashlib.sha256(data).hexdigest()
        (blobs / h).write_bytes(data)
        return "sha256:" + h

    descs = []
    for i in range(layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            payload = os.urandom(layer_mb << 20)
            info = tarfile.TarInfo(f"layer{i}.bin")
            info.size, info.mtime = len(payload), 0
            tar.addfile(info, io.BytesIO(payload))
        data = buf.getvalue()
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": put(data), "size": len(data)})
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": put(config), "size": len(config)},
                           "layers": descs}).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": put(manifest), "size": len(manifest),
                                                "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}
    (dest / "index.json").write_text(json.dumps(index))
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"registry exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("registry did not start")


def start(kind: str, root: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if kind == "dockyard":
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        cmd = [str(ROOT / ".venv" / "bin" / "python"), "-m", "dockyard.registry.server", "serve", "--quiet",
               "--addr", f"127.0.0.1:{port}", "--root", str(root)]
    else:
        conf = root.parent / f"{root.name}.yml"
        conf.write_text(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n"
                        f"  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: 127.0.0.1:{port}\n")
        env, cmd = dict(os.environ), ["docker-registry", "serve", str(conf)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_up(port, proc)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def skopeo(src: str, dst: str) -> float:
    t = time.perf_counter()
    subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false", src, dst],
                   check=True, capture_output=True, timeout=600)
    return time.perf_counter() - t


def measure(kind: str, layout: Path, work: Path, n: int) -> tuple[list[float], list[float]]:
    pushes, pulls = [], []
    for i in range(n):
        root = work / f"{kind}-{i}"
        proc, port = start(kind, root)
        try:
            pushes.append(skopeo(f"oci:{layout}:bench", f"docker://127.0.0.1:{port}/bench/image:1"))
            out = work / f"pulled-{kind}-{i}"
            pulls.append(skopeo(f"docker://127.0.0.1:{port}/bench/image:1", f"oci:{out}:x"))
            shutil.rmtree(out)
        finally:
            stop(proc)
            shutil.rmtree(root, ignore_errors=True)
    return pushes, pulls


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--layers", type=int, default=5)
    ap.add_argument("--layer-mb", type=int, default=20)
    args = ap.parse_args()
    for tool in ("skopeo", "docker-registry"):
        if shutil.which(tool) is None:
            print(f"{tool} not found (apt-get install {tool})", file=sys.stderr)
            return 1
    mb = args.layers * args.layer_mb
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        work = Path(tmp)
        write_layout(work / "layout", args.layers, args.layer_mb)
        rows = []
        for kind in ("dockyard", "docker-registry"):
            pushes, pulls = measure(kind, work / "layout", work, args.n)
            rows.append((kind, statistics.median(pushes), statistics.median(pulls)))
    print(f"{mb} MB in {args.layers} layers, skopeo copy, median of {args.n}")
    print(f"{'registry':<18}{'push s':>9}{'MB/s':>8}{'pull s':>9}{'MB/s':>8}")
    for kind, push, pull in rows:
        print(f"{kind:<18}{push:>9.2f}{mb / push:>8.0f}{pull:>9.2f}{mb / pull:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
