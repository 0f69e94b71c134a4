"""dockyard build / docker build (classic API) against a real daemon: instructions, multi-stage, cache, parallel stages."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

MULTI = """\
# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS base
ENV A=1 B="two words"
WORKDIR /app
COPY hello.txt ./
RUN echo "run: $A $B" > /app/run.txt && cat /app/hello.txt
FROM base AS other
ARG WHO=nobody
RUN echo "other $WHO" > /other.txt
FROM busybox
LABEL org.example.x=y
MAINTAINER someone@example.com
COPY --from=other /other.txt /app/run.txt /out/
COPY --chmod=600 --chown=1:2 hello.txt /out/mode.txt
ADD files.tar /extracted/
COPY <<EOF /out/heredoc.txt
value=${A:-unset} literal=\\$A
EOF
RUN <<EOF
echo from-heredoc > /out/script.txt
EOF
EXPOSE 8080 53/udp
VOLUME /data
USER 1000:1000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=2 CMD true
ONBUILD RUN echo triggered
SHELL ["/bin/sh", "-c"]
ENTRYPOINT ["/bin/cat"]
CMD ["/out/other.txt"]
"""


def _context(tmp: Path, dockerfile: str = MULTI) -> Path:
    ctx = tmp / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(dockerfile)
    (ctx / "hello.txt").write_text("hello\n")
    (ctx / "ignored.txt").write_text("secret\n")
    (ctx / ".dockerignore").write_text("ignored.txt\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"inside\n"
        ti = tarfile.TarInfo("dir/in.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    (ctx / "files.tar").write_bytes(buf.getvalue())
    return ctx


def _inspect(daemon, ref: str) -> dict:
    return json.loads(daemon.cli("image", "inspect", ref, check=True).stdout)[0]


def test_multistage_every_instruction_then_run(daemon, tmp_path):
    ctx = _context(tmp_path)
    cp = daemon.cli("build", "-t", "bt-multi:1", "-t", "bt-multi:2", "--build-arg", "WHO=me",
                    "--label", "built=yes", str(ctx), timeout=120)
    out = cp.stdout.decode()
    assert cp.returncode == 0, out + cp.stderr.decode()
    assert "Step 1/" in out and "Successfully tagged bt-multi:2" in out
    info = _inspect(daemon, "bt-multi:1")
    cfg = info["Config"]
    assert info["Author"] == "someone@example.com"
    assert cfg["Entrypoint"] == ["/bin/cat"] and cfg["Cmd"] == ["/out/other.txt"]
    assert cfg["User"] == "1000:1000" and cfg["StopSignal"] == "SIGTERM"
    assert cfg["Labels"] == {"org.example.x": "y", "built": "yes"}
    assert set(cfg["ExposedPorts"]) == {"8080/tcp", "53/udp"} and set(cfg["Volumes"]) == {"/data"}
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000, "Retries": 2}
    assert cfg["OnBuild"] == ["RUN echo triggered"] and cfg["Shell"] == ["/bin/sh", "-c"]
    run = daemon.cli("run", "--rm", "--user", "0", "--entrypoint", "/bin/sh", "bt-multi:1", "-c",
                     "cat /out/other.txt /out/run.txt /out/heredoc.txt /out/script.txt /extracted/dir/in.txt;"
                     " stat -c '%a %u %g' /out/mode.txt", check=True)
    assert run.stdout.decode().splitlines() == [
        "other me", "run: 1 two words", "value=unset literal=$A", "from-heredoc", "inside", "600 1 2"]
    # ONBUILD fires in a child image, and the context honoured .dockerignore
    child = tmp_path / "child"
    child.mkdir()
    (child / "Dockerfile").write_text("FROM bt-multi:1\nUSER 0\nCOPY . /ctx/\n")
    (child / "x").write_text("x")
    (child / ".dockerignore").write_text("Dockerfile\n")
    out = daemon.cli("build", "-t", "bt-child", str(child), check=True).stdout.decode()
    assert "triggered" in out
    ls = daemon.cli("run", "--rm", "--entrypoint", "ls", "bt-child", "-A", "/ctx", check=True).stdout.decode()
    assert ls.split() == [".dockerignore", "x"]  # the Dockerfile was listed, so it is dropped (moby)


def test_cache_and_one_file_change(daemon, tmp_path):
    ctx = _context(tmp_path, "FROM busybox\nRUN echo a > /a\nCOPY hello.txt /h\nRUN cat /h > /h2\n")
    first = daemon.cli("build", "-q", str(ctx), check=True).stdout.decode().strip()
    again = daemon.cli("build", "-q", str(ctx), check=True).stdout.decode().strip()
    assert first == again  # a no-op rebuild gives the same image
    out = daemon.cli("build", str(ctx), check=True).stdout.decode()
    assert out.count("Using cache") == 3
    (ctx / "hello.txt").write_text("changed\n")
    changed = daemon.cli("build", str(ctx), check=True).stdout.decode()
    assert changed.count("Using cache") == 1  # only the RUN before the COPY
    nocache = daemon.cli("build", "--no-cache", str(ctx), check=True).stdout.decode()
    assert "Using cache" not in nocache
    pruned = daemon.cli("builder", "prune", "-f", check=True).stdout.decode()
    assert "Total reclaimed space" in pruned
    assert "Using cache" not in daemon.cli("build", str(ctx), check=True).stdout.decode()


def test_failures_name_line_and_step(daemon, tmp_path):
    ctx = _context(tmp_path, "FROM busybox\nRUNN true\n")
    cp = daemon.cli("build", str(ctx))
    assert cp.returncode == 1 and "Dockerfile:2: unknown instruction: RUNN" in cp.stderr.decode()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo out; exit 3\n")
    cp = daemon.cli("build", str(ctx))
    assert cp.returncode == 1 and "out" in cp.stdout.decode()
    assert "returned a non-zero code: 3" in cp.stderr.decode()
    assert daemon.cli("ps", "-aq").stdout.strip() == b""  # no build container left behind


def test_parallel_stages_overlap(daemon, tmp_path):
    df = ("FROM busybox AS a\nRUN cut -d' ' -f1 /proc/uptime > /start; sleep 1; cut -d' ' -f1 /proc/uptime > /end\n"
          "FROM busybox AS b\nRUN cut -d' ' -f1 /proc/uptime > /start; sleep 1; cut -d' ' -f1 /proc/uptime > /end\n"
          "FROM busybox\nCOPY --from=a /start /a.start\nCOPY --from=a /end /a.end\n"
          "COPY --from=b /start /b.start\nCOPY --from=b /end /b.end\n")
    ctx = _context(tmp_path, df)
    daemon.cli("build", "--no-cache", "-t", "bt-par", str(ctx), check=True, timeout=60)
    out = daemon.cli("run", "--rm", "bt-par", "cat", "/a.start", "/a.end", "/b.start", "/b.end",
                     check=True).stdout.decode().split()
    a0, a1, b0, b1 = map(float, out)
    assert a0 < b1 and b0 < a1  # the two RUNs overlapped in time


def test_docker_cli_classic_builder(daemon, tmp_path):
    ctx = _context(tmp_path, "FROM busybox\nARG X=1\nRUN echo built-$X > /x\nCMD [\"cat\", \"/x\"]\n")
    cp = daemon.docker("build", "-t", "bt-docker", "--build-arg", "X=2", str(ctx), timeout=60)
    assert cp.returncode == 0, cp.stderr.decode()
    assert b"Successfully tagged bt-docker:latest" in cp.stdout
    assert daemon.cli("run", "--rm", "bt-docker", check=True).stdout == b"built-2\n"


def test_run_network_none_and_build_network(daemon, tmp_path):
    ctx = _context(tmp_path, "FROM busybox\nRUN --network=none ls /sys/class/net > /none\nRUN ls /sys/class/net > /bridge\n")
    daemon.cli("build", "-t", "bt-net", str(ctx), check=True)
    out = daemon.cli("run", "--rm", "bt-net", "cat", "/none", "/bridge", check=True).stdout.decode().split()
    assert out.count("lo") == 2 and out[0] == "lo" and len(out) == 3  # none: lo only; default: lo + eth0
