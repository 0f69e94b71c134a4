"""Daemon registry settings and CLI credentials against real registries on 127.0.0.1.

One daemon of its own (``--registry-mirror`` twice: a dead one, then a live
registry holding ``library/busybox``; ``--certs-dir``), still with
``--registry-loopback-only``, so Docker Hub can never be reached.  The
credential-helper and ``X-Registry-Auth`` tests use the session daemon.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ENV, Daemon, _mount_lines, start_daemon, stop_daemon
from .registries import DistributionRegistry, free_port, make_ca

pytestmark = pytest.mark.root


def run(d: Daemon, *args: str, env: dict[str, str] | None = None, input: bytes | None = None,
        check: bool = False) -> subprocess.CompletedProcess:
    cp = subprocess.run([sys.executable, "-m", "dockyard.cli", "-H", d.host, *args], input=input,
                        capture_output=True, timeout=60, env={**ENV, **(env or {})})
    if check and cp.returncode != 0:
        raise AssertionError(f"dockyard {' '.join(args)} -> {cp.returncode}\n{cp.stdout.decode()}{cp.stderr.decode()}")
    return cp


def skopeo_copy(seed_tar: Path, dest: str, *flags: str) -> None:
    subprocess.run(["skopeo", "--insecure-policy", "copy", *flags, f"docker-archive:{seed_tar}", f"docker://{dest}"],
                   check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory, seed_tar):
    """(daemon, mirror registry, certs.d directory)."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    base = tmp_path_factory.mktemp("mirrored")
    mirror = DistributionRegistry(base / "mirror")
    try:
        skopeo_copy(seed_tar, f"{mirror.host}/library/busybox:latest", "--dest-tls-verify=false")
        certs = base / "certs.d"
        certs.mkdir()
        dead = f"http://127.0.0.1:{free_port()}"
        (base / "d").mkdir()
        d = start_daemon(base / "d", extra=("--registry-mirror", dead, "--registry-mirror", f"http://{mirror.host}",
                                            "--certs-dir", str(certs)))
        try:
            yield d, mirror, certs
            ids = run(d, "images", "-aq").stdout.decode().split()
            if ids:
                run(d, "rmi", "-f", *ids)
        finally:
            stop_daemon(d)
        assert d.proc.returncode == 0 and _mount_lines(d.data_root, d.exec_root) == []
    finally:
        mirror.stop()


def test_docker_hub_pulls_come_from_the_mirror_and_never_from_hub(mirrored) -> None:
    d, mirror, _ = mirrored
    out = run(d, "pull", "busybox", check=True).stdout.decode()
    assert "Status: Downloaded newer image for busybox:latest" in out and out.strip().endswith("docker.io/library/busybox:latest")
    img = json.loads(run(d, "inspect", "--type", "image", "busybox", check=True).stdout)[0]
    assert img["RepoTags"] == ["busybox:latest"] and img["RepoDigests"][0].startswith("busybox@sha256:")
    assert run(d, "run", "--rm", "busybox", "echo", "mirrored").stdout == b"mirrored\n"
    # The mirror lacks the tag: its answer stands (Docker Hub is not on loopback, so no fallback there).
    absent = run(d, "pull", "busybox:absent")
    assert absent.returncode == 1
    assert "manifest for busybox:absent not found: manifest unknown" in absent.stderr.decode()
    # Mirrors serve pulls only: a push to docker.io is refused, not sent to a mirror.
    run(d, "tag", "busybox", "someone/bb:1", check=True)
    push = run(d, "push", "someone/bb:1")
    assert push.returncode == 1 and "--registry-loopback-only" in push.stderr.decode()
    run(d, "rmi", "someone/bb:1", check=True)


def test_failing_mirrors_do_not_fall_back_to_docker_hub(mirrored, tmp_path) -> None:
    d, mirror, _ = mirrored
    stopped = DistributionRegistry(tmp_path / "gone")  # a registry that is stopped: connection refused
    stopped.stop()
    cp = run(d, "pull", f"{stopped.host}/x/y:1")
    assert cp.returncode == 1 and "connection refused" in cp.stderr.decode()
    run(d, "rmi", "busybox")
    mirror.stop()  # both mirrors down now; the fixture's stop is idempotent
    cp = run(d, "pull", "busybox:latest")
    assert cp.returncode == 1 and "connection refused" in cp.stderr.decode(), cp.stderr
    assert "registry-1.docker.io" not in cp.stderr.decode()


