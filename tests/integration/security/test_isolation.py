"""Isolation checks run inside containers: a static probe (probe.c) as the only binary of a
tiny image, plus busybox for ip/sysctl.  The same checks run against a reference Docker engine
when one answers (DOCKYARD_REF_DOCKER, default unix:///tmp/refdocker/docker.sock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.root
HERE = Path(__file__).parent
DEFAULT_CAPS = ("CAP_CHOWN CAP_DAC_OVERRIDE CAP_FSETID CAP_FOWNER CAP_MKNOD CAP_NET_RAW CAP_SETGID "
                "CAP_SETUID CAP_SETFCAP CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_KILL "
                "CAP_AUDIT_WRITE").split()
KCORE = Path("/proc/kcore").exists()  # some VM kernels have none
BLOCKED = ("mount", "mount_cgroup", "unshare_user", "unshare_mnt", "keyctl", "reboot", "kexec_load",
           "swapon", "init_module")


def caps_hex(names) -> str:
    from dockyard.runtime.capabilities import mask

    return f"{mask(names):016x}"


@pytest.fixture(scope="module")
def probe_image(daemon, tmp_path_factory) -> str:
    """secprobe:latest, whose /bin/busybox is the static probe (the seed builder's layout)."""
    d = tmp_path_factory.mktemp("probe")
    binary = d / "probe"
    subprocess.run(["gcc", "-static", "-O2", "-o", str(binary), str(HERE / "probe.c")], check=True, timeout=60)
    from dockyard.image.seed import build_archive

    tar = d / "secprobe.tar"
    tar.write_bytes(build_archive(binary, tag="secprobe:latest", full_name="docker.io/library/secprobe:latest"))
    daemon.cli("load", "-q", "-i", str(tar), check=True)
    return str(tar)


def probe(daemon, *flags: str) -> dict[str, str]:
    cp = daemon.cli("run", "--rm", *flags, "secprobe", "/bin/busybox", str(os.getpid()))
    assert cp.returncode == 0, cp.stderr
    return dict(line.split("=", 1) for line in cp.stdout.decode().splitlines())


def test_default_isolation(daemon, probe_image):
    r = probe(daemon)
    want = caps_hex(DEFAULT_CAPS)
    assert (r["CapEff"], r["CapPrm"], r["CapBnd"]) == (want, want, want)
    assert (r["CapInh"], r["CapAmb"]) == ("0" * 16, "0" * 16)
    assert r["Seccomp"] == "2" and r["NoNewPrivs"] == "0"
    assert {k: r[k] for k in BLOCKED} == {k: "EPERM" for k in BLOCKED}
    assert r["ptrace_host"] == "ESRCH"  # the host's processes are not even visible
    assert r["chroot"] == "ok"  # CAP_SYS_CHROOT is a default
    assert r["kcore_bytes"] == ("0" if KCORE else "-1")  # masked by /dev/null
    assert r["write_proc_sys"] == "EROFS" and r["mkdir_sys"] == "EROFS"
    assert r["mkdir_root"] == "ok"
    assert r["extra_fds"] == "0" and r["cwd"] == "/"  # no runtime fd, no host directory


def test_non_root_user_keeps_no_capability(daemon, probe_image):
    r = probe(daemon, "-u", "1000")
    assert r["CapEff"] == r["CapPrm"] == "0" * 16
    assert r["CapBnd"] == caps_hex(DEFAULT_CAPS)


def test_cap_add_drop_nnp_readonly_unconfined(daemon, probe_image):
    r = probe(daemon, "--cap-drop", "ALL", "--cap-add", "sys_admin", "--security-opt", "no-new-privileges",
              "--read-only", "--security-opt", "seccomp=unconfined")
    assert r["CapEff"] == caps_hex(["CAP_SYS_ADMIN"])
    assert r["NoNewPrivs"] == "1" and r["Seccomp"] == "0"
    assert r["mkdir_root"] == "EROFS"
    assert r["unshare_mnt"] == "ok"  # SYS_ADMIN without seccomp: the container's own mount ns


def test_privileged(daemon, probe_image):
    r = probe(daemon, "--privileged")
    from dockyard.daemon.hostsecurity import own_bounding_set

    assert int(r["CapEff"], 16) == own_bounding_set()  # everything the daemon itself holds
    assert r["Seccomp"] == "0"
    assert r["mkdir_sys"] != "EROFS" and (r["kcore_bytes"] != "0" or not KCORE)
    cp = daemon.cli("run", "--rm", "--privileged", "busybox", "sh", "-c", "test -c /dev/kmsg && echo dev")
    assert cp.stdout == b"dev\n", cp.stderr


def test_systempaths_unconfined(daemon, probe_image):
    r = probe(daemon, "--security-opt", "systempaths=unconfined")
    assert (r["kcore_bytes"] != "0" or not KCORE) and r["write_proc_sys"] != "EROFS" and r["Seccomp"] == "2"


def test_custom_seccomp_profile_blocks_with_eperm(daemon, probe_image, tmp_path):
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile))
    r = probe(daemon, "--security-opt", f"seccomp={path}")
    assert r["mkdir_root"] == "EPERM" and r["chroot"] == "ok"


