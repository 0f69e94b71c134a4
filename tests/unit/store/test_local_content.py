import os

import pytest

from dockyard.core.digest import of_bytes
from dockyard.errors import DigestMismatch, NotFound, Unavailable
from dockyard.store.content.local import LocalContentStore


@pytest.fixture
def store(tmp_path):
    return LocalContentStore(tmp_path)


def test_commit_and_read(store, tmp_path):
    data = b"hello blob"
    w = store.writer("ref-1")
    w.write(data[:5])
    assert store.ingests()[0].ref == "ref-1"
    w.write(data[5:])
    info = w.commit(len(data), of_bytes(data))
    assert info.digest == of_bytes(data) and info.size == len(data)
    assert (tmp_path / "content/blobs/sha256" / info.digest.hex).read_bytes() == data
    with store.open(info.digest) as f:
        assert f.read() == data
    assert store.exists(info.digest)
    assert [b.digest for b in store.walk()] == [info.digest]
    assert store.ingests() == []
    assert os.listdir(tmp_path / "content/ingest") == []


def test_digest_mismatch_leaves_nothing(store, tmp_path):
    w = store.writer("ref-2")
    w.write(b"evil")
    with pytest.raises(DigestMismatch):
        w.commit(4, of_bytes(b"good"))
    assert not store.exists(of_bytes(b"evil")) and not store.exists(of_bytes(b"good"))
    assert os.listdir(tmp_path / "content/blobs/sha256") == []
    assert os.listdir(tmp_path / "content/ingest") == []
    # the ref is free again
    store.writer("ref-2").abort()


def test_size_mismatch(store):
    with store.writer("ref-3") as w:
        w.write(b"abc")
        with pytest.raises(DigestMismatch):
            w.commit(4, of_bytes(b"abc"))
    assert list(store.walk()) == []


def test_ref_is_locked_while_writing(store):
    w = store.writer("same")
    with pytest.raises(Unavailable):
        store.writer("same")
    w.abort()
    store.writer("same").abort()


def test_commit_existing_blob_is_idempotent(store):
    for _ in range(2):
        with store.writer("r") as w:
            w.write(b"x")
            assert w.commit(1, of_bytes(b"x")).size == 1


def test_missing_blob(store):
    d = of_bytes(b"nope")
    with pytest.raises(NotFound):
        store.info(d)
    with pytest.raises(NotFound):
        store.open(d)
    with pytest.raises(NotFound):
        store.delete(d)


def test_delete(store):
    with store.writer("r") as w:
        w.write(b"x")
        info = w.commit(1, of_bytes(b"x"))
    store.delete(info.digest)
    assert not store.exists(info.digest)