def test_certs_d_client_certificate_and_ca(mirrored, tmp_path, seed_tar) -> None:
    d, _, certs = mirrored
    ca = make_ca(tmp_path / "ca")
    reg = DistributionRegistry(tmp_path / "tls", tls=ca, client_auth=True)
    name = f"{reg.host}/tls/bb:1"
    try:
        skopeo_dir = tmp_path / "skopeo-certs"
        skopeo_dir.mkdir()
        shutil.copy(ca.ca, skopeo_dir / "ca.crt")
        shutil.copy(ca.client_cert, skopeo_dir / "client.cert")
        shutil.copy(ca.client_key, skopeo_dir / "client.key")
        skopeo_copy(seed_tar, name, "--dest-cert-dir", str(skopeo_dir))
        refused = run(d, "pull", name)
        assert refused.returncode == 1 and "remote error: tls: bad certificate" in refused.stderr.decode(), refused.stderr
        host_dir = certs / reg.host
        host_dir.mkdir()
        for f in ("ca.crt", "client.cert", "client.key"):
            shutil.copy(skopeo_dir / f, host_dir / f)
        run(d, "pull", name, check=True)
        assert run(d, "run", "--rm", name, "echo", "tls").stdout == b"tls\n"
        run(d, "rmi", name, check=True)
    finally:
        reg.stop()


HELPER = '''#!{python}
# A docker-credential-* helper keeping secrets in store.json beside itself.
import json, pathlib, sys
store = pathlib.Path(__file__).with_name("store.json")
data = json.loads(store.read_text()) if store.exists() else {{}}
action = sys.argv[1]
if action == "store":
    d = json.load(sys.stdin)
    data[d["ServerURL"]] = {{"Username": d["Username"], "Secret": d["Secret"]}}
elif action == "get":
    key = sys.stdin.read().strip()
    if key not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({{"ServerURL": key, **data[key]}}))
elif action == "erase":
    data.pop(sys.stdin.read().strip(), None)
elif action == "list":
    print(json.dumps({{k: v["Username"] for k, v in data.items()}}))
store.write_text(json.dumps(data))
'''


def test_credential_helpers_store_and_serve_secrets(daemon: Daemon, tmp_path) -> None:
    reg = DistributionRegistry(tmp_path / "reg", auth="htpasswd", users={"alice": "s3cret"})
    bin_dir, cfg = tmp_path / "bin", tmp_path / "cfg"
    bin_dir.mkdir()
    cfg.mkdir()
    helper = bin_dir / "docker-credential-dyfake"
    helper.write_text(HELPER.format(python=sys.executable))
    helper.chmod(0o755)
    store = bin_dir / "store.json"
    env = {"DOCKER_CONFIG": str(cfg), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    name = f"{reg.host}/alice/helped:1"
    try:
        (cfg / "config.json").write_text(json.dumps({"credHelpers": {reg.host: "dyfake"}}))
        run(daemon, "login", "-u", "alice", "--password-stdin", reg.host, input=b"s3cret\n", env=env, check=True)
        assert json.loads(store.read_text()) == {reg.host: {"Username": "alice", "Secret": "s3cret"}}
        assert json.loads((cfg / "config.json").read_text())["auths"] == {reg.host: {}}  # no secret in the file
        run(daemon, "tag", "busybox", name, check=True)
        run(daemon, "push", name, env=env, check=True)
        run(daemon, "rmi", name, check=True)
        # credsStore (the default helper) serves the same secret.
        (cfg / "config.json").write_text(json.dumps({"credsStore": "dyfake"}))
        run(daemon, "pull", name, env=env, check=True)
        out = run(daemon, "logout", reg.host, env=env, check=True).stdout.decode()
        assert out == f"Removing login credentials for {reg.host}\n" and json.loads(store.read_text()) == {}
        run(daemon, "rmi", name, check=True)
        assert run(daemon, "pull", name, env=env).returncode == 1
    finally:
        reg.stop()


def test_docker_cli_login_sends_x_registry_auth(daemon: Daemon, tmp_path) -> None:
    reg = DistributionRegistry(tmp_path / "reg", auth="htpasswd", users={"carol": "pw0"})
    env = {k: v for k, v in ENV.items() if not k.startswith("DOCKER_")}
    env["DOCKER_CONFIG"] = str(tmp_path / "cfg")

    def docker(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "-H", daemon.host, *args], input=input, capture_output=True, timeout=60,
                              env=env)

    name = f"{reg.host}/carol/bb:1"
    try:
        assert docker("tag", "busybox", name).returncode == 0
        denied = docker("push", name)
        assert denied.returncode == 1 and "unauthorized" in denied.stderr.decode(), denied.stderr
        login = docker("login", "-u", "carol", "--password-stdin", reg.host, input=b"pw0\n")
        assert login.returncode == 0 and "Login Succeeded" in login.stdout.decode(), login.stderr
        pushed = docker("push", name)
        assert pushed.returncode == 0 and "1: digest: sha256:" in pushed.stdout.decode(), pushed.stderr
        assert docker("rmi", name).returncode == 0
        pulled = docker("pull", name)
        assert pulled.returncode == 0, pulled.stderr
        assert docker("logout", reg.host).returncode == 0
        assert docker("rmi", name).returncode == 0
    finally:
        reg.stop()
