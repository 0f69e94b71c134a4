"""The real docker CLI and docker-py against dockyardd."""

import shutil

import docker
import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def client(daemon):
    c = docker.DockerClient(base_url=daemon.host, version="auto", timeout=60)
    yield c
    c.close()


def test_docker_py_run_list_logs_remove(client):
    assert client.ping() is True
    assert client.containers.run("busybox", ["echo", "hello"], remove=True) == b"hello\n"
    c = client.containers.run("busybox", ["sh", "-c", "echo pyout"], detach=True, name="pyclient1")
    try:
        assert c.wait(timeout=30)["StatusCode"] == 0
        assert c.logs() == b"pyout\n"
        names = [x.name for x in client.containers.list(all=True)]
        assert "pyclient1" in names
        c.reload()
        assert c.status == "exited"
    finally:
        c.remove(force=True)
    tags = [t for img in client.images.list() for t in img.tags]
    assert "busybox:latest" in tags
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("pyclient1")
    with pytest.raises(docker.errors.ImageNotFound):
        client.containers.create("no-such-image-here")


def test_docker_py_exit_status(client):
    with pytest.raises(docker.errors.ContainerError) as err:
        client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 4"], remove=True, stderr=True)
    assert err.value.exit_status == 4


# Debian's docker.io provides this client on a machine without one: setup.sh
# --with-tests installs it, so these tests never skip in CI.
needs_docker = pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")


@needs_docker
def test_docker_cli_run_ps_logs_rm_images(daemon):
    cp = daemon.docker("run", "--rm", "busybox", "echo", "hello")
    assert (cp.returncode, cp.stdout) == (0, b"hello\n"), cp.stderr
    cp = daemon.docker("run", "--name", "dockercli1", "busybox", "sh", "-c", "echo logged; exit 2")
    assert cp.returncode == 2 and cp.stdout == b"logged\n"
    ps = daemon.docker("ps", "-a").stdout.decode()
    assert "dockercli1" in ps and "Exited (2)" in ps
    assert daemon.docker("logs", "dockercli1").stdout == b"logged\n"
    assert daemon.docker("rm", "dockercli1").returncode == 0
    assert "dockercli1" not in daemon.docker("ps", "-a").stdout.decode()
    images = daemon.docker("images").stdout.decode()
    assert "busybox" in images and "latest" in images
    cp = daemon.docker("run", "--rm", "busybox", "nosuchcmd")
    assert cp.returncode == 127 and b"executable file not found" in cp.stderr
