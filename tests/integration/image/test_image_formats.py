"""Image formats end to end through a real daemon: Docker's own archives, skopeo, umoci and the docker CLI."""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import secrets
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from tests.unit.image.layertars import E, image_archive, layer, sym

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests/fixtures/images/docker-save-whiteouts.tar.gz"
FIXTURE_ID = "sha256:b84a3a96cd66c02cfe5864ad44c3bd20be37fe06af6e5e183717d79a7dfb7e27"


def sh(daemon, image: str, script: str) -> str:
    cp = daemon.cli("run", "--rm", "--network", "none", image, "sh", "-c", script, check=True)
    return cp.stdout.decode()


def inspect(daemon, ref: str) -> dict:
    return json.loads(daemon.cli("inspect", ref, check=True).stdout)[0]


@pytest.fixture(scope="module")
def fixture_image(daemon):
    cp = daemon.cli("load", "-i", str(FIXTURE), check=True)
    assert cp.stdout.decode() == "Loaded image: dy7-fixture:1\n"
    return "dy7-fixture:1"


def test_archive_from_docker_loads_and_runs_with_whiteouts(daemon, fixture_image):
    assert inspect(daemon, fixture_image)["Id"] == FIXTURE_ID
    out = sh(daemon, fixture_image, "test ! -e /bin/ls && ls /var && cat /data/link && stat -c %a /data/sub/keep"
                                    " && [ /data/hard -ef /data/sub/keep ] && echo linked && ls /bin/cat")
    assert out == "fixture\nfixture\n4755\nlinked\n/bin/cat\n"  # /var is opaque: spool/ and www/ are gone


def test_save_load_save_is_identical_and_oci_tools_agree(daemon, fixture_image, tmp_path):
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    daemon.cli("save", "-o", str(first), fixture_image, check=True)
    daemon.cli("load", "-i", str(first), check=True)
    daemon.cli("save", fixture_image, "-o", str(second), check=True)
    assert first.read_bytes() == second.read_bytes()

    oci = tmp_path / "oci"
    daemon.cli("save", "--format", "oci", "-o", str(tmp_path / "o.tar"), fixture_image, check=True)
    oci.mkdir()
    with tarfile.open(tmp_path / "o.tar") as tf:
        tf.extractall(oci, filter="data")
    ours = json.loads((oci / "index.json").read_text())["manifests"][0]
    manifest = json.loads((oci / "blobs/sha256" / ours["digest"][7:]).read_text())
    raw = json.loads(subprocess.run(["skopeo", "inspect", "--raw", f"oci:{oci}:1"], check=True,
                                    capture_output=True, timeout=60).stdout)
    assert raw == manifest and raw["config"]["digest"] == FIXTURE_ID
    layers = json.loads(subprocess.run(["skopeo", "inspect", "--config", f"oci:{oci}:1"], check=True,
                                       capture_output=True, timeout=60).stdout)["rootfs"]["diff_ids"]
    assert layers == inspect(daemon, fixture_image)["RootFS"]["Layers"]

    bundle = tmp_path / "bundle"
    subprocess.run(["umoci", "unpack", "--image", f"{oci}:1", str(bundle)], check=True, capture_output=True,
                   timeout=60)
    rootfs = bundle / "rootfs"
    assert not (rootfs / "bin/ls").exists() and (rootfs / "var/fixture").read_text() == "fixture\n"
    assert sorted(os.listdir(rootfs / "var")) == ["fixture"]

    # And back: an OCI archive written by skopeo loads into Dockyard as the same image.
    copied = tmp_path / "skopeo.tar"
    subprocess.run(["skopeo", "copy", f"oci:{oci}:1", f"oci-archive:{copied}:1"], check=True, capture_output=True,
                   timeout=60)
    cp = daemon.cli("load", "-i", str(copied), check=True)
    assert cp.stdout.decode() == f"Loaded image ID: {FIXTURE_ID}\n"


