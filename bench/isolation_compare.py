"""Run the isolation probe (tests/integration/security/probe.c) in Dockyard and in a
reference Docker engine with the same flags, and print every result that differs.

    .venv/bin/python bench/isolation_compare.py [--docker-host unix:///tmp/refdocker/docker.sock]

A private dockyardd is started on temporary roots and stopped at the end; the
probe image is removed from the reference engine again. Both engines are driven
by the real docker CLI, so only the engines differ.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
PROBE_C = ROOT / "tests" / "integration" / "security" / "probe.c"
IMAGE = "dyprobe-compare:latest"
VARIANTS: list[tuple[str, list[str]]] = [
    ("default", []),
    ("-u 1000", ["-u", "1000"]),
    ("--cap-drop ALL --cap-add SYS_ADMIN, nnp, ro, unconfined",
     ["--cap-drop", "ALL", "--cap-add", "SYS_ADMIN", "--security-opt", "no-new-privileges", "--read-only",
      "--security-opt", "seccomp=unconfined"]),
    ("--privileged", ["--privileged"]),
    ("systempaths=unconfined", ["--security-opt", "systempaths=unconfined"]),
]


def docker(host: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    cp = subprocess.run(["docker", "-H", host, *args], capture_output=True, text=True, timeout=120, env=env)
    if check and cp.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)}: {cp.stderr}")
    return cp


def probe(host: str, flags: list[str]) -> dict[str, str]:
    cp = docker(host, "run", "--rm", "--network", "none", *flags, IMAGE, "/bin/busybox", str(os.getpid()),
                check=False)
    if cp.returncode != 0:
        return {"run": f"failed ({cp.stderr.strip().splitlines()[0][-60:] if cp.stderr.strip() else cp.returncode})"}
    return dict(line.split("=", 1) for line in cp.stdout.splitlines() if "=" in line) | {"run": "ok"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docker-host", default="unix:///tmp/refdocker/docker.sock")
    a = ap.parse_args()
    if docker(a.docker_host, "version", check=False).returncode != 0:
        print(f"no Docker engine answers on {a.docker_host}")
        return 1
    base = Path(tempfile.mkdtemp(prefix="dyiso-"))
    proc = None
    try:
        subprocess.run(["gcc", "-static", "-O2", "-o", str(base / "probe"), str(PROBE_C)], check=True, timeout=60)
        from dockyard.image.seed import build_archive

        tar = base / "probe.tar"
        tar.write_bytes(build_archive(base / "probe", tag=IMAGE, full_name="docker.io/library/" + IMAGE))
        sock = base / "exec" / "dockyard.sock"
        tag = secrets.token_hex(3)
        with open(base / "dockyardd.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dockyard.daemon.main", "--data-root", str(base / "data"), "--exec-root",
                 str(base / "exec"), "-H", f"unix://{sock}", "--cgroup-parent", f"dyiso-{tag}",
                 "--bridge-name", f"dyiso{tag}", "--iptables-chain-prefix", f"DYISO{tag}",
                 "--registry-loopback-only", "--config-file", "/dev/null"],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                start_new_session=True)
        ours = f"unix://{sock}"
        deadline = time.monotonic() + 20
        while docker(ours, "version", check=False).returncode != 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit((base / "dockyardd.log").read_text())
            time.sleep(0.1)
        for host in (ours, a.docker_host):
            docker(host, "load", "-q", "-i", str(tar))
        same = 0
        print(f"{'variant':<58} {'key':<16} {'dockyard':<22} docker")
        for name, flags in VARIANTS:
            mine, ref = probe(ours, flags), probe(a.docker_host, flags)
            for key in sorted(set(mine) | set(ref)):
                if mine.get(key) != ref.get(key):
                    print(f"{name:<58} {key:<16} {mine.get(key, '-'):<22} {ref.get(key, '-')}")
                else:
                    same += 1
        print(f"({same} results identical)")
        return 0
    finally:
        docker(a.docker_host, "rmi", "-f", IMAGE, check=False)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
