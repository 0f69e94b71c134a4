#!/usr/bin/env python3
"""Network setup cost and published-port throughput.

    bench/net_bench.py [-H unix:///run/dockyard/dockyard.sock] [-n 20] [--seconds 3]
                       [--docker-host unix:///var/run/docker.sock]

Prints medians of `run --rm busybox true` with the default bridge and with
`--network none` (the difference is the network setup + teardown cost), and
HTTP requests/s (sequential GETs, a new connection each, as busybox httpd
closes them) to busybox httpd: in a container through a port published on
127.0.0.1 (kernel NAT), and the same httpd run on the host. Docker's
published port is measured too when a Docker engine with a bridge answers on
--docker-host. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def median_ms(cmd: list[str], n: int) -> float | None:
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        return None
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        out.append(time.perf_counter() - t0)
    return statistics.median(out) * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rps(port: int, seconds: float) -> float:
    deadline = time.monotonic() + 5
    while True:  # wait until it answers
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                return 0.0
            time.sleep(0.05)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/index.html")
        c.getresponse().read()
        c.close()
        n += 1
    return n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-H", "--host", default="unix:///run/dockyard/dockyard.sock")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--docker-host", default="")
    a = ap.parse_args()
    cli = [sys.executable, "-m", "dockyard.cli", "-H", a.host]
    bridge = median_ms(cli + ["run", "--rm", "busybox", "true"], a.n)
    none = median_ms(cli + ["run", "--rm", "--network", "none", "busybox", "true"], a.n)
    print(f"run --rm busybox true, default bridge : {bridge:.1f} ms" if bridge else "bridge run failed")
    print(f"run --rm busybox true, --network none : {none:.1f} ms" if none else "none run failed")
    if bridge and none:
        print(f"network setup + teardown             : {bridge - none:.1f} ms")

    port = free_port()
    name = f"netbench{os.getpid()}"
    subprocess.run(cli + ["run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c",
                          "echo hello > /tmp/index.html && httpd -f -p 80 -h /tmp"], check=True, capture_output=True)
    try:
        published = rps(port, a.seconds)
    finally:
        subprocess.run(cli + ["rm", "-f", name], capture_output=True)
    busybox = shutil.which("busybox")
    host_rps = 0.0
    if busybox:
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "index.html"), "w") as fh:
                fh.write("hello\n")
            hport = free_port()
            proc = subprocess.Popen([busybox, "httpd", "-f", "-p", f"127.0.0.1:{hport}", "-h", d])
            try:
                host_rps = rps(hport, a.seconds)
            finally:
                proc.terminate()
                proc.wait(5)
    print(f"httpd via published port (kernel NAT) : {published:.0f} req/s")
    print(f"httpd on the host                     : {host_rps:.0f} req/s")
    if host_rps:
        print(f"published / host                      : {published / host_rps:.0%}")
    if a.docker_host:
        dport = free_port()
        docker = ["docker", "-H", a.docker_host]
        cp = subprocess.run(docker + ["run", "-d", "-p", f"127.0.0.1:{dport}:80", "busybox", "sh", "-c",
                                      "echo hello > /tmp/index.html && httpd -f -p 80 -h /tmp"],
                            capture_output=True, text=True)
        if cp.returncode == 0:
            try:
                print(f"Docker published port                 : {rps(dport, a.seconds):.0f} req/s")
            finally:
                subprocess.run(docker + ["rm", "-f", cp.stdout.strip()], capture_output=True)
        else:
            print(f"Docker published port                 : n/a ({cp.stderr.strip()[:80]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
