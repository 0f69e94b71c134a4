"""Acceptance clients against the server with fake services: docker-py and the docker CLI."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def test_docker_py_ping_list_create(running_server):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=running_server.url, version="auto", timeout=10)
    try:
        assert client.ping() is True
        assert client.version()["ApiVersion"] == "1.47"
        created = client.containers.create("busybox", ["echo", "hi"], name="pyc", labels={"k": "v"})
        assert len(created.id) == 64 and created.name == "pyc"
        body = running_server.containers.records[created.id]["Body"]
        assert body["Image"] == "busybox" and body["Cmd"] == ["echo", "hi"] and body["Labels"] == {"k": "v"}
        listed = client.containers.list(all=True)
        assert [c.id for c in listed] == [created.id]
        assert client.containers.list() == []  # not running
        assert [t for i in client.images.list() for t in i.tags] == ["busybox:latest", "ghcr.io/org/app:1.0"]
        with pytest.raises(docker.errors.NotFound):
            client.containers.get("ghost")
        # run = create + start + wait + logs in docker-py
        out = client.containers.run("busybox", ["echo", "from", "run"], remove=False)
        assert out == b"from run\n"
    finally:
        client.close()


def _docker(srv, *args: str, tmp) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DOCKER_CONFIG=str(tmp), DOCKER_CLI_HINTS="false")
    env.pop("DOCKER_HOST", None)
    return subprocess.run(["docker", "-H", srv.url, *args], capture_output=True, text=True, timeout=30, env=env)


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")
def test_docker_cli_version_ps_info(running_server, tmp_path):
    r = _docker(running_server, "version", tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "API version:      1.47" in r.stdout and "Dockyard" in r.stdout
    running_server.containers.create({"Image": "busybox", "Cmd": ["echo", "x"]}, "cli1")
    r = _docker(running_server, "ps", "-a", tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert lines[1].split()[-1] == "cli1"
    r = _docker(running_server, "info", tmp=tmp_path)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Storage Driver: overlay2" in r.stdout


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")
def test_docker_cli_run_and_errors(running_server, tmp_path):
    r = _docker(running_server, "run", "--name", "r1", "busybox", "fail", "3", tmp=tmp_path)
    assert (r.returncode, r.stderr) == (3, "failing\n")
    r = _docker(running_server, "run", "busybox", "echo", "hello", "world", tmp=tmp_path)
    assert (r.returncode, r.stdout) == (0, "hello world\n")
    r = _docker(running_server, "rm", "ghost", tmp=tmp_path)
    assert r.returncode == 1 and "No such container: ghost" in r.stderr
    r = _docker(running_server, "run", "busybox", "missing", tmp=tmp_path)
    assert r.returncode == 127, r.stderr
