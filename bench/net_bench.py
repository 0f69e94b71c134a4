#!/usr/bin/env python3
"""Network setup cost and published-port throughput.

    bench/net_bench.py [-H unix:///run/dockyard/dockyard.sock] [-n 20] [--seconds 3]
                       [--docker-host unix:///var/run/docker.sock]

Prints medians of `run --rm busybox true` with the default bridge and with
`--network none`, interleaved (the difference is the network setup +
teardown cost), and HTTP requests/s to busybox httpd: in a container through
a port published on 127.0.0.1 (kernel NAT), and the same httpd run on the
host. busybox httpd closes every connection (no keep-alive), so the load is
`--clients` parallel client threads, each opening a new connection per
request and closing it with RST (why: rps_client; `--ab` uses ApacheBench
instead). Host and published runs alternate for `--rounds` rounds (the
order alternating too) and the medians are compared, so a busy machine
biases neither. Docker's published port is measured too when the
Docker engine at --docker-host has a bridge (an engine run with
--bridge=none, like our reference one, cannot publish ports: "n/a"). All
traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import re
import tempfile
import threading
import time


def interleaved_ms(cmds: dict[str, list[str]], n: int) -> dict[str, float | None]:
    """Median wall time of each command, run in turns (one warm-up each)."""
    out: dict[str, list[float]] = {k: [] for k in cmds}
    ok = {k: subprocess.run(c, capture_output=True).returncode == 0 for k, c in cmds.items()}
    for _ in range(n):
        for k, c in cmds.items():
            if ok[k]:
                t0 = time.perf_counter()
                subprocess.run(c, capture_output=True, check=True)
                out[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) * 1000 if v else None for k, v in out.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def rps_client(port: int, seconds: float, clients: int) -> float:
    """``clients`` threads, each: connect, GET, read to EOF, close with RST
    (SO_LINGER 0). The RST also ends the server's TIME_WAIT: with a plain
    close both ends keep every 4-tuple for 60 s, and once the ephemeral
    ports wrap (~14k connections) a new SYN meeting a TIME_WAIT socket in
    the *container's* namespace stalls for a 1 s SYN retransmit (seen with
    `ab`, also straight to the container's address, no NAT involved); on
    loopback, tcp_tw_reuse=2 hides it. That is a property of the kernel and
    of the load, not of the forwarding path, so we keep it out."""
    counts = [0] * clients
    req = b"GET /index.html HTTP/1.0\r\nHost: bench\r\n\r\n"
    stop = time.perf_counter() + seconds
    linger = struct.pack("ii", 1, 0)

    def client(i: int) -> None:
        while time.perf_counter() < stop:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                s.settimeout(5)
                s.connect(("127.0.0.1", port))
                s.sendall(req)
                while s.recv(65536):
                    pass
            counts[i] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def rps(port: int, seconds: float, clients: int, use_ab: bool = False) -> float:
    """Requests/s of ``clients`` parallel clients for ``seconds``."""
    if not wait_ready(port):
        return 0.0
    ab = shutil.which("ab") if use_ab else None
    if not ab:
        return rps_client(port, seconds, clients)
    cp = subprocess.run([ab, "-q", "-r", "-c", str(clients), "-t", str(seconds), "-n", "10000000",
                         f"http://127.0.0.1:{port}/index.html"], capture_output=True, text=True)
    m = re.search(r"Requests per second:\s+([\d.]+)", cp.stdout)
    return float(m.group(1)) if m else 0.0


HTTPD = "echo hello > /tmp/index.html && exec httpd -f -p 80 -h /tmp"


def docker_published(docker_host: str, port: int) -> str | None:
    """Start busybox httpd on Docker's published port; its id, or None
    (printed why) when the engine cannot publish (e.g. --bridge=none)."""
    docker = ["docker", "-H", docker_host]
    cp = subprocess.run(docker + ["run", "-d", "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c", HTTPD],
                        capture_output=True, text=True)
    if cp.returncode != 0:
        print(f"Docker published port                 : n/a ({cp.stderr.strip()[:90]})")
        return None
    cid = cp.stdout.strip()
    if not wait_ready(port, 3):
        subprocess.run(docker + ["rm", "-f", cid], capture_output=True)
        print("Docker published port                 : n/a (port not reachable: engine without a bridge)")
        return None
    return cid


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-H", "--host", default="unix:///run/dockyard/dockyard.sock")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--ab", action="store_true", help="load with ApacheBench (plain close: see rps_client)")
    ap.add_argument("--docker-host", default="")
    a = ap.parse_args()
    cli = [sys.executable, "-m", "dockyard.cli", "-H", a.host]
    t = interleaved_ms({"bridge": cli + ["run", "--rm", "busybox", "true"],
                        "none": cli + ["run", "--rm", "--network", "none", "busybox", "true"]}, a.n)
    bridge, none = t["bridge"], t["none"]
    print(f"run --rm busybox true, default bridge : {bridge:.1f} ms" if bridge else "bridge run failed")
    print(f"run --rm busybox true, --network none : {none:.1f} ms" if none else "none run failed")
    if bridge and none:
        print(f"network setup + teardown             : {bridge - none:.1f} ms")

    port = free_port()
    name = f"netbench{os.getpid()}"
    subprocess.run(cli + ["run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c", HTTPD],
                   check=True, capture_output=True)
    busybox = shutil.which("busybox")
    published: list[float] = []
    host: list[float] = []
    d = tempfile.mkdtemp()
    proc = None
    try:
        with open(os.path.join(d, "index.html"), "w") as fh:
            fh.write("hello\n")
        hport = free_port()
        if busybox:
            proc = subprocess.Popen([busybox, "httpd", "-f", "-p", f"127.0.0.1:{hport}", "-h", d])
        for i in range(a.rounds):  # alternate which goes first, too
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                if which == 0:
                    published.append(rps(port, a.seconds, a.clients, a.ab))
                elif proc is not None:
                    host.append(rps(hport, a.seconds, a.clients, a.ab))
    finally:
        subprocess.run(cli + ["rm", "-f", name], capture_output=True)
        if proc is not None:
            proc.terminate()
            proc.wait(5)
        shutil.rmtree(d, ignore_errors=True)
    client = f"ab -c {a.clients}" if a.ab and shutil.which("ab") else f"{a.clients} client threads, RST close"
    pub, hst = statistics.median(published), statistics.median(host) if host else 0.0
    print(f"load: {client}, new connection per request, {a.rounds} x {a.seconds:g} s alternating")
    print(f"httpd via published port (kernel NAT) : {pub:.0f} req/s  {[round(x) for x in published]}")
    print(f"httpd on the host                     : {hst:.0f} req/s  {[round(x) for x in host]}")
    if hst:
        pairs = statistics.median(p / h for p, h in zip(published, host) if h)
        print(f"published / host                      : {pub / hst:.0%} (median of per-round ratios {pairs:.0%})")
    if a.docker_host:
        dport = free_port()
        cid = docker_published(a.docker_host, dport)
        if cid:
            try:
                print(f"Docker published port                 : {rps(dport, a.seconds, a.clients, a.ab):.0f} req/s")
            finally:
                subprocess.run(["docker", "-H", a.docker_host, "rm", "-f", cid], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
