"""``build -f NAME -``: a tar context on stdin, NAME the Dockerfile inside it (as the docker CLI allows)."""

from __future__ import annotations

import io
import tarfile

import pytest

from .test_build_inputs import _run

pytestmark = pytest.mark.root


def _tar(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, text in files.items():
            data = text.encode()
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("which", ["dockyard", "docker"])
def test_named_dockerfile_in_a_stdin_tar(daemon, which):
    tag = f"bt-stdin-tar-{which}"
    ctx = _tar({"in.txt": "from-tar\n", "sub/My.df": "FROM busybox\nCOPY in.txt /in.txt\nCMD [\"cat\", \"/in.txt\"]\n",
                "Dockerfile": "FROM busybox\nRUN false\n"})  # the default one must not be used
    try:
        cp = _run(daemon, which, ["build", "-q", "-f", "sub/My.df", "-t", tag, "-"], ctx)
        assert cp.returncode == 0, cp.stderr.decode()
        assert daemon.cli("run", "--rm", tag, check=True).stdout == b"from-tar\n"
        both = _run(daemon, which, ["build", "-f", "-", "-"], b"")
        assert both.returncode == 1
        assert b"invalid argument: can't use stdin for both build context and dockerfile" in both.stderr
    finally:
        daemon.cli("rmi", "-f", tag)
