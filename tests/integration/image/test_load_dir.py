"""`load -i DIR`: an OCI image layout directory loads like its tar."""

import json
import tarfile

import pytest

pytestmark = pytest.mark.root


def test_load_an_oci_layout_directory(daemon, tmp_path):
    daemon.cli("tag", "busybox", "layoutdir:v1", check=True)
    daemon.cli("save", "--format", "oci", "-o", str(tmp_path / "o.tar"), "layoutdir:v1", check=True)
    daemon.cli("rmi", "layoutdir:v1", check=True)
    layout = tmp_path / "layout"
    with tarfile.open(tmp_path / "o.tar") as tar:
        tar.extractall(layout, filter="data")
    assert (layout / "index.json").exists() and (layout / "oci-layout").exists()
    cp = daemon.cli("load", "-i", str(layout))
    assert cp.returncode == 0, cp.stderr
    assert b"layoutdir:v1" in cp.stdout
    info = json.loads(daemon.cli("inspect", "layoutdir:v1", check=True).stdout)[0]
    assert info["Id"] == json.loads(daemon.cli("inspect", "busybox", check=True).stdout)[0]["Id"]
    assert daemon.cli("run", "--rm", "--network", "none", "layoutdir:v1", "echo", "ok").stdout == b"ok\n"
    daemon.cli("rmi", "layoutdir:v1", check=True)
