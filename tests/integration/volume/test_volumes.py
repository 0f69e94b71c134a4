"""Volumes, binds, tmpfs, --mount, --volumes-from and cp, through our CLI, the docker CLI and docker-py."""

from __future__ import annotations

import io
import json
import os
import secrets
import tarfile

import docker
import pytest


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _out(cp) -> str:
    assert cp.returncode == 0, cp.stderr.decode()
    return cp.stdout.decode()


def test_named_volume_shared_survives_removal_and_in_use_409(daemon):
    vol, ctr = _name("v"), _name("c")
    _out(daemon.cli("volume", "create", "--label", "k=v", vol))
    info = json.loads(_out(daemon.cli("volume", "inspect", vol)))[0]
    assert info["Driver"] == "local" and info["Labels"] == {"k": "v"} and info["Scope"] == "local"
    assert info["Mountpoint"].endswith(f"/volumes/{vol}/_data")
    _out(daemon.cli("run", "--name", ctr, "-v", f"{vol}:/data", "busybox", "sh", "-c", "echo hi > /data/f"))
    rm = daemon.cli("volume", "rm", vol)
    assert rm.returncode == 1 and b"volume is in use" in rm.stderr
    assert ctr in _out(daemon.cli("ps", "-a", "--filter", f"volume={vol}", "--format", "{{.Names}}"))
    _out(daemon.cli("rm", "-v", ctr))  # a named volume survives rm -v
    assert _out(daemon.cli("run", "--rm", "-v", f"{vol}:/d:ro", "busybox", "cat", "/d/f")) == "hi\n"
    ro = daemon.cli("run", "--rm", "-v", f"{vol}:/d:ro", "busybox", "touch", "/d/x")
    assert ro.returncode == 1 and b"Read-only file system" in ro.stderr
    _out(daemon.cli("volume", "rm", vol))
    assert vol not in _out(daemon.cli("volume", "ls", "-q"))


def test_copy_up_nocopy_anonymous_and_rm_v(daemon):
    vol = _name("cu")
    assert _out(daemon.cli("run", "--rm", "-v", f"{vol}:/etc", "busybox", "ls", "/etc")).split() == ["group", "passwd"]
    nocopy = _name("nc")
    assert _out(daemon.cli("run", "--rm", "-v", f"{nocopy}:/etc:nocopy", "busybox", "ls", "/etc")) == ""
    ctr = _name("anon")
    _out(daemon.cli("create", "--name", ctr, "-v", "/etc", "busybox", "true"))
    mounts = json.loads(_out(daemon.cli("inspect", ctr)))[0]["Mounts"]
    assert [m["Destination"] for m in mounts] == ["/etc"] and mounts[0]["Type"] == "volume"
    anon = mounts[0]["Name"]
    assert anon in _out(daemon.cli("volume", "ls", "-q"))
    _out(daemon.cli("rm", "-v", ctr))
    assert anon not in _out(daemon.cli("volume", "ls", "-q"))
    _out(daemon.cli("run", "--rm", "-v", "/scratch", "busybox", "true"))  # --rm takes its anonymous volume
    _out(daemon.cli("volume", "rm", vol, nocopy))


