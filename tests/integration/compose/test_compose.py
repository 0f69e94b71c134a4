"""``dockyard compose`` and Debian's docker-compose 1.29 against a real dockyardd (issue 13)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from ..conftest import ENV
from .app import free_port, write_app

pytestmark = pytest.mark.root


def compose(daemon, path: Path, *args: str, project: str, check: bool = True, env: dict | None = None):
    cp = subprocess.run([ENV.get("PYTHON", os.sys.executable), "-m", "dockyard.cli", "-H", daemon.host, "compose",
                         "-f", str(path), "-p", project, *args],
                        capture_output=True, timeout=120, env={**ENV, **(env or {})})
    if check and cp.returncode != 0:
        raise AssertionError(f"compose {args} -> {cp.returncode}\n{cp.stdout.decode()}\n{cp.stderr.decode()}")
    return cp


def ids(daemon, project: str) -> dict[str, str]:
    """service → container id, read through our CLI."""
    out = {}
    cp = daemon.cli("ps", "-a", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={project}",
                    check=True)
    for cid in cp.stdout.decode().split():
        info = json.loads(daemon.cli("inspect", cid, check=True).stdout)[0]
        out[info["Config"]["Labels"]["com.docker.compose.service"]] = cid
    return out


def get(port: int) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                return r.read().decode().strip()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def leftovers(daemon, project: str) -> list[str]:
    cs = daemon.cli("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").stdout.decode().split()
    nets = [n for n in daemon.cli("network", "ls", "--format", "{{.Name}}").stdout.decode().split()
            if n.startswith(project + "_")]
    vols = [v for v in daemon.cli("volume", "ls", "-q").stdout.decode().split() if v.startswith(project + "_")]
    return cs + nets + vols


def test_three_service_app(daemon, tmp_path):
    port = free_port()
    path = write_app(tmp_path, port)
    p = "dyapp"
    try:
        cp = compose(daemon, path, "up", "-d", project=p)
        err = cp.stderr.decode()
        # Dependency order with health gating: db healthy before api starts, api before frontend.
        assert err.index("Container dyapp-db-1  Healthy") < err.index("Container dyapp-api-1  Started") \
            < err.index("Container dyapp-frontend-1  Started"), err
        assert get(port) == "hello from frontend"
        # Services reach each other by name on <project>_default.
        out = compose(daemon, path, "exec", "-T", "frontend", "wget", "-qO-", "http://api:8000/", project=p)
        assert out.stdout.decode().strip() == "api-ok"
        out = compose(daemon, path, "exec", "-T", "api", "wget", "-qO-", "http://db:5432/x", project=p)
        assert out.stdout.decode().strip() == "db-data"
        first = ids(daemon, p)
        assert set(first) == {"frontend", "api", "db"}
        ps = compose(daemon, path, "ps", project=p).stdout.decode()
        assert f"127.0.0.1:{port}->8080/tcp" in ps and "dyapp-db-1" in ps

        # up twice changes nothing.
        cp = compose(daemon, path, "up", "-d", project=p)
        assert "Creat" not in cp.stderr.decode() and "Recreate" not in cp.stderr.decode()
        assert ids(daemon, p) == first

        # Editing one service recreates only it.
        compose(daemon, path, "up", "-d", project=p, env={"GREETING": "edited"})
        second = ids(daemon, p)
        assert second["frontend"] != first["frontend"]
        assert second["api"] == first["api"] and second["db"] == first["db"]
        assert get(port) == "edited"

        logs = compose(daemon, path, "logs", "--no-color", "db", project=p).stdout.decode()
        assert logs == "dyapp-db-1  | db ready\n"
        cfg = compose(daemon, path, "config", project=p).stdout.decode()
        assert f"published: '{port}'" in cfg and "name: dyapp_dbdata" in cfg
    finally:
        compose(daemon, path, "down", "-v", "--rmi", "local", project=p, check=False)
    assert leftovers(daemon, p) == []


def test_invalid_file_and_missing_variable(daemon, tmp_path):
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  web:\n    image: busybox\n    prots: [80]\n")
    cp = compose(daemon, bad, "up", "-d", project="dybad", check=False)
    assert cp.returncode == 1
    assert "validating compose.yaml: services.web additional properties 'prots' not allowed" in cp.stderr.decode()
    path = write_app(tmp_path / "app", 1)
    (tmp_path / "app" / ".env").unlink()
    cp = compose(daemon, path, "config", project="dybad", check=False)
    assert "required variable FRONT_PORT is missing a value: set FRONT_PORT" in cp.stderr.decode()
    assert leftovers(daemon, "dybad") == []


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="setup.sh --with-tests installs docker-compose")
def test_docker_compose_interop(daemon, tmp_path):
    # service_started here; health gating with docker-compose: test_compose_keys.py.
    port = free_port()
    path = write_app(tmp_path, port, condition="service_started")
    p = "dyinterop"
    dc_env = {k: v for k, v in ENV.items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
    dc_env.update(DOCKER_HOST=daemon.host, DOCKER_CONFIG=str(tmp_path / "dcfg"))

    def dc(*args: str) -> subprocess.CompletedProcess:
        cp = subprocess.run(["docker-compose", "-f", str(path), "-p", p, *args], capture_output=True,
                            timeout=120, env=dc_env)
        assert cp.returncode == 0, cp.stderr.decode()
        return cp

    try:
        # docker-compose makes the project; dockyard compose sees it and takes it down.
        dc("up", "-d")
        assert get(port) == "hello from frontend"
        ps = compose(daemon, path, "ps", "--services", project=p).stdout.decode().split()
        assert sorted(ps) == ["api", "db", "frontend"]
        compose(daemon, path, "down", "-v", project=p)
        assert leftovers(daemon, p) == []
        # And the other way round.
        compose(daemon, path, "up", "-d", project=p)
        # (``ps --services``: the table wraps long names at the terminal width.)
        assert sorted(dc("ps", "--services").stdout.decode().split()) == ["api", "db", "frontend"]
        ids = dc("ps", "-q").stdout.decode().split()
        names = {json.loads(daemon.cli("inspect", i, check=True).stdout)[0]["Name"] for i in ids}
        assert names == {"/dyinterop-api-1", "/dyinterop-db-1", "/dyinterop-frontend-1"}
        dc("down", "-v", "--rmi", "local")
        assert leftovers(daemon, p) == []
    finally:
        compose(daemon, path, "down", "-v", "--rmi", "local", project=p, check=False)


def test_verbs_scale_run_orphans(daemon, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text("""\
services:
  worker:
    image: busybox
    command: ["sleep", "300"]
    init: true
    healthcheck: {test: "true", interval: 1s}
  tools:
    image: busybox
    profiles: [debug]
    command: ["echo", "tools-ran"]
