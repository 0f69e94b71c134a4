import tarfile

from dockyard.core.chunks import ChunkReader


def test_reads_across_chunk_boundaries_and_to_the_end():
    r = ChunkReader(iter([b"ab", b"", b"cdef", b"g"]))
    assert r.read(3) == b"abc"
    assert r.read(1) == b"d"
    assert r.read() == b"efg"
    assert r.read(5) == b""


def test_tarfile_stream_mode_reads_it():
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("f")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"xyz"))
    data = buf.getvalue()
    chunks = [data[i:i + 100] for i in range(0, len(data), 100)]
    with tarfile.open(fileobj=ChunkReader(chunks), mode="r|") as tar:
        member = tar.next()
        assert member.name == "f" and tar.extractfile(member).read() == b"xyz"
