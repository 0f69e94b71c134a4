#!/usr/bin/env python3
"""``exec CONTAINER true`` latency, beside Docker's when a Docker engine answers.

    bench/exec_bench.py [-n 30] [--host unix:///run/dockyard/dockyard.sock]
                        [--docker-host unix:///tmp/refdocker/docker.sock]

Starts one ``busybox sleep`` container per engine, then times the whole
user-visible ``exec`` (CLI start, exec create, hijacked start, exit code via
inspect) with our CLI, and with the docker CLI against both engines, in
round robin so that load from elsewhere hits every row alike.  The "via API"
rows time only the engine's part (exec create + start over the socket, no
CLI start-up: less noise).  Prints medians and p90; removes its containers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

from run_bench import timed  # bench/ is the script's directory: on sys.path

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def api_exec(sock_path: str, cid: str) -> float:
    """One ``exec true`` over the Engine API (create, then start until the stream ends)."""
    import json
    import socket

    def call(path: str, body: dict) -> bytes:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sock_path)
            data = json.dumps(body).encode()
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out

    t0 = time.perf_counter()
    reply = call(f"/v1.41/containers/{cid}/exec", {"Cmd": ["true"], "AttachStdout": True, "AttachStderr": True})
    head, _, body = reply.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        body = body.split(b"\r\n")[1]
    call(f"/v1.41/exec/{json.loads(body)['Id']}/start", {"Detach": False, "Tty": False})
    return time.perf_counter() - t0


def row(name: str, xs: list[float] | None) -> str:
    if not xs:
        return f"{name:<34} {'n/a':>10} {'n/a':>10}"
    xs = sorted(xs)
    return f"{name:<34} {statistics.median(xs) * 1000:>8.1f}ms {xs[int(len(xs) * 0.9) - 1] * 1000:>8.1f}ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--host", default="unix:///run/dockyard/dockyard.sock")
    ap.add_argument("--docker-host", default="unix:///tmp/refdocker/docker.sock")
    a = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": SRC}
    ours = [sys.executable, "-IS", "-c", f"import sys; sys.path.insert(0, {SRC!r}); "
            "from dockyard.cli.main import main; sys.exit(main())", "-H", a.host]
    docker = shutil.which("docker")
    engines = [("dockyardd", ours), ("dockyardd", [docker, "-H", a.host] if docker else None)]
    if docker and subprocess.run([docker, "-H", a.docker_host, "info"], capture_output=True).returncode == 0:
        engines.append(("docker engine", [docker, "-H", a.docker_host]))
    print(f"{'exec CONTAINER true (n=%d)' % a.n:<34} {'median':>10} {'p90':>10}")
    made: list[tuple[list[str], str]] = []
    rows: list[tuple[str, list[str]]] = []
    api_rows: list[tuple[str, str, str]] = []  # label, socket path, container
    try:
        for engine, cli in engines:
            if cli is None:
                continue
            cp = subprocess.run([*cli, "run", "-d", "busybox", "sleep", "600"], capture_output=True, env=env)
            label = f"{engine} via {'dockyard' if cli is ours else 'docker CLI'}"
            if cp.returncode != 0:
                print(row(label, None))
                continue
            cid = cp.stdout.decode().strip()
            made.append((cli, cid))
            rows.append((label, [*cli, "exec", cid, "true"]))
            host = a.host if cli is ours else a.docker_host if engine == "docker engine" else ""
            if host.startswith("unix://"):  # one API row per engine
                api_rows.append((f"{engine} via API", host[len("unix://"):], cid))
        # Round robin, one run of each per round: a busy machine then slows every row alike.
        times: dict[str, list[float] | None] = {label: [] for label, _ in rows}
        for label, cmd in rows:
            if timed(cmd, 0, env) is None:  # warm-up
                times[label] = None
        for _ in range(a.n):
            for label, cmd in rows:
                got = times[label]
                if got is not None:
                    one = timed(cmd, 1, env, warm=False)
                    times[label] = None if one is None else got + one
        api: dict[str, list[float]] = {label: [] for label, _, _ in api_rows}
        for i in range(a.n + 2):
            for label, path, cid in api_rows:
                took = api_exec(path, cid)
                if i >= 2:  # warm-up
                    api[label].append(took)
        for label, _ in rows:
            print(row(label, times[label]))
        for label, _, _ in api_rows:
            print(row(label, api[label]))
    finally:
        for cli, cid in made:
            subprocess.run([*cli, "rm", "-f", cid], capture_output=True, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