def test_binds_tmpfs_mount_syntax_and_volumes_from(daemon, tmp_path):
    host = tmp_path / "h"
    host.mkdir()
    _out(daemon.cli("run", "--rm", "-v", f"{host}:/h", "busybox", "sh", "-c", "echo out > /h/f"))
    assert (host / "f").read_text() == "out\n"
    missing = tmp_path / "made"
    _out(daemon.cli("run", "--rm", "-v", f"{missing}:/m", "busybox", "true"))
    assert missing.is_dir()  # -v creates a missing host dir; --mount refuses it
    bad = daemon.cli("run", "--rm", "--mount", f"type=bind,src={tmp_path}/nope,dst=/x", "busybox", "true")
    assert bad.returncode == 125 and b"bind source path does not exist" in bad.stderr
    ro = daemon.cli("run", "--rm", "--mount", f"type=bind,source={host},target=/h,readonly", "busybox", "touch", "/h/y")
    assert ro.returncode == 1 and b"Read-only" in ro.stderr
    out = _out(daemon.cli("run", "--rm", "--tmpfs", "/run:size=1m,mode=1777", "busybox", "sh", "-c",
                          "stat -c %a /run; dd if=/dev/zero of=/run/x bs=1k count=2048 2>/dev/null; du -k /run/x"))
    mode, size = out.split()[0], int(out.split()[1])
    assert mode == "1777" and size <= 1024
    out = _out(daemon.cli("run", "--rm", "--mount", "type=tmpfs,dst=/t,tmpfs-size=65536,tmpfs-mode=700",
                          "busybox", "stat", "-c", "%a", "/t"))
    assert out.strip() == "700"
    unknown = daemon.cli("run", "--rm", "--mount", "type=foo,dst=/x", "busybox", "true")
    assert b'invalid mount config for type "foo": mount type unknown' in unknown.stderr
    src, vol = _name("src"), _name("vf")
    _out(daemon.cli("create", "--name", src, "-v", f"{vol}:/shared", "-v", f"{host}:/h", "busybox", "true"))
    assert _out(daemon.cli("run", "--rm", "--volumes-from", src, "busybox", "sh", "-c",
                           "echo s > /shared/s; cat /h/f")) == "out\n"
    ro = daemon.cli("run", "--rm", "--volumes-from", f"{src}:ro", "busybox", "touch", "/shared/z")
    assert ro.returncode == 1
    _out(daemon.cli("rm", src))
    _out(daemon.cli("volume", "rm", vol))


def test_docker_cli_and_docker_py(daemon, tmp_path):
    vol = _name("dpy")
    cp = daemon.docker("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", vol)
    assert cp.returncode == 0, cp.stderr
    cp = daemon.docker("run", "--rm", "-v", f"{vol}:/t", "busybox", "df", "-k", "/t")
    assert cp.returncode == 0 and b" 1024 " in cp.stdout, cp.stdout + cp.stderr
    bad = daemon.docker("volume", "create", "-o", "foo=bar", _name("x"))
    assert b'invalid option: "foo"' in bad.stderr
    client = docker.DockerClient(base_url=daemon.host, version="auto", timeout=60)
    try:
        v = client.volumes.create(name=_name("py"), labels={"a": "b"})
        assert client.volumes.get(v.name).attrs["Labels"] == {"a": "b"}
        out = client.containers.run("busybox", "sh -c 'echo py > /d/f; cat /d/f'", volumes={v.name: {"bind": "/d"}},
                                    remove=True)
        assert out == b"py\n"
        c = client.containers.create("busybox", "true", volumes={v.name: {"bind": "/d", "mode": "ro"}})
        with pytest.raises(docker.errors.APIError) as err:
            v.remove()
        assert err.value.status_code == 409
        c.remove()
        df = client.df()
        assert any(x["Name"] == v.name and x["UsageData"]["Size"] == 3 for x in df["Volumes"])
        v.remove()
        pruned = client.volumes.prune(filters={"all": "true"})
        assert vol in (pruned["VolumesDeleted"] or [])
    finally:
        client.close()


