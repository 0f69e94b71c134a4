"""Parallel start, service keys as inspect shows them, secrets/configs, include/extends, TLS hosts (issue 13)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ..conftest import ENV, start_daemon, stop_daemon
from ..security.certs import make_pki
from .app import free_port, write_app
from .test_compose import compose, get, leftovers

pytestmark = pytest.mark.root

PARALLEL = """\
services:
  a:
    image: busybox
    volumes: [shared:/s]
    # Finishes only once b has started: a serial `up` (a, then c waiting for a, then b) cannot succeed.
    command: ["sh", "-c", "touch /s/a; i=0; while [ ! -f /s/b ]; do i=$$((i+1)); [ $$i -gt 300 ] && exit 3; sleep 0.05; done"]
  c:
    image: busybox
    command: ["true"]
    depends_on:
      a: {condition: service_completed_successfully}
  b:
    image: busybox
    init: true
    volumes: [shared:/s]
    command: ["sh", "-c", "touch /s/b; exec sleep 300"]
volumes:
  shared: {}
"""


def inspect(daemon, name: str) -> dict:
    return json.loads(daemon.cli("inspect", name, check=True).stdout)[0]


def test_independent_services_start_in_parallel_and_conditions_hold(daemon, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(PARALLEL)
    p = "dypar"
    try:
        err = compose(daemon, path, "up", "-d", project=p).stderr.decode()
        # c was created only after a had exited successfully (its condition), in c's own job.
        assert err.index("Container dypar-a-1  Exited") < err.index("Container dypar-c-1  Creating"), err
        assert inspect(daemon, "dypar-a-1")["State"]["ExitCode"] == 0
        assert inspect(daemon, "dypar-b-1")["State"]["Running"] is True
    finally:
        compose(daemon, path, "down", "-v", "-t", "1", project=p, check=False)
    assert leftovers(daemon, p) == []


KEYS = """\
include:
  - inc/side.yaml
services:
  keys:
    extends: {file: common/base.yaml, service: tmpl}
    entrypoint: ["/bin/sh", "-c"]
    command: ["echo up; exec sleep 300"]
    healthcheck: {test: ["CMD", "true"], interval: 2s, timeout: 3s, retries: 4, start_period: 1s}
    restart: on-failure:3
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
    tmpfs: ["/scratch:size=1m"]
    extra_hosts: ["db.local:10.9.8.7"]
    dns: [127.0.0.1]
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    init: true
    read_only: true
    user: "1000:1000"
    working_dir: /tmp
    hostname: keyhost
    stop_signal: SIGUSR1
    stop_grace_period: 7s
    labels: {tier: keys}
    logging: {driver: json-file, options: {max-size: 1m}}
    networks:
      front: {aliases: [kk]}
    ports: ["127.0.0.1::8080"]
    volumes:
      - {type: volume, source: data, target: /data, read_only: true}
      - {type: bind, source: ./bindme, target: /bindme}
      - {type: tmpfs, target: /t2, tmpfs: {size: 1048576}}
    secrets: [filesec]
  sec:
    image: busybox
    init: true
    command: ["sleep", "300"]
    secrets:
      - filesec
      - {source: envsec, target: token, uid: "1000", gid: "1001", mode: 0400}
    configs:
      - inline
      - {source: fileconf, target: /etc/app.conf}
  peer:
    image: busybox
    init: true
    command: ["sleep", "300"]
    network_mode: "service:sec"
networks:
  front: {}
volumes:
  data: {}
secrets:
  filesec: {file: ./secret.txt}
  envsec: {environment: DY_TOKEN}
configs:
  inline: {content: "inline-config"}
  fileconf: {file: ./app.conf}
