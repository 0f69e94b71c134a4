"""``include`` and ``extends`` through the loader (files in tmp_path; no daemon)."""

from pathlib import Path

import pytest

from dockyard.compose.loader import load
from dockyard.compose.schema import ComposeInvalid
from dockyard.errors import NotFound


def _w(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _load(tmp_path: Path, **kw):
    return load([str(tmp_path / "compose.yaml")], cwd=str(tmp_path), environ=kw.pop("environ", {}), **kw)


def test_extends_same_file_and_other_file(tmp_path):
    _w(tmp_path / "common" / "base.yaml", """
services:
  root:
    image: busybox
    environment: {A: "1", B: "1"}
    ports: ["80"]
    volumes: ["./data:/data"]
    command: ["from", "root"]
  app:
    extends: root
    labels: {tier: base}
""")
    _w(tmp_path / "compose.yaml", """
services:
  web:
    extends: {file: common/base.yaml, service: app}
    environment: {B: "2"}
    ports: ["81"]
    command: local
  worker:
    extends: {service: web}
    volumes: ["./other:/data"]
""")
    p = _load(tmp_path)
    web, worker = p.services["web"], p.services["worker"]
    assert web["image"] == "busybox"
    assert web["environment"] == {"A": "1", "B": "2"}
    assert [x["target"] for x in web["ports"]] == [80, 81]
    assert web["command"] == ["local"]                                  # replaced, not appended
    assert web["labels"] == {"tier": "base"}
    # A relative path in the other file resolves against that file's directory.
    assert web["volumes"][0]["source"] == str(tmp_path / "common" / "data")
    # Extending a service that extends: chains resolve; volumes merge by target.
    assert worker["environment"] == {"A": "1", "B": "2"}
    assert [v["source"] for v in worker["volumes"]] == [str(tmp_path / "other")]
    assert "extends" not in web and "extends" not in worker


def test_extends_errors(tmp_path):
    _w(tmp_path / "compose.yaml", "services:\n  a: {extends: b, image: x}\n  b: {extends: a}\n")
    with pytest.raises(ComposeInvalid, match=r"circular reference with extends: a -> b -> a"):
        _load(tmp_path)
    _w(tmp_path / "compose.yaml", "services:\n  a: {extends: nope}\n")
    with pytest.raises(ComposeInvalid, match=r"cannot extend service 'nope' in .*compose.yaml: service not found"):
        _load(tmp_path)
    _w(tmp_path / "compose.yaml", "services:\n  a: {extends: {file: missing.yaml, service: x}}\n")
    with pytest.raises(ComposeInvalid, match=r"extends: open .*missing.yaml: no such file or directory"):
        _load(tmp_path)
    _w(tmp_path / "compose.yaml", "services:\n  a: {extends: {file: missing.yaml}}\n")
    with pytest.raises(ComposeInvalid, match=r"services.a.extends must be"):
        _load(tmp_path)


def test_include_paths_project_directory_and_env(tmp_path):
    _w(tmp_path / "sub" / ".env", "DB_IMAGE=busybox:sub\nSHARED=sub\n")
    _w(tmp_path / "sub" / "db.yaml", """
services:
  db:
    image: ${DB_IMAGE}
    environment: {SHARED: "${SHARED}"}
    volumes: ["./data:/data", "dbvol:/var"]
volumes:
  dbvol: {}
""")
    _w(tmp_path / "other" / "vars.env", "CACHE_TAG=7\n")
    _w(tmp_path / "other" / "cache.yaml", "services:\n  cache:\n    image: busybox:${CACHE_TAG}\n    build: ./ctx\n")
    _w(tmp_path / "compose.yaml", """
include:
  - sub/db.yaml
  - path: [other/cache.yaml]
    project_directory: other/..
    env_file: other/vars.env
services:
  web: {image: busybox, depends_on: [db, cache]}
""")
    p = _load(tmp_path, environ={"SHARED": "shell"})
    assert set(p.services) == {"web", "db", "cache"}
    db = p.services["db"]
    assert db["image"] == "busybox:sub"                          # the included .env's default
    assert db["environment"] == {"SHARED": "shell"}              # the shell wins over it
    assert db["volumes"][0]["source"] == str(tmp_path / "sub" / "data")
    assert p.model["volumes"]["dbvol"]["name"] == f"{p.name}_dbvol"
    cache = p.services["cache"]
    assert cache["image"] == "busybox:7"
    assert cache["build"]["context"] == str(tmp_path / "ctx")     # project_directory, not the file's dir


def test_include_errors(tmp_path):
    _w(tmp_path / "compose.yaml", "include: [nope.yaml]\nservices:\n  a: {image: x}\n")
    with pytest.raises(NotFound, match=r"include: open .*nope.yaml: no such file or directory"):
        _load(tmp_path)
    _w(tmp_path / "a.yaml", "include: [b.yaml]\nservices:\n  a: {image: x}\n")
    _w(tmp_path / "b.yaml", "include: [a.yaml]\nservices:\n  b: {image: x}\n")
    _w(tmp_path / "compose.yaml", "include: [a.yaml]\nservices:\n  main: {image: x}\n")
    with pytest.raises(ComposeInvalid, match=r"include cycle detected: .*a.yaml -> .*b.yaml -> .*a.yaml"):
        _load(tmp_path)
    _w(tmp_path / "c.yaml", "services:\n  main: {image: y}\n")
    _w(tmp_path / "compose.yaml", "include: [c.yaml]\nservices:\n  main: {image: x}\n")
    with pytest.raises(ComposeInvalid, match=r"c.yaml defines conflicting service main"):
        _load(tmp_path)
    _w(tmp_path / "compose.yaml", "include: [{paht: c.yaml}]\nservices:\n  main: {image: x}\n")
    with pytest.raises(ComposeInvalid, match=r"include\[0\] must be a path"):
        _load(tmp_path)


def test_include_env_file_feeds_interpolation_only(tmp_path):
    # compose-spec include.md: an include's env_file defines "default values when interpolating variables"
    # in the included file; it is not a service env_file, so its variables never reach containers.
    _w(tmp_path / "sub" / "vars.env", "TAG=9\nSECRET_ONLY_IN_FILE=s3cret\nFROM_FILE=file\nBARE=from-include-file\n")
    _w(tmp_path / "sub" / ".env", "TAG=default-env-file-not-read\n")
    _w(tmp_path / "sub" / "svc.yaml", """
services:
  svc:
    image: busybox:${TAG}
    environment:
      INTERPOLATED: "${FROM_FILE}"
      BARE:
""")
    _w(tmp_path / "nodefault" / ".env", "TAG=from-dotenv\n")
    _w(tmp_path / "nodefault" / "other.yaml", "services:\n  other:\n    image: busybox:${TAG:-none}\n")
    _w(tmp_path / "compose.yaml", """
include:
  - path: sub/svc.yaml
    env_file: sub/vars.env
  - path: nodefault/other.yaml
    env_file: /dev/null
services:
  main: {image: busybox}
""")
    p = _load(tmp_path, environ={"BARE": "from-shell"})
    svc = p.services["svc"]
    assert svc["image"] == "busybox:9"                            # env_file replaces the default .env
    assert svc["environment"] == {"INTERPOLATED": "file", "BARE": "from-shell"}
    assert "env_file" not in svc
    assert p.services["other"]["image"] == "busybox:none"         # /dev/null: no .env at all
    assert all("SECRET_ONLY_IN_FILE" not in (s.get("environment") or {}) for s in p.services.values())
    assert "SECRET_ONLY_IN_FILE" not in p.env                     # nor the project's environment
    # A bare variable resolves from the project's environment, never from the include's env_file.
    p = _load(tmp_path, environ={})
    assert p.services["svc"]["environment"].get("BARE") in (None, "")
