"""Where the Dockerfile comes from (``-f -``, ``-f`` outside the context, ``-`` alone) and ``--iidfile``,
through both ``dockyard build`` and the real ``docker build`` (classic builder) against our daemon."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..conftest import ENV

pytestmark = pytest.mark.root

DF = "FROM busybox\nCOPY in.txt /in.txt\nCOPY . /ctx/\nRUN cat /in.txt > /out.txt\nCMD [\"cat\", \"/out.txt\"]\n"


def _ctx(tmp: Path) -> Path:
    ctx = tmp / "ctx"
    ctx.mkdir()
    (ctx / "in.txt").write_text("from-context\n")
    return ctx


def _run(daemon, which: str, args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    if which == "dockyard":
        return daemon.cli(*args, input=stdin, timeout=120)
    env = {k: v for k, v in ENV.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_CONFIG=str(daemon.data_root / "docker-config"), DOCKER_BUILDKIT="0")
    return subprocess.run(["docker", "-H", daemon.host, *args], input=stdin, capture_output=True, timeout=120,
                          env=env)


def _image_id(daemon, tag: str) -> str:
    return daemon.cli("image", "inspect", "--format", "{{.Id}}", tag, check=True).stdout.decode().strip()


@pytest.mark.parametrize("which", ["dockyard", "docker"])
def test_dockerfile_sources_and_iidfile(daemon, tmp_path, which):
    ctx = _ctx(tmp_path)
    tag = f"bt-inputs-{which}"
    try:
        # -f - with a context dir: the Dockerfile from stdin, COPY from the context; --iidfile written
        iid = tmp_path / "iid"
        cp = _run(daemon, which, ["build", "-f", "-", "--iidfile", str(iid), "-t", tag, str(ctx)], DF.encode())
        assert cp.returncode == 0, cp.stderr.decode()
        assert iid.read_text() == _image_id(daemon, tag) and iid.read_text().startswith("sha256:")
        assert daemon.cli("run", "--rm", tag, check=True).stdout == b"from-context\n"
        # the Dockerfile's random name (and the .dockerignore the CLI made for it) stay out of the image
        assert daemon.cli("run", "--rm", tag, "ls", "-A", "/ctx", check=True).stdout == b"in.txt\n"

        # -f outside the context dir; the context's own Dockerfile (absent here) is not needed
        outside = tmp_path / "elsewhere" / "Build.df"
        outside.parent.mkdir()
        outside.write_text(DF.replace("/out.txt\n", "/out.txt && echo outside >> /out.txt\n", 1))
        cp = _run(daemon, which, ["build", "-f", str(outside), "-t", tag, str(ctx)])
        assert cp.returncode == 0, cp.stderr.decode()
        assert daemon.cli("run", "--rm", tag, check=True).stdout == b"from-context\noutside\n"
        assert daemon.cli("run", "--rm", tag, "ls", "-A", "/ctx", check=True).stdout == b"in.txt\n"
        # its name next to the Dockerfile: <Dockerfile>.dockerignore wins over the context's
        (tmp_path / "elsewhere" / "Build.df.dockerignore").write_text("in.txt\n")
        cp = _run(daemon, which, ["build", "--no-cache", "-f", str(outside), str(ctx)])
        if which == "dockyard":  # the docker 20.10-28 classic path reads only the context's .dockerignore
            assert cp.returncode != 0 and b"in.txt" in cp.stderr + cp.stdout

        # "-" alone: the Dockerfile is the whole context (no COPY possible)
        cp = _run(daemon, which, ["build", "--iidfile", str(iid), "-t", tag, "-"],
                  b"FROM busybox\nRUN echo bare > /bare\nCMD [\"cat\", \"/bare\"]\n")
        assert cp.returncode == 0, cp.stderr.decode()
        assert iid.read_text() == _image_id(daemon, tag)
        assert daemon.cli("run", "--rm", tag, check=True).stdout == b"bare\n"

        # a failed build leaves no iidfile (a stale one is removed first)
        assert iid.exists()
        cp = _run(daemon, which, ["build", "--iidfile", str(iid), "-"], b"FROM busybox\nRUN false\n")
        assert cp.returncode != 0 and not iid.exists()
    finally:
        daemon.cli("rmi", "-f", tag)


def test_dockyard_rejects_f_with_a_stdin_context_and_missing_files(daemon, tmp_path):
    ctx = _ctx(tmp_path)
    cp = daemon.cli("build", "-f", str(tmp_path / "nope"), str(ctx))
    assert cp.returncode != 0 and b"nope" in cp.stderr
    cp = daemon.cli("build", str(ctx))  # no Dockerfile in the context
    assert cp.returncode != 0 and b"Dockerfile" in cp.stderr