def test_cap_add_net_admin_allows_ip_and_nothing_else(daemon):
    cmd = ["busybox", "sh", "-c", "ip addr add 10.9.9.9/32 dev lo && echo added; grep CapEff /proc/self/status"]
    plain = daemon.cli("run", "--rm", *cmd)
    assert b"added" not in plain.stdout
    cp = daemon.cli("run", "--rm", "--cap-add", "NET_ADMIN", *cmd)
    assert b"added" in cp.stdout, cp.stderr
    assert cp.stdout.split()[-1].decode() == caps_hex(DEFAULT_CAPS + ["CAP_NET_ADMIN"])


def test_namespaced_sysctl(daemon):
    cp = daemon.cli("run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "busybox",
                    "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/ip_unprivileged_port_start")
    assert cp.stdout == b"1\n0\n", cp.stderr
    bad = daemon.cli("run", "--rm", "--sysctl", "vm.swappiness=1", "busybox", "true")
    assert bad.returncode == 125
    assert b"sysctl 'vm.swappiness=1' is not allowed" in bad.stderr


@pytest.mark.parametrize("flags,message", [
    (["--cap-add", "foo"], b'invalid CapAdd: unknown capability: "CAP_FOO"'),
    (["--cap-drop", "bar"], b'invalid CapDrop: unknown capability: "CAP_BAR"'),
    (["--security-opt", "foo=bar"], b'invalid --security-opt 2: "foo=bar"'),
    (["--security-opt", "no-new-privileges=maybe"], b'invalid --security-opt 2: "no-new-privileges=maybe"'),
    (["--security-opt", "foo"], b'Invalid --security-opt: "foo"'),
])
def test_dockers_messages(daemon, flags, message):
    cp = daemon.cli("run", "--rm", *flags, "busybox", "true")
    assert cp.returncode == 125 and message in cp.stderr, cp.stderr


def test_docker_cli_and_inspect(daemon):
    cp = daemon.cli("create", "--cap-add", "NET_ADMIN", "--read-only", "busybox", "true")
    assert cp.returncode == 0, cp.stderr
    cid = cp.stdout.decode().strip()
    host = json.loads(daemon.docker("inspect", cid).stdout)[0]["HostConfig"]
    daemon.docker("rm", cid)
    assert host["CapAdd"] == ["NET_ADMIN"] and host["ReadonlyRootfs"] is True
    assert "/proc/kcore" in host["MaskedPaths"] and "/proc/sys" in host["ReadonlyPaths"]


def test_device_allow_list(daemon):
    # CAP_MKNOD is a default, so the node can be made; the device cgroup refuses to open it.
    cp = daemon.cli("run", "--rm", "busybox", "sh", "-c",
                    "mknod /mem c 1 1 && echo made; head -c1 /mem >/dev/null && echo opened; "
                    "head -c1 /dev/zero | wc -c")
    assert cp.stdout == b"made\n1\n", (cp.stdout, cp.stderr)
    assert b"Operation not permitted" in cp.stderr
