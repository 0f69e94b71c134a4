"""``POST /build`` bodies: a bare Dockerfile arriving in small chunks; the docker CLI's unpadded ``-f -`` tar."""

from __future__ import annotations

import io
import tarfile

from dockyard.daemon.services.build import _extract


class _Trickle(io.RawIOBase):
    """A chunked request body: reads return a few bytes at a time."""

    def __init__(self, data: bytes, step: int = 3) -> None:
        self.data, self.step = data, step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        take = self.step if n < 0 else min(n, self.step)
        out, self.data = self.data[:take], self.data[take:]
        return out


def test_a_bare_dockerfile_in_small_chunks(tmp_path):
    text = "FROM busybox\nRUN echo hi\n" * 40  # longer than one tar block
    assert _extract(_Trickle(text.encode()), str(tmp_path / "c")) == text


def test_a_tar_without_its_last_padding_and_end_blocks(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in (("a.txt", b"a\n"), (".dockerignore", b".dockerignore\n.dockerfile.x\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    whole = buf.getvalue()
    cut = whole[:3 * 512 + len(b".dockerignore\n.dockerfile.x\n")]  # what `docker build -f - dir` sends
    assert _extract(_Trickle(cut, 700), str(tmp_path / "c")) is None
    assert (tmp_path / "c" / "a.txt").read_bytes() == b"a\n"
    assert (tmp_path / "c" / ".dockerignore").read_bytes().endswith(b".dockerfile.x\n")