def _tar(entries: dict[str, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in entries.items():
            ti = tarfile.TarInfo(name)
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                ti.size, ti.mode, ti.uid, ti.gid = len(data), 0o640, 1234, 5678
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_cp_round_trip_running_and_stopped(daemon, tmp_path):
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "a").write_text("a\n")
    os.chown(src / "a", 1234, 2345)
    os.chmod(src / "sub", 0o2750)
    os.symlink("a", src / "link")
    os.link(src / "a", src / "hard")
    ctr = _name("cp")
    _out(daemon.cli("run", "-d", "--name", ctr, "busybox", "sleep", "60"))
    try:
        _out(daemon.cli("cp", str(src), f"{ctr}:/tmp/"))
        ls = _out(daemon.cli("exec", ctr, "ls", "-ln", "/tmp/tree")) if daemon.cli("exec", ctr, "true").returncode == 0 else ""
        if ls:
            assert "1234" in ls and "link -> a" in ls
        for state in ("running", "stopped"):
            out = tmp_path / f"out-{state}"
            _out(daemon.cli("cp", f"{ctr}:/tmp/tree", str(out)))
            assert (out / "a").read_text() == "a\n" and os.readlink(out / "link") == "a"
            assert os.stat(out / "a").st_ino == os.stat(out / "hard").st_ino
            assert oct(os.stat(out / "sub").st_mode & 0o7777) == "0o2750"
            _out(daemon.cli("stop", "-t", "0", ctr))
        # docker CLI, stopped container, a tar on stdin
        cp = daemon.docker("cp", "-", f"{ctr}:/tmp")
        assert cp.returncode != 0  # no stdin tar given
        put = daemon.cli("cp", "-", f"{ctr}:/tmp", input=_tar({"d": None, "d/x": b"xx"}))
        assert put.returncode == 0, put.stderr
        data = daemon.cli("cp", f"{ctr}:/tmp/d/x", "-").stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            m = tf.getmember("x")
            assert tf.extractfile(m).read() == b"xx" and (m.uid, m.gid, m.mode) == (1234, 5678, 0o640)
        cp = daemon.docker("cp", f"{ctr}:/etc/passwd", str(tmp_path / "pw"))
        assert cp.returncode == 0 and (tmp_path / "pw").read_text().startswith("root:"), cp.stderr
        missing = daemon.docker("cp", f"{ctr}:/nope", str(tmp_path / "n"))
        assert missing.returncode == 1 and b"Could not find the file /nope in container" in missing.stderr
    finally:
        daemon.cli("rm", "-f", ctr)


def test_cp_hostile_symlinks_stay_inside(daemon, tmp_path):
    ctr = _name("evil")
    marker = f"dockyard-cp-{secrets.token_hex(4)}"
    _out(daemon.cli("create", "--name", ctr, "busybox", "true"))
    try:
        # symlinks pointing out of the container, absolute and with ".."
        _out(daemon.cli("cp", "-", f"{ctr}:/tmp", input=_links()))
        (tmp_path / marker).write_text("x")
        for dest in ("/tmp/evil", "/tmp/up", "/tmp/up/etc", "/tmp/evil/../../../.."):
            daemon.cli("cp", str(tmp_path / marker), f"{ctr}:{dest}")
            assert not os.path.exists(f"/etc/{marker}") and not os.path.exists(f"/{marker}")
        passwd = daemon.cli("cp", f"{ctr}:/tmp/up/etc/passwd", "-").stdout  # the container's, not the host's
        with tarfile.open(fileobj=io.BytesIO(passwd)) as tf:
            with open("/etc/passwd", "rb") as host_passwd:
                assert tf.extractfile("passwd").read() != host_passwd.read()
        # a tar whose own entries climb out or go through a symlink
        bad = daemon.cli("cp", "-", f"{ctr}:/tmp", input=_tar({f"../../{marker}": b"x", f"evil/{marker}": b"y"}))
        assert not os.path.exists(f"/{marker}") and not os.path.exists(f"/etc/{marker}")
        del bad
    finally:
        daemon.cli("rm", "-f", ctr)


def _links() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, target in (("evil", "/etc"), ("up", "../../../../../../")):
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname = tarfile.SYMTYPE, target
            tf.addfile(ti)
    return buf.getvalue()


def test_volume_survives_kill9_and_restart(tmp_path, seed_tar):
    import signal

    from tests.integration.conftest import start_daemon, stop_daemon

    d = start_daemon(tmp_path)
    net = (d.bridge, d.chain, f"base=10.{200 + secrets.randbelow(50)}.0.0/16,size=24")
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        _out(d.cli("run", "--name", "writer", "-v", "keep:/d", "busybox", "sh", "-c", "echo kept > /d/f"))
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        (d.exec_root / "dockyardd.pid").unlink(missing_ok=True)
        d.socket.unlink(missing_ok=True)
        d = start_daemon(tmp_path, net)
        assert "keep" in _out(d.cli("volume", "ls", "-q")).split()
        assert d.cli("volume", "rm", "keep").returncode == 1  # still used by "writer"
        assert _out(d.cli("run", "--rm", "-v", "keep:/d", "busybox", "cat", "/d/f")) == "kept\n"
        _out(d.cli("rm", "writer"))
        _out(d.cli("volume", "rm", "keep"))
    finally:
        stop_daemon(d)