"""


def test_service_keys_secrets_configs_include_extends(daemon, tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "base.yaml").write_text(
        "services:\n  tmpl:\n    image: busybox\n    environment: {FROM_BASE: '1'}\n    labels: {base: 'yes'}\n")
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "side.yaml").write_text(
        "services:\n  side:\n    image: busybox\n    init: true\n    command: [sleep, '300']\n")
    (tmp_path / "bindme").mkdir()
    (tmp_path / "secret.txt").write_text("s3cret")
    (tmp_path / "app.conf").write_text("conf-from-file")
    path = tmp_path / "compose.yaml"
    path.write_text(KEYS)
    p = "dykeys"
    try:
        compose(daemon, path, "up", "-d", project=p, env={"DY_TOKEN": "t0k3n"})
        c = inspect(daemon, "dykeys-keys-1")
        cfg, host = c["Config"], c["HostConfig"]
        assert cfg["Entrypoint"] == ["/bin/sh", "-c"] and cfg["Cmd"] == ["echo up; exec sleep 300"]
        assert "FROM_BASE=1" in cfg["Env"]                                        # extends
        assert cfg["Labels"]["tier"] == "keys" and cfg["Labels"]["base"] == "yes"
        assert cfg["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 2_000_000_000, "Timeout": 3_000_000_000,
                                      "Retries": 4, "StartPeriod": 1_000_000_000}
        assert (cfg["User"], cfg["WorkingDir"], cfg["Hostname"]) == ("1000:1000", "/tmp", "keyhost")
        assert (cfg["StopSignal"], cfg["StopTimeout"]) == ("SIGUSR1", 7)
        assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
        assert {u["Name"]: (u["Soft"], u["Hard"]) for u in host["Ulimits"]} == {"nofile": (1024, 2048),
                                                                                 "nproc": (512, 512)}
        assert host["Tmpfs"] == {"/scratch": "size=1m", "/t2": "size=1048576"}
        assert host["ExtraHosts"] == ["db.local:10.9.8.7"] and host["Dns"] == ["127.0.0.1"]
        assert host["CapAdd"] == ["NET_ADMIN"] and host["CapDrop"] == ["MKNOD"]
        assert host["Init"] is True and host["ReadonlyRootfs"] is True
        assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m"}}
        assert host["PortBindings"]["8080/tcp"][0]["HostIp"] == "127.0.0.1"
        assert f"{p}_data:/data:ro" in host["Binds"] and f"{tmp_path}/bindme:/bindme:rw" in host["Binds"]
        assert f"{tmp_path}/secret.txt:/run/secrets/filesec:ro" in host["Binds"]
        net = c["NetworkSettings"]["Networks"][f"{p}_front"]
        assert "kk" in net["Aliases"] and "keys" in net["Aliases"]
        # And in the running container: limits, hosts, user, the file secret.
        out = compose(daemon, path, "exec", "-T", "keys", "sh", "-c",
                      "ulimit -n; id -u; grep db.local /etc/hosts; cat /run/secrets/filesec; echo; touch /x 2>/dev/null || echo ro",
                      project=p).stdout.decode().split("\n")
        assert out[0] == "1024" and out[1] == "1000" and "10.9.8.7" in out[2] and out[3] == "s3cret", out
        assert out[4] == "ro", out
        # Secrets/configs from the environment, inline content and files, with owner and mode.
        out = compose(daemon, path, "exec", "-T", "sec", "sh", "-c",
                      "cat /run/secrets/filesec; echo; cat /run/secrets/token; echo; stat -c '%u %g %a' "
                      "/run/secrets/token; cat /inline; echo; cat /etc/app.conf", project=p).stdout.decode()
        assert out.split("\n") == ["s3cret", "t0k3n", "1000 1001 400", "inline-config", "conf-from-file"], out
        # network_mode service:<name> joins that service's container's network stack.
        peer = inspect(daemon, "dykeys-peer-1")
        assert peer["HostConfig"]["NetworkMode"] == "container:dykeys-sec-1" and peer["State"]["Running"] is True
        # include: the included file's service runs in this project.
        assert inspect(daemon, "dykeys-side-1")["State"]["Running"] is True
    finally:
        compose(daemon, path, "down", "-v", "-t", "1", project=p, check=False, env={"DY_TOKEN": "x"})
    assert leftovers(daemon, p) == []


def test_unsupported_key_warns(daemon, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  w:\n    image: busybox\n    platform: linux/amd64\n    command: ['true']\n")
    cp = compose(daemon, path, "up", "-d", project="dywarn")
    assert "services.w: `platform` is not supported by dockyard compose and is ignored" in cp.stderr.decode()
    compose(daemon, path, "down", project="dywarn")
    assert leftovers(daemon, "dywarn") == []


def test_tls_host_flags_reach_the_same_daemon(seed_tar):
    base = Path(tempfile.mkdtemp(prefix="dycomposetls-"))
    d = None
    try:
        pki = make_pki(base / "pki")
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        d = start_daemon(base, extra=("-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", str(pki.ca),
                                      "--tlscert", str(pki.server_cert), "--tlskey", str(pki.server_key)))
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        (base / "app").mkdir()
        (base / "app" / "compose.yaml").write_text(
            "services:\n  w:\n    image: busybox\n    init: true\n    command: [sleep, '300']\n")
        flags = ["-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert", str(pki.ca), "--tlscert",
                 str(pki.client_cert), "--tlskey", str(pki.client_key)]

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "dockyard.cli", *flags, "compose", "-p", "dytls", *args],
                                  cwd=base / "app", capture_output=True, text=True, timeout=60,
                                  env={k: v for k, v in ENV.items() if not k.startswith("DOCKYARD_")})

        cp = cli("up", "-d")
        assert cp.returncode == 0, cp.stderr
        # The container is on the TLS daemon (seen through its UNIX socket too).
        assert "dytls-w-1" in d.cli("ps", "--format", "{{.Names}}", check=True).stdout.decode()
        assert "dytls-w-1" in cli("ps").stdout
        cp = cli("down", "-t", "1")
        assert cp.returncode == 0, cp.stderr
        assert d.cli("ps", "-aq", check=True).stdout.decode().strip() == ""
    finally:
        if d is not None:
            stop_daemon(d)
        import shutil

        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="setup.sh --with-tests installs docker-compose")
def test_docker_compose_health_gating_and_recreate(daemon, tmp_path):
    # docker-compose 1.29 gates on the engine's State.Health (dockyardd keeps Config.Healthcheck and
    # runs the probes), and recreates a changed service at the API version it negotiates.
    port = free_port()
    path = write_app(tmp_path, port, condition="service_healthy")
    p = "dydchealth"
    env = {k: v for k, v in ENV.items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
    env.update(DOCKER_HOST=daemon.host, DOCKER_CONFIG=str(tmp_path / "dcfg"))

    def dc(*args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
        cp = subprocess.run(["docker-compose", "-f", str(path), "-p", p, *args], capture_output=True,
                            timeout=120, env={**env, **(extra or {})})
        assert cp.returncode == 0, cp.stderr.decode()
        return cp

    try:
        dc("up", "-d")
        db = inspect(daemon, "dydchealth_db_1")
        assert db["State"]["Health"]["Status"] == "healthy"
        api = inspect(daemon, "dydchealth_api_1")
        # api was started only once db was healthy: its start follows db's first passing probe.
        first_ok = min(h["End"] for h in db["State"]["Health"]["Log"] if h["ExitCode"] == 0)
        assert api["State"]["StartedAt"] >= first_ok[:19], (api["State"]["StartedAt"], first_ok)
        assert get(port) == "hello from frontend"
        before = inspect(daemon, "dydchealth_frontend_1")["Id"]
        dc("up", "-d", extra={"GREETING": "changed"})
        assert inspect(daemon, "dydchealth_frontend_1")["Id"] != before
        assert get(port) == "changed"
        dc("down", "-v", "--rmi", "local")
        assert leftovers(daemon, p) == []
    finally:
        subprocess.run(["docker-compose", "-f", str(path), "-p", p, "down", "-v", "--rmi", "local", "-t", "1"],
                       capture_output=True, timeout=120, env=env)


def test_depends_on_restart_true_restarts_kept_dependents(daemon, tmp_path):
    path = tmp_path / "compose.yaml"
    text = """\
services:
  db:
    image: busybox
    init: true
    command: [sleep, '300']
    environment: {V: "%s"}
  app:
    image: busybox
    init: true
    command: [sleep, '300']
    depends_on:
      db: {condition: service_started, restart: true}
"""
    path.write_text(text % "1")
    p = "dyrestart"
    try:
        compose(daemon, path, "up", "-d", project=p)
        app = inspect(daemon, "dyrestart-app-1")
        path.write_text(text % "2")
        err = compose(daemon, path, "up", "-d", project=p).stderr.decode()
        assert "Container dyrestart-app-1  Restarting" in err, err
        again = inspect(daemon, "dyrestart-app-1")
        assert again["Id"] == app["Id"] and again["State"]["StartedAt"] != app["State"]["StartedAt"]
    finally:
        compose(daemon, path, "down", "-t", "1", project=p, check=False)
    assert leftovers(daemon, p) == []
