"""The walking skeleton through our own CLI, against a real daemon and runtime."""

import json

import pytest

from .conftest import container_json

pytestmark = pytest.mark.root


def test_run_echo_hello(daemon):
    cp = daemon.cli("run", "--rm", "busybox", "echo", "hello")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"hello\n"


def test_stdout_and_stderr_are_kept_apart(daemon):
    cp = daemon.cli("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert (cp.stdout, cp.stderr) == (b"out\n", b"err\n")


@pytest.mark.parametrize("cmd,code", [
    (["sh", "-c", "exit 3"], 3),
    (["sh", "-c", "exit 255"], 255),
    (["true"], 0),
    (["false"], 1),
])
def test_exit_codes(daemon, cmd, code):
    assert daemon.cli("run", "--rm", "busybox", *cmd).returncode == code


def test_command_not_found_is_127_with_dockers_text(daemon):
    cp = daemon.cli("run", "--rm", "busybox", "nosuchcmd")
    assert cp.returncode == 127
    assert b'exec: "nosuchcmd": executable file not found in $PATH' in cp.stderr


def test_not_executable_is_126(daemon):
    cp = daemon.cli("run", "--rm", "busybox", "/etc/passwd")
    assert cp.returncode == 126
    assert b"permission denied" in cp.stderr


def test_namespaces_and_filesystem(daemon):
    script = ("echo pid=$$; hostname; cat /etc/hostname; "
              "ip -o link show lo | grep -q UP && echo lo=up; "
              "touch /sys/x 2>/dev/null || echo sys=ro; "
              "ls /dev/null /dev/zero /dev/urandom /dev/pts/ptmx >/dev/null && echo dev=ok; "
              "readlink /dev/fd; ps -o pid >/tmp/ps.txt; wc -l </tmp/ps.txt")
    cp = daemon.cli("run", "--rm", "-h", "box1", "busybox", "sh", "-c", script)
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.decode().split("\n")
    assert lines[0] == "pid=1"
    assert lines[1:3] == ["box1", "box1"]
    assert "lo=up" in lines and "sys=ro" in lines and "dev=ok" in lines
    assert "/proc/self/fd" in lines
    assert int(lines[-2]) == 3  # header, sh, ps: a fresh pid namespace, host processes invisible


def test_env_workdir_user_entrypoint_labels(daemon, tmp_path):
    envfile = tmp_path / "env"
    envfile.write_text("# comment\nFROMFILE=yes\n")
    cp = daemon.cli("run", "--rm", "-e", "A=1", "--env-file", str(envfile), "-w", "/tmp/work",
                    "-u", "nobody", "busybox", "sh", "-c", 'echo $A $FROMFILE; pwd; id -u; echo $PATH')
    assert cp.returncode == 0, cp.stderr
    out = cp.stdout.decode().split("\n")
    assert out[0] == "1 yes"
    assert out[1] == "/tmp/work"
    assert out[2] == "65534"
    assert out[3].startswith("/usr/local/sbin")
    cp = daemon.cli("run", "--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint")
    assert cp.stdout == b"via entrypoint\n"
    cp = daemon.cli("run", "--rm", "-u", "ghost", "busybox", "true")
    assert cp.returncode != 0 and b"unable to find user ghost" in cp.stderr


def test_create_start_attach_logs_ps_rm(daemon):
    cp = daemon.cli("create", "--name", "lifecycle1", "-l", "k=v", "busybox", "sh", "-c", "echo one; echo two >&2")
    assert cp.returncode == 0, cp.stderr
    cid = cp.stdout.decode().strip()
    assert len(cid) == 64
    ps = daemon.cli("ps", "-a").stdout.decode()
    assert "lifecycle1" in ps and "Created" in ps
    cp = daemon.cli("start", "-a", "lifecycle1")
    assert (cp.returncode, cp.stdout, cp.stderr) == (0, b"one\n", b"two\n")
    info = container_json(daemon, "lifecycle1")
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 0
    assert info["Config"]["Labels"] == {"k": "v"} and info["Name"] == "/lifecycle1"
    assert info["State"]["FinishedAt"] >= info["State"]["StartedAt"]
    logs = daemon.cli("logs", "lifecycle1")
    assert (logs.stdout, logs.stderr) == (b"one\n", b"two\n")
    assert "Exited (0)" in daemon.cli("ps", "-a").stdout.decode()
    assert daemon.cli("ps", "-q").stdout == b""
    assert daemon.cli("rm", "lifecycle1").stdout.decode().strip() == "lifecycle1"
    cp = daemon.cli("rm", "lifecycle1")
    assert cp.returncode == 1 and b"No such container: lifecycle1" in cp.stderr


def test_detached_logs_follow_and_force_remove(daemon):
    cid = daemon.cli("run", "-d", "busybox", "sh", "-c", "for i in 1 2 3; do echo $i; done; sleep 600",
                     check=True).stdout.decode().strip()
    try:
        assert cid in daemon.cli("ps", "-q", "--no-trunc").stdout.decode()
        cp = daemon.cli("rm", cid)
        assert cp.returncode == 1 and b"stop the container before removing or force remove" in cp.stderr
        logs = daemon.cli("logs", "--tail", "2", cid).stdout
        assert logs == b"2\n3\n"
        pid = container_json(daemon, cid)["State"]["Pid"]
        assert pid > 0
    finally:
        assert daemon.cli("rm", "-f", cid).returncode == 0
    assert daemon.cli("ps", "-aq").stdout == b""


def test_images_and_inspect(daemon):
    out = daemon.cli("images").stdout.decode().splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    # Other tests share this daemon and load images of their own: find busybox's row.
    assert ["busybox", "latest"] in [line.split()[:2] for line in out[1:]]
    info = json.loads(daemon.cli("inspect", "busybox").stdout)[0]
    assert info["RepoTags"] == ["busybox:latest"] and info["Config"]["Cmd"] == ["sh"]
    cp = daemon.cli("run", "--rm", "nosuchimage")
    assert cp.returncode != 0 and b"Unable to find image 'nosuchimage:latest' locally" in cp.stderr
    # The test daemon runs with --registry-loopback-only: the implicit pull is
    # refused before any lookup instead of reaching for Docker Hub.
    assert b"loopback" in cp.stderr


def test_version_and_info(daemon):
    assert b"API version" in daemon.cli("version").stdout
    assert b"Containers" in daemon.cli("info").stdout