def test_diff_commit_history_export_import_through_the_docker_cli(daemon, tmp_path):
    name = "fs-" + secrets.token_hex(3)
    daemon.cli("run", "--network", "none", "--name", name, "busybox", "sh", "-c",
               "echo x >> /etc/passwd; rm /bin/ls; mkdir -p /newdir; echo hi > /newdir/f", check=True)
    try:
        diff = daemon.docker("diff", name)
        assert diff.returncode == 0, diff.stderr
        assert diff.stdout.decode().splitlines() == [
            "C /bin", "D /bin/ls", "C /etc", "C /etc/passwd", "A /newdir", "A /newdir/f"]
        assert daemon.cli("diff", name, check=True).stdout == diff.stdout

        cp = daemon.docker("commit", "-c", "ENV A=1", "-a", "me", "-m", "msg", name, "dy-commit:1")
        assert cp.returncode == 0, cp.stderr
        image_id = cp.stdout.decode().strip()
        assert sh(daemon, "dy-commit:1", "cat /newdir/f; echo $A; ls /bin/ls 2>&1 || true") == \
            "hi\n1\nls: /bin/ls: No such file or directory\n"
        hist = daemon.docker("history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Comment}}",
                             "dy-commit:1").stdout.decode().splitlines()
        assert hist[0].startswith(f"{image_id}|sh -c echo x >> /etc/passwd") and hist[0].endswith("|msg")
        assert hist[1].split("|")[0] == inspect(daemon, "busybox")["Id"]
        img = inspect(daemon, "dy-commit:1")
        assert img["Author"] == "me" and img["Comment"] == "msg" and len(img["RootFS"]["Layers"]) == 2

        exported = tmp_path / "e.tar"
        assert daemon.docker("export", "-o", str(exported), name).returncode == 0
        with tarfile.open(exported) as tf:
            names = set(tf.getnames())
        assert "newdir/f" in names and "bin/ls" not in names and "bin/cat" in names
        cp = daemon.docker("import", "-m", "imported", "-c", "CMD [\"sh\"]", str(exported), "dy-import:1")
        assert cp.returncode == 0, cp.stderr
        assert sh(daemon, "dy-import:1", "cat /newdir/f") == "hi\n"
        assert inspect(daemon, "dy-import:1")["Config"]["Cmd"] == ["sh"]

        saved = tmp_path / "s.tar"
        assert daemon.docker("save", "-o", str(saved), "dy-commit:1").returncode == 0
        assert daemon.docker("rmi", "dy-commit:1").returncode == 0
        cp = daemon.docker("load", "-i", str(saved))
        assert cp.returncode == 0 and b"Loaded image: dy-commit:1" in cp.stdout
        assert inspect(daemon, "dy-commit:1")["Id"] == image_id
    finally:
        daemon.cli("rm", "-f", name)
        daemon.cli("rmi", "dy-commit:1", "dy-import:1")


def test_commit_pauses_a_running_container_and_keeps_it_running(daemon):
    name = "run-" + secrets.token_hex(3)
    daemon.cli("run", "-d", "--network", "none", "--name", name, "busybox", "sh", "-c",
               "echo live > /live; exec sleep 60", check=True)
    try:
        for _ in range(100):  # bounded poll: the file appears once the shell ran
            if b"A /live" in daemon.cli("diff", name).stdout:
                break
        cp = daemon.cli("commit", name, "dy-live:1", check=True)
        assert cp.stdout.startswith(b"sha256:")
        assert inspect(daemon, name)["State"]["Status"] == "running"
        assert sh(daemon, "dy-live:1", "cat /live") == "live\n"
    finally:
        daemon.cli("rm", "-f", name)
        daemon.cli("rmi", "dy-live:1")


def test_import_from_a_loopback_url(daemon, tmp_path):
    (tmp_path / "root.tar").write_bytes(layer(E("hello", data=b"from url\n"), sym("sh", "/bin/sh")))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/root.tar"
        cp = daemon.cli("import", url, "dy-url:1", check=True)
        assert cp.stdout.startswith(b"sha256:")
        assert b"Imported from " + url.encode() in daemon.cli("history", "--no-trunc", "dy-url:1", check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(daemon.cli("save", "dy-url:1", check=True).stdout)) as tf:
            layer_path = json.loads(tf.extractfile("manifest.json").read())[0]["Layers"][0]
            with tarfile.open(fileobj=tf.extractfile(layer_path)) as lt:
                assert lt.extractfile("hello").read() == b"from url\n"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        daemon.cli("rmi", "dy-url:1")


def test_hostile_archive_is_refused_and_writes_nothing_outside(daemon, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    evil = image_archive([layer(sym("link", str(outside)), E("link/pwned", data=b"x"))], ["dy-evil:1"])
    before = daemon.cli("images", "-q", "--no-trunc").stdout
    cp = daemon.cli("load", input=evil)
    assert cp.returncode == 1 and b"invalid layer entry 'link/pwned'" in cp.stderr
    assert os.listdir(outside) == []
    assert daemon.cli("images", "-q", "--no-trunc").stdout == before
    cp = daemon.cli("import", "-", "dy-evil:2", input=layer(E("../../../../../../../../tmp/dy-evil", data=b"x")))
    assert cp.returncode != 0 and b"path escapes the layer root" in cp.stderr and not os.path.exists("/tmp/dy-evil")


def test_archive_saved_by_dockyard_loads_into_docker(daemon, fixture_image, tmp_path, ref_docker):
    env = ref_docker.env(tmp_path / "docker-config")
    ref = ["docker", "-H", ref_docker.host]
    tag = f"dy7-roundtrip:{secrets.token_hex(3)}"
    daemon.cli("tag", fixture_image, tag, check=True)
    out = tmp_path / "ours.tar"
    daemon.cli("save", "-o", str(out), tag, check=True)
    try:
        assert subprocess.run([*ref, "load", "-i", str(out)], capture_output=True, timeout=60, env=env).returncode == 0
        theirs = json.loads(subprocess.run([*ref, "inspect", tag], capture_output=True, timeout=30, env=env).stdout)[0]
        mine = inspect(daemon, tag)
        assert theirs["Id"] == mine["Id"] and theirs["RootFS"]["Layers"] == mine["RootFS"]["Layers"]
    finally:
        subprocess.run([*ref, "rmi", tag], capture_output=True, timeout=30, env=env)
        daemon.cli("rmi", tag)
