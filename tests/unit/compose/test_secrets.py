"""Secrets and configs: which are bind-mounted, which are copied in, and the archive that copies them."""

import io
import tarfile

import pytest

from dockyard.compose.schema import ComposeInvalid
from dockyard.compose.secrets import plan, tar_of
from dockyard.compose.translate import create_body


def _model(tmp_path):
    (tmp_path / "s.txt").write_text("from-file")
    return {"name": "p", "services": {"web": {
        "image": "busybox",
        "secrets": [{"source": "plain"}, {"source": "owned", "target": "own", "uid": "100", "gid": "101",
                                          "mode": 0o440}, {"source": "env"}],
        "configs": [{"source": "inline"}, {"source": "plain", "target": "/etc/plain.conf"}]}},
        "secrets": {"plain": {"file": str(tmp_path / "s.txt")}, "owned": {"file": str(tmp_path / "s.txt")},
                    "env": {"environment": "TOKEN"}},
        "configs": {"inline": {"content": "key=1\n"}, "plain": {"file": str(tmp_path / "s.txt")}}}


def test_file_secrets_bind_and_others_are_copied(tmp_path):
    model = _model(tmp_path)
    binds, copies = plan(model, "web", {"TOKEN": "t0k"})
    assert binds == [f"{tmp_path}/s.txt:/run/secrets/plain:ro", f"{tmp_path}/s.txt:/etc/plain.conf:ro"]
    got = {c.path: (c.data, c.uid, c.gid, c.mode) for c in copies}
    assert got == {"/run/secrets/own": (b"from-file", 100, 101, 0o440),
                   "/run/secrets/env": (b"t0k", 0, 0, 0o444),
                   "/inline": (b"key=1\n", 0, 0, 0o444)}
    # The create body carries only the binds, and building it reads nothing.
    assert create_body(model, "web", 1)["HostConfig"]["Binds"] == binds


def test_errors(tmp_path):
    model = _model(tmp_path)
    with pytest.raises(ComposeInvalid, match=r"environment variable 'TOKEN' required by secret 'env' is not set"):
        plan(model, "web", {})
    model["services"]["web"]["secrets"] = [{"source": "nope"}]
    with pytest.raises(ComposeInvalid, match=r"undefined secret nope"):
        plan(model, "web", None)


def test_archive_has_parents_owner_and_mode(tmp_path):
    _, copies = plan(_model(tmp_path), "web", {"TOKEN": "t0k"})
    with tarfile.open(fileobj=io.BytesIO(tar_of(copies))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["run"].isdir() and members["run/secrets"].isdir()
        own = members["run/secrets/own"]
        assert (own.uid, own.gid, own.mode) == (100, 101, 0o440)
        assert tar.extractfile(own).read() == b"from-file"