""")
    p = "dyverbs"
    try:
        compose(daemon, path, "up", "-d", "--wait", "--scale", "worker=2", project=p)
        assert sorted(compose(daemon, path, "ps", "--services", project=p).stdout.decode().split()) == ["worker"]
        names = compose(daemon, path, "ps", project=p).stdout.decode()
        assert "dyverbs-worker-1" in names and "dyverbs-worker-2" in names
        # Scale back down: the highest number goes.
        compose(daemon, path, "up", "-d", project=p)
        assert "dyverbs-worker-2" not in compose(daemon, path, "ps", project=p).stdout.decode()
        # run: a one-off container of a profiled service, removed with --rm, not seen by ps.
        out = compose(daemon, path, "run", "--rm", "-T", "tools", project=p)
        assert out.stdout.decode().strip() == "tools-ran"
        out = compose(daemon, path, "run", "--rm", "-T", "worker", "sh", "-c", "exit 3", project=p, check=False)
        assert out.returncode == 3
        assert "run" not in compose(daemon, path, "ps", "-a", project=p).stdout.decode()
        assert "sleep 300" in compose(daemon, path, "top", project=p).stdout.decode()
        assert "busybox" in compose(daemon, path, "images", project=p).stdout.decode()
        compose(daemon, path, "stop", project=p)
        assert compose(daemon, path, "ps", "-q", project=p).stdout.decode().split() == []
        compose(daemon, path, "start", project=p)
        assert len(compose(daemon, path, "ps", "-q", project=p).stdout.decode().split()) == 1
        # A service removed from the file becomes an orphan: warned about, removed on request.
        path.write_text("services:\n  other:\n    image: busybox\n    command: [sleep, '300']\n    init: true\n")
        cp = compose(daemon, path, "up", "-d", project=p)
        assert "Found orphan containers ([dyverbs-worker-1])" in cp.stderr.decode()
        compose(daemon, path, "up", "-d", "--remove-orphans", project=p)
        assert compose(daemon, path, "ps", "--services", project=p).stdout.decode().split() == ["other"]
    finally:
        compose(daemon, path, "down", "-v", "--remove-orphans", project=p, check=False)
    assert leftovers(daemon, p) == []
