"""Container lifecycle through our CLI and the docker CLI: stop, kill,
restart, pause/unpause, rename, wait, top, update, prune, ps filters and
--format, inspect -f, events."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from .conftest import Daemon, container_json

pytestmark = pytest.mark.root


def _run_d(daemon: Daemon, *args: str) -> str:
    return daemon.cli("run", "-d", *args, check=True).stdout.decode().strip()


def _status(daemon: Daemon, ref: str) -> str:
    return daemon.cli("inspect", "-f", "{{.State.Status}}", ref, check=True).stdout.decode().strip()


def test_stop_kill_restart(daemon: Daemon) -> None:
    cid = _run_d(daemon, "--name", "lc-stop", "busybox", "sleep", "300")
    t0 = time.monotonic()
    # sleep as pid 1 ignores SIGTERM: stop falls back to SIGKILL after -t
    assert daemon.cli("stop", "-t", "1", "lc-stop").stdout.decode() == "lc-stop\n"
    assert 0.9 < time.monotonic() - t0 < 10
    st = container_json(daemon, cid)["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 137 and not st["Running"]
    assert st["FinishedAt"] > st["StartedAt"]
    # stop of a stopped container: 304, success for the CLI
    assert daemon.cli("stop", "lc-stop").returncode == 0
    assert daemon.cli("restart", "-t", "0", "lc-stop").returncode == 0
    assert _status(daemon, cid) == "running"
    daemon.cli("kill", "lc-stop", check=True)  # SIGKILL: returns once it has exited
    assert _status(daemon, cid) == "exited"
    trap = _run_d(daemon, "busybox", "sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.05; done")
    time.sleep(0.2)  # let the shell install its trap (bounded, once)
    daemon.cli("kill", "-s", "USR1", trap, check=True)
    assert daemon.cli("wait", trap, timeout=15).stdout.decode().strip() == "7"
    daemon.cli("rm", trap, check=True)
    cp = daemon.cli("kill", "lc-stop")
    assert cp.returncode == 1 and "is not running" in cp.stderr.decode()
    cp = daemon.cli("kill", "-s", "NOPE", cid)
    assert cp.returncode == 1 and "Invalid signal: NOPE" in cp.stderr.decode()
    daemon.cli("rm", cid, check=True)


def test_pause_unpause_top(daemon: Daemon) -> None:
    cid = _run_d(daemon, "busybox", "sh", "-c", "while true; do sleep 0.05; done")
    daemon.cli("pause", cid, check=True)
    st = container_json(daemon, cid)["State"]
    assert st["Status"] == "paused" and st["Paused"] and st["Running"]
    ps = daemon.cli("ps", "--filter", "status=paused", "-q", "--no-trunc", check=True).stdout.decode()
    assert cid in ps
    assert "(Paused)" in daemon.cli("ps", "--format", "{{.Status}}", "-f", f"id={cid}").stdout.decode()
    cp = daemon.cli("pause", cid)
    assert cp.returncode == 1 and "is already paused" in cp.stderr.decode()
    cp = daemon.cli("start", cid)
    assert cp.returncode == 1 and "unpause" in cp.stderr.decode()
    top = daemon.cli("top", cid, check=True).stdout.decode().splitlines()
    assert top[0].split()[:2] == ["UID", "PID"] and any("while true" in line for line in top[1:])
    daemon.cli("unpause", cid, check=True)
    assert _status(daemon, cid) == "running"
    cp = daemon.cli("unpause", cid)
    assert cp.returncode == 1 and "is not paused" in cp.stderr.decode()
    top = daemon.cli("top", cid, "-o", "pid,comm", check=True).stdout.decode().splitlines()
    assert top[0].split() == ["PID", "COMMAND"] and len(top) >= 2
    # rm -f of a paused container works (it is thawed so SIGKILL lands)
    daemon.cli("pause", cid, check=True)
    daemon.cli("rm", "-f", cid, check=True)
    assert daemon.cli("inspect", cid).returncode == 1


def test_rename_and_name_rules(daemon: Daemon) -> None:
    cid = daemon.cli("create", "--name", "lc-old", "busybox", "true", check=True).stdout.decode().strip()
    daemon.cli("rename", "lc-old", "lc-new", check=True)
    assert container_json(daemon, cid)["Name"] == "/lc-new"
    cp = daemon.cli("rename", "lc-new", "bad name!")
    assert cp.returncode == 1 and "Invalid container name" in cp.stderr.decode()
    other = daemon.cli("create", "--name", "lc-other", "busybox", "true", check=True).stdout.decode().strip()
    cp = daemon.cli("rename", "lc-other", "lc-new")
    assert cp.returncode == 1 and "is already in use" in cp.stderr.decode()
    daemon.cli("rm", cid, other, check=True)


def test_restart_policy_and_update(daemon: Daemon) -> None:
    cid = _run_d(daemon, "busybox", "sh", "-c", "exit 3")
    daemon.cli("wait", cid, check=True)
    daemon.cli("update", "--restart", "on-failure:2", cid, check=True)
    hc = container_json(daemon, cid)["HostConfig"]
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    daemon.cli("start", cid, check=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        info = container_json(daemon, cid)
        if info["RestartCount"] == 2 and info["State"]["Status"] == "exited":
            break
        time.sleep(0.05)
    assert info["RestartCount"] == 2 and info["State"]["ExitCode"] == 3
    daemon.cli("rm", cid, check=True)


def test_ps_filters_and_format(daemon: Daemon) -> None:
    a = daemon.cli("create", "--name", "lc-fa", "-l", "tier=web", "busybox", "true", check=True).stdout.decode().strip()
    b = _run_d(daemon, "--name", "lc-fb", "-l", "tier=db", "busybox", "sleep", "300")
    try:
        out = daemon.cli("ps", "-a", "--filter", "label=tier=web", "--format", "{{.Names}}").stdout.decode()
        assert out == "lc-fa\n"
        out = daemon.cli("ps", "--filter", "name=lc-f", "--format", "{{.Names}} {{.State}}").stdout.decode()
        assert out == "lc-fb running\n"
        out = daemon.cli("ps", "-a", "--filter", "status=created", "-q").stdout.decode()
        assert a[:12] in out and b[:12] not in out
        out = daemon.cli("ps", "-a", "-f", "since=lc-fa", "--format", "{{.ID}}").stdout.decode()
        assert b[:12] in out and a[:12] not in out
        out = daemon.cli("ps", "-a", "-f", "ancestor=busybox", "-q").stdout.decode()
        assert a[:12] in out and b[:12] in out
        table = daemon.cli("ps", "--format", "table {{.Names}}\t{{.Label \"tier\"}}", "-f", "id=" + b)
        assert table.stdout.decode().splitlines() == ["NAMES     LABEL", "lc-fb     db"]
        cp = daemon.cli("ps", "-f", "status=bogus")
        assert cp.returncode == 1 and "invalid filter 'status=bogus'" in cp.stderr.decode()
        # the docker CLI agrees
        out = daemon.docker("ps", "-a", "--filter", "label=tier", "--format", "{{.Names}}").stdout.decode()
        assert sorted(out.split()) == ["lc-fa", "lc-fb"]
        out = daemon.docker("inspect", "-f", "{{.State.Status}} {{.Name}}", "lc-fb").stdout.decode()
        assert out == "running /lc-fb\n"
        # inspect -f with json, range, if
        out = daemon.cli("inspect", "-f", '{{json .Config.Labels}} {{range $k, $v := .Config.Labels}}{{$k}}{{end}}'
                         ' {{if .State.Running}}up{{else}}down{{end}}', "lc-fb").stdout.decode()
        assert out == '{"tier":"db"} tier up\n'
    finally:
        daemon.cli("rm", "-f", a, b)


def test_prune(daemon: Daemon) -> None:
    keep = daemon.cli("create", "-l", "keep=1", "busybox", "true", check=True).stdout.decode().strip()
    gone = daemon.cli("create", "busybox", "true", check=True).stdout.decode().strip()
    running = _run_d(daemon, "busybox", "sleep", "300")
    out = daemon.cli("container", "prune", "-f", "--filter", "label!=keep").stdout.decode()
    assert gone in out and keep not in out and running not in out
    assert "Total reclaimed space:" in out
    assert daemon.cli("inspect", gone).returncode == 1
    daemon.cli("rm", "-f", keep, running, check=True)


def test_events_stream_and_since(daemon: Daemon) -> None:
    since = str(int(time.time()) - 1)
    events: list[dict] = []
    # --since makes the live stream replay from history first: nothing is missed however late
    # the subscription registers on a loaded machine.
    proc = subprocess.Popen(["docker", "-H", daemon.host, "events", "--format", "{{json .}}", "--since", since,
                             "--filter", "type=container", "--filter", "container=lc-ev"], stdout=subprocess.PIPE,
                            env={"DOCKER_CONFIG": str(daemon.data_root / "docker-config"), "PATH": "/usr/bin:/bin"})
    try:
        daemon.cli("run", "--rm", "--name", "lc-ev", "busybox", "true", check=True)
        reader_done = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                events.append(json.loads(line))
                if events[-1]["Action"] == "destroy":
                    break
            reader_done.set()

        threading.Thread(target=read, daemon=True).start()
        assert reader_done.wait(10), events
    finally:
        proc.kill()
        proc.wait(5)
        assert proc.stdout is not None
        proc.stdout.close()
    actions = [e["Action"] for e in events if e["Actor"]["Attributes"].get("name") == "lc-ev"]
    assert actions[:1] == ["create"] and "start" in actions and "die" in actions and actions[-1] == "destroy"
    die = next(e for e in events if e["Action"] == "die")
    assert die["Actor"]["Attributes"]["exitCode"] == "0" and die["Type"] == "container"
    # --since/--until replay from history and end on their own
    until = str(int(time.time()) + 1)
    cp = daemon.cli("events", "--since", since, "--until", until, "--filter", "event=destroy", timeout=20)
    assert cp.returncode == 0 and "container destroy" in cp.stdout.decode()
    cp = daemon.docker("events", "--since", since, "--until", until, "--filter", "container=lc-ev",
                       "--format", "{{.Action}}", timeout=20)
    assert cp.stdout.decode().split()[0] == "create"


def test_system_df_and_info_counts(daemon: Daemon) -> None:
    cid = _run_d(daemon, "busybox", "sleep", "300")
    try:
        info = json.loads(daemon.docker("info", "--format", "{{json .}}").stdout)
        assert info["ContainersRunning"] >= 1 and info["Containers"] >= 1
        out = daemon.cli("system", "df").stdout.decode().splitlines()
        assert out[0].split()[:3] == ["TYPE", "TOTAL", "ACTIVE"] and out[1].startswith("Images")
        cp = daemon.docker("system", "df")
        assert cp.returncode == 0, cp.stderr
    finally:
        daemon.cli("rm", "-f", cid)


def test_docker_py_lifecycle(daemon: Daemon) -> None:
    import docker

    client = docker.DockerClient(base_url=daemon.host, version="auto", timeout=60)
    c = client.containers.run("busybox", ["sleep", "300"], detach=True, name="lc-py", labels={"py": "1"})
    try:
        c.pause()
        c.reload()
        assert c.status == "paused"
        c.unpause()
        top = c.top()
        assert "PID" in top["Titles"] and top["Processes"]
        c.rename("lc-py2")
        c.reload()
        assert c.name == "lc-py2"
        c.update(restart_policy={"Name": "unless-stopped"})
        assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] in ("no", "unless-stopped")
        c.reload()
        assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
        c.restart(timeout=0)
        c.reload()
        assert c.status == "running" and c.attrs["State"]["Pid"] > 0
        c.stop(timeout=0)
        c.reload()
        assert c.status == "exited" and c.attrs["State"]["ExitCode"] == 137
        assert [x.name for x in client.containers.list(all=True, filters={"label": "py=1"})] == ["lc-py2"]
        events = client.events(since=int(time.time()) - 30, until=int(time.time()) + 1, decode=True,
                               filters={"container": c.id})
        seen = [e["Action"] for e in events]
        assert {"pause", "unpause", "rename", "update", "kill", "die", "stop", "restart"} <= set(seen)
        result = client.containers.prune(filters={"label": "py=1"})
        assert result["ContainersDeleted"] == [c.id]
    finally:
        try:
            c.remove(force=True)
        except docker.errors.NotFound:
            pass
        client.close()
