"""build/runmounts.py: --mount parsing, safe sources, bind-content digests, cache dirs, mount-point cleanup."""

import os
import threading
from pathlib import Path

import pytest

from dockyard.build import runmounts as rm
from dockyard.build.executor import runmount_froms
from dockyard.daemon.services.build import drop_mount_points
from dockyard.errors import FailedPrecondition, InvalidArgument


def test_defaults_per_type():
    assert rm.parse("target=/src") == rm.RunMount("bind", "/src", readonly=True)
    assert rm.parse("type=cache,target=/root/.cache") == rm.RunMount("cache", "/root/.cache", id="/root/.cache")
    assert rm.parse("type=tmpfs,dst=/t,size=1024") == rm.RunMount("tmpfs", "/t", size=1024)


def test_every_key_and_alias():
    m = rm.parse("type=cache,id=pip,destination=cache,sharing=locked,mode=0700,uid=1000,gid=100,from=tools,"
                 "src=/seed,ro", workdir="/app")
    assert m == rm.RunMount("cache", "/app/cache", source="/seed", from_="tools", readonly=True, id="pip",
                            sharing="locked", mode=0o700, uid=1000, gid=100)
    assert rm.parse("type=bind,target=/x,rw").readonly is False
    assert rm.parse("type=bind,target=/x,readwrite=true").readonly is False
    assert rm.parse("type=bind,target=/x,readonly=false").readonly is False


@pytest.mark.parametrize("text, message", [
    ("type=cache", "mount target is required"),
    ("type=nfs,target=/x", "unsupported mount type"),
    ("type=cache,target=/x,sharing=sometimes", "unsupported sharing"),
    ("type=cache,target=/x,mode=rwx", "bad mode"),
    ("type=bind,target=/x,uid=1", "are for type=cache"),
    ("type=tmpfs,target=/x,source=a", "has no source"),
    ("type=bind,target=/x,colour=blue", "unexpected key 'colour'"),
])
def test_invalid(text, message):
    with pytest.raises(InvalidArgument, match=message):
        rm.parse(text)


def test_ssh_is_refused_clearly():
    with pytest.raises(FailedPrecondition, match="not supported"):
        rm.parse("type=ssh,id=x,target=/x")


def test_froms_for_stage_ordering():
    assert runmount_froms(("type=bind,from=tools,target=/t", "type=cache,target=/c", "from=base,target=/b")) == \
        ["tools", "base"]


def test_sources_stay_inside_their_root(tmp_path):
    root = tmp_path / "ctx"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f").write_text("x")
    os.symlink("/d", root / "abs")  # absolute: resolved inside the root
    os.symlink("/etc", root / "etc-link")  # the host's /etc is never reached
    assert rm.inside(str(root), "abs/f") == os.path.join(os.path.realpath(root), "d", "f")
    assert rm.inside(str(root), "/") == os.path.realpath(root)
    with pytest.raises(InvalidArgument, match="not found"):
        rm.inside(str(root), "etc-link/passwd")
    with pytest.raises(InvalidArgument, match="leaves its root"):
        rm.inside(str(root), "../x")


def test_tree_digest_covers_names_modes_and_contents(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("1")
    first = rm.tree_digest(str(tmp_path / "a"))
    assert rm.tree_digest(str(tmp_path / "a")) == first
    (tmp_path / "a" / "f").write_text("2")
    second = rm.tree_digest(str(tmp_path / "a"))
    assert second != first
    os.chmod(tmp_path / "a" / "f", 0o600)
    assert rm.tree_digest(str(tmp_path / "a")) != second
    os.rename(tmp_path / "a" / "f", tmp_path / "a" / "g")
    assert len({first, second, rm.tree_digest(str(tmp_path / "a"))}) == 3
    assert rm.tree_digest(str(tmp_path / "a" / "g")) != rm.tree_digest(str(tmp_path / "a"))


def test_cache_dirs_persist_are_made_with_mode_and_seed_and_prune(tmp_path):
    caches = rm.CacheMounts(str(tmp_path / "mounts"))
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "s").write_text("seeded")
    m = rm.parse("type=cache,target=/c,id=one,mode=0700")
    with caches.use(m, str(seed), str(tmp_path)) as d:
        assert os.stat(d).st_mode & 0o777 == 0o700
        assert Path(d, "s").read_text() == "seeded"
        Path(d, "kept").write_text("k" * 10)
    with caches.use(m, None, str(tmp_path)) as again:
        assert again == d and os.path.exists(os.path.join(d, "kept"))
    with caches.use(rm.parse("type=cache,target=/c,id=two"), None, str(tmp_path)) as other:
        assert other != d
    assert caches.prune() >= 16
    assert os.listdir(tmp_path / "mounts") == []


def test_private_sharing_gives_a_second_user_a_fresh_dir(tmp_path):
    caches = rm.CacheMounts(str(tmp_path / "mounts"))
    m = rm.parse("type=cache,target=/c,sharing=private")
    with caches.use(m, None, str(tmp_path)) as first:
        with caches.use(m, None, str(tmp_path)) as second:
            assert first != second


def test_locked_sharing_serialises(tmp_path):
    caches = rm.CacheMounts(str(tmp_path / "mounts"))
    m = rm.parse("type=cache,target=/c,sharing=locked")
    inside = threading.Event()
    order: list[str] = []

    def second() -> None:
        with caches.use(m, None, str(tmp_path)):
            order.append("second")

    with caches.use(m, None, str(tmp_path)):
        t = threading.Thread(target=second)
        t.start()
        t.join(0.2)
        order.append("first")
        inside.set()
    t.join(5)
    assert order == ["first", "second"]


def test_realise_binds_read_only_and_rw_copies(tmp_path):
    ctx = tmp_path / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "src" / "a").write_text("a")
    mounts = [rm.parse("source=src,target=/ro"), rm.parse("source=src,target=/rw,rw"),
              rm.parse("type=tmpfs,target=/t,size=4096")]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with rm.realise(mounts, context=str(ctx), fs_of=lambda ref: "", caches=rm.CacheMounts(str(tmp_path / "m")),
                    scratch=str(scratch)) as out:
        assert out[0] == {"Type": "bind", "Source": os.path.realpath(ctx / "src"), "Target": "/ro", "ReadOnly": True}
        assert out[1]["Source"].startswith(str(scratch)) and out[1]["ReadOnly"] is False
        assert Path(out[1]["Source"], "a").read_text() == "a"
        assert out[2] == {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 4096}}
    assert os.listdir(scratch) == []  # the rw copy is gone


def test_drop_mount_points_keeps_what_the_run_wrote(tmp_path):
    upper, lower = tmp_path / "upper", tmp_path / "lower"
    (lower / "usr").mkdir(parents=True)
    (upper / "mnt" / "src").mkdir(parents=True)  # made for the mount only
    (upper / "usr" / "cache").mkdir(parents=True)  # under a directory the image has
    (upper / "work" / "out").mkdir(parents=True)
    (upper / "work" / "result").write_text("kept")  # the RUN wrote beside the mount point
    (upper / "file-target").write_text("")
    drop_mount_points(str(upper), [str(lower)], ["/mnt/src", "/usr/cache", "/work/out", "/file-target"])
    assert sorted(os.listdir(upper)) == ["usr", "work"]
    assert os.listdir(upper / "usr") == []
    assert os.listdir(upper / "work") == ["result"]
