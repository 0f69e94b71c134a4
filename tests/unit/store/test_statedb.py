import threading
from datetime import datetime, timezone

import pytest

from dockyard.core.containers import ContainerConfig, ContainerRecord, ContainerState, Status
from dockyard.core.images import ImageRecord
from dockyard.errors import AlreadyExists, ImageNotFound, InvalidArgument, NotFound
from dockyard.oci.image import DOCKER_MANIFEST, Descriptor
from dockyard.store.statedb import schema
from dockyard.store.statedb.sqlite import SqliteStateDB


@pytest.fixture(params=["file", "memory"])
def db(request, tmp_path):
    d = SqliteStateDB(tmp_path / "state.db" if request.param == "file" else ":memory:")
    yield d
    d.close()


def rec(id: str, name: str) -> ContainerRecord:
    cfg = ContainerConfig(id=id, name=name, image="busybox", image_id="sha256:" + "e" * 64,
                          created="2024-01-01T00:00:00.000000001Z", path="sh", args=("-c", "true"),
                          env=("A=1",), labels={"l": "v"}, config_json={"Tty": False})
    return ContainerRecord(cfg, ContainerState())


def test_schema_version_and_wal(tmp_path):
    db = SqliteStateDB(tmp_path / "state.db")
    assert db._conn.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
    assert db._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    SqliteStateDB(tmp_path / "state.db").close()  # reopening re-applies nothing


def test_container_round_trip(db):
    r = rec("a" * 64, "web")
    db.containers.create(r)
    assert db.containers.get(r.id) == r
    st = ContainerState(status=Status.RUNNING, pid=42, started_at="2024-01-01T00:00:01Z")
    db.containers.save_state(r.id, st)
    assert db.containers.get(r.id).state == st
    assert [c.id for c in db.containers.list()] == [r.id]
    db.containers.delete(r.id)
    with pytest.raises(NotFound, match=f"^No such container: {r.id}$"):
        db.containers.get(r.id)
    with pytest.raises(NotFound):
        db.containers.delete(r.id)
    with pytest.raises(NotFound):
        db.containers.save_state(r.id, st)


def test_list_in_creation_order(db):
    for i, n in enumerate(["z", "a", "m"]):
        db.containers.create(rec(str(i) * 64, n))
    assert [c.name for c in db.containers.list()] == ["z", "a", "m"]


def test_name_conflict_message(db):
    db.containers.create(rec("a" * 64, "web"))
    with pytest.raises(AlreadyExists) as exc:
        db.containers.create(rec("b" * 64, "web"))
    assert str(exc.value) == (
        'Conflict. The container name "/web" is already in use by container "' + "a" * 64 + '". '
        "You have to remove (or rename) that container to be able to reuse that name.")
    with pytest.raises(AlreadyExists):
        db.containers.create(rec("a" * 64, "other"))


def test_resolve_order(db):
    a = rec("abc1" + "0" * 60, "first")
    b = rec("abc2" + "0" * 60, "abc1")  # a name that is also a prefix of a's id
    c = rec("ff" + "0" * 62, "x_y")
    for r in (a, b, c):
        db.containers.create(r)
    assert db.containers.resolve(a.id).id == a.id  # exact id
    assert db.containers.resolve("abc1").id == b.id  # exact name beats id prefix
    assert db.containers.resolve("/abc1").id == b.id
    assert db.containers.resolve("first").id == a.id
    assert db.containers.resolve("/first").id == a.id
    assert db.containers.resolve("ff").id == c.id  # unique prefix
    with pytest.raises(InvalidArgument, match="^multiple IDs found with provided prefix: abc$"):
        db.containers.resolve("abc")
    with pytest.raises(NotFound, match="^No such container: nope$"):
        db.containers.resolve("nope")
    with pytest.raises(NotFound):
        db.containers.resolve("x%")  # LIKE wildcards are not wildcards here
    with pytest.raises(NotFound):
        db.containers.resolve("")


def test_rename(db):
    db.containers.create(rec("a" * 64, "one"))
    db.containers.create(rec("b" * 64, "two"))
    with pytest.raises(AlreadyExists):
        db.containers.rename("a" * 64, "two")
    db.containers.rename("a" * 64, "/three")
    assert db.containers.resolve("three").name == "three"


def test_transaction_rolls_back(db):
    with pytest.raises(RuntimeError):
        with db.transaction():
            db.containers.create(rec("a" * 64, "web"))
            raise RuntimeError("boom")
    assert db.containers.list() == []


def test_threads(db):
    errors = []

    def worker(i):
        try:
            db.containers.create(rec(f"{i:064x}", f"c{i}"))
            db.containers.resolve(f"c{i}")
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(db.containers.list()) == 16


def image(name: str, cfg: str = "sha256:" + "c" * 64) -> ImageRecord:
    return ImageRecord(name, Descriptor(DOCKER_MANIFEST, "sha256:" + "d" * 64, 100), cfg,
                       datetime(2024, 1, 1, tzinfo=timezone.utc), {"k": "v"})


def test_images(db):
    r = image("docker.io/library/busybox:latest")
    db.images.create(r)
    assert db.images.get(r.name) == r
    with pytest.raises(AlreadyExists):
        db.images.create(r)
    db.images.put(image("docker.io/library/busybox:1"))
    assert [i.name for i in db.images.by_id(r.id)] == ["docker.io/library/busybox:1", r.name]
    db.images.update(image(r.name, "sha256:" + "f" * 64))
    assert db.images.get(r.name).id == "sha256:" + "f" * 64
    db.images.delete(r.name)
    with pytest.raises(ImageNotFound, match="^No such image: busybox:latest$"):
        db.images.get(r.name)
    with pytest.raises(ImageNotFound):
        db.images.update(r)
    with pytest.raises(ImageNotFound):
        db.images.delete(r.name)
    assert len(db.images.list(lambda x: x.name.endswith(":1"))) == 1
