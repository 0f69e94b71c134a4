"""RUN --mount=type=cache|bind|tmpfs through a real daemon: persistence, read-only binds, cache keys, no traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

DOCKERFILE = """\
FROM busybox AS tools
RUN mkdir -p /opt/tool && echo tool-v1 > /opt/tool/version
FROM busybox
RUN --mount=type=cache,target=/cache,id=dy-test-cache sh -c 'echo run >> /cache/log; wc -l < /cache/log > /count'
RUN --mount=type=bind,source=src,target=/mnt/src cat /mnt/src/a.txt > /copied && ! touch /mnt/src/x 2>/dev/null
RUN --mount=type=bind,source=src,target=/w,rw sh -c 'touch /w/x && ls /w > /listing'
RUN --mount=type=bind,from=tools,source=/opt/tool,target=/tool cp /tool/version /tool-version
RUN --mount=type=tmpfs,target=/t sh -c 'grep " /t " /proc/mounts | cut -d" " -f3 > /tmpfs'
"""


def _ctx(tmp: Path, text: str = "hello from ctx\n") -> Path:
    (tmp / "src").mkdir(exist_ok=True)
    (tmp / "src" / "a.txt").write_text(text)
    (tmp / "Dockerfile").write_text(DOCKERFILE)
    return tmp


def test_run_mounts_cache_bind_tmpfs(daemon, tmp_path):
    ctx = _ctx(tmp_path)
    try:
        daemon.cli("builder", "prune", "-f", check=True)
        daemon.cli("build", "-t", "bt-mounts", str(ctx), check=True, timeout=120)
        out = daemon.cli("run", "--rm", "bt-mounts", "sh", "-c",
                         "cat /count /copied /listing /tool-version /tmpfs; ls -d /cache /mnt /w /t /tool 2>&1 | wc -l",
                         check=True).stdout.decode().split("\n")
        assert out[:7] == ["1", "hello from ctx", "a.txt", "x", "tool-v1", "tmpfs", "5"], out  # 5 "No such file" lines
        # the source's writes went to a throw-away copy
        assert not (ctx / "src" / "x").exists()

        # unchanged: every step cached; the cache mount still holds one run
        again = daemon.cli("build", str(ctx), check=True).stdout.decode()
        assert again.count("Using cache") == 6, again

        # the bind source's content is in the key: only the steps from the changed bind on run again
        _ctx(tmp_path, "changed\n")
        changed = daemon.cli("build", "-t", "bt-mounts", str(ctx), check=True).stdout.decode()
        assert changed.count("Using cache") == 2, changed  # tools RUN + the cache-mount RUN
        assert daemon.cli("run", "--rm", "bt-mounts", "cat", "/copied", check=True).stdout == b"changed\n"

        # --no-cache reruns the cache-mount step, which finds the directory it left
        daemon.cli("build", "--no-cache", "-t", "bt-mounts", str(ctx), check=True, timeout=120)
        assert daemon.cli("run", "--rm", "bt-mounts", "cat", "/count", check=True).stdout == b"2\n"

        # builder prune empties cache mounts too
        daemon.cli("builder", "prune", "-f", check=True)
        daemon.cli("build", "--no-cache", "-t", "bt-mounts", str(ctx), check=True, timeout=120)
        assert daemon.cli("run", "--rm", "bt-mounts", "cat", "/count", check=True).stdout == b"1\n"
    finally:
        daemon.cli("rmi", "-f", "bt-mounts")


@pytest.mark.parametrize("flag, message", [
    ("type=ssh", "not supported"),
    ("type=secret,id=x,required", "secret x: not found"),
    ("type=bind,source=../../etc,target=/x", "leaves its root"),
    ("type=cache", "mount target is required"),
    ("type=weird,target=/x", "unsupported mount type"),
])
def test_bad_mounts_fail_the_step(daemon, tmp_path, flag, message):
    (tmp_path / "Dockerfile").write_text(f"FROM busybox\nRUN --mount={flag} true\n")
    cp = daemon.cli("build", str(tmp_path))
    assert cp.returncode != 0
    assert message in cp.stderr.decode() + cp.stdout.decode()
    assert daemon.cli("ps", "-aq", "--filter", "label=dockyard.build").stdout.strip() == b""


def test_cache_from_an_image_after_the_local_cache_is_gone(daemon, tmp_path):
    (tmp_path / "f.txt").write_text("f\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nENV X=1\nWORKDIR /w\nCOPY f.txt .\nRUN echo built-$X > /w/out\nLABEL done=yes\n")
    try:
        daemon.cli("build", "-t", "bt-cachefrom", str(tmp_path), check=True)
        daemon.cli("builder", "prune", "-f", check=True)
        plain = daemon.cli("build", str(tmp_path), check=True).stdout.decode()
        assert "Using cache" not in plain  # the local cache is really gone
        daemon.cli("builder", "prune", "-f", check=True)
        out = daemon.cli("build", "--cache-from", "bt-cachefrom", "--cache-from", "no-such-image", "-t", "bt-cf2",
                         str(tmp_path), check=True).stdout.decode()
        assert out.count("Using cache") == 5, out
        a, b = (json.loads(daemon.cli("image", "inspect", t, check=True).stdout)[0] for t in ("bt-cachefrom", "bt-cf2"))
        assert a["RootFS"]["Layers"] == b["RootFS"]["Layers"] and a["Config"] == b["Config"]
        # a changed file: COPY and what follows run again
        (tmp_path / "f.txt").write_text("g\n")
        daemon.cli("builder", "prune", "-f", check=True)
        out = daemon.cli("build", "--cache-from", "bt-cachefrom", str(tmp_path), check=True).stdout.decode()
        assert out.count("Using cache") == 2, out  # ENV, WORKDIR
    finally:
        daemon.cli("rmi", "-f", "bt-cachefrom", "bt-cf2")
