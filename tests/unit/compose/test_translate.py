import pytest

from dockyard.compose import normalize, translate
from dockyard.compose.merge import merge_files
from dockyard.compose.schema import ComposeInvalid


def test_create_body(tmp_path):
    (tmp_path / "s.txt").write_text("x")
    doc = merge_files([{"services": {"web": {
        "image": "busybox", "command": "httpd -f", "entrypoint": ["/bin/sh", "-c"],
        "ports": ["127.0.0.1:8080:80"], "expose": ["90"], "environment": {"A": "1"},
        "volumes": ["data:/data", "./src:/src:ro", {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "1m"}}],
        "networks": {"front": {"aliases": ["www"]}, "back": None}, "restart": "on-failure:3",
        "healthcheck": {"test": "true", "interval": "1m30s", "timeout": "500ms", "retries": 2},
        "labels": ["team=x"], "user": "1000", "working_dir": "/w", "stop_grace_period": "20s",
        "deploy": {"resources": {"limits": {"memory": "64M", "cpus": "0.5"}}}, "cap_add": ["NET_ADMIN"],
        "read_only": True, "init": True, "extra_hosts": ["h:1.2.3.4"], "secrets": ["tok"]}},
        "volumes": {"data": {}}, "networks": {"front": {}, "back": {}}, "secrets": {"tok": {"file": "s.txt"}}}])
    m = normalize.model(doc, "proj", str(tmp_path), {})
    body = translate.create_body(m, "web", 2, working_dir=str(tmp_path))
    assert body["Image"] == "busybox" and body["Cmd"] == ["httpd", "-f"]
    assert body["Entrypoint"] == ["/bin/sh", "-c"] and body["Env"] == ["A=1"]
    labels = body["Labels"]
    assert labels["team"] == "x" and labels[translate.PROJECT] == "proj" and labels[translate.SERVICE] == "web"
    assert labels[translate.NUMBER] == "2" and labels[translate.ONEOFF] == "False"
    assert labels[translate.CONFIG_HASH] == translate.config_hash(m["services"]["web"])
    host = body["HostConfig"]
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    assert set(body["ExposedPorts"]) == {"80/tcp", "90/tcp"}
    assert host["Binds"] == ["proj_data:/data:rw", f"{tmp_path}/src:/src:ro", f"{tmp_path}/s.txt:/run/secrets/tok:ro"]
    assert host["Tmpfs"] == {"/t": "size=1048576"}
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["Memory"] == 64 << 20 and host["NanoCpus"] == 500_000_000
    assert host["NetworkMode"] == "proj_front" and host["ReadonlyRootfs"] and host["Init"]
    assert host["ExtraHosts"] == ["h:1.2.3.4"] and host["CapAdd"] == ["NET_ADMIN"]
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"proj_front": {"Aliases": ["web", "www"]}}}
    assert body["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 90_000_000_000,
                                   "Timeout": 500_000_000, "Retries": 2}
    assert body["User"] == "1000" and body["WorkingDir"] == "/w" and body["StopTimeout"] == 20
    assert [n for n, _ in translate.network_names(m, m["services"]["web"])] == ["proj_front", "proj_back"]


@pytest.mark.parametrize("text,ns", [("10s", 10_000_000_000), ("1h2m", 3_720_000_000_000), ("1.5s", 1_500_000_000),
                                     (3, 3_000_000_000)])
def test_duration(text, ns):
    assert translate.duration_ns(text) == ns


def test_bad_duration():
    with pytest.raises(ComposeInvalid):
        translate.duration_ns("10 parsecs")


def test_host_keys_and_unsupported_warnings():
    from dockyard.compose.hostkeys import unsupported
    from dockyard.compose.translate import create_body

    model = {"name": "p", "services": {"w": {
        "image": "busybox", "ulimits": {"nofile": {"soft": 10, "hard": 20}, "nproc": 5},
        "logging": {"driver": "local", "options": {"max-size": "1m"}}, "devices": ["/dev/null:/dev/n0:r"],
        "ipc": "private", "pid": "host", "cpu_shares": 512, "mem_reservation": "64m", "oom_score_adj": 100,
        "cgroup_parent": "mine", "platform": "linux/amd64", "links": ["x"], "stop_grace_period": "1m30s"}}}
    body = create_body(model, "w", 1)
    host = body["HostConfig"]
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 10, "Hard": 20}, {"Name": "nproc", "Soft": 5, "Hard": 5}]
    assert host["LogConfig"] == {"Type": "local", "Config": {"max-size": "1m"}}
    assert host["Devices"] == [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/n0", "CgroupPermissions": "r"}]
    assert (host["CpuShares"], host["MemoryReservation"]) == (512, 64 << 20)
    assert "IpcMode" not in host and "PidMode" not in host
    assert body["StopTimeout"] == 90
    assert sorted(unsupported(model)) == [f"services.w: `{k}` is not supported by dockyard compose and is ignored"
                                          for k in ("cgroup_parent", "ipc", "links", "oom_score_adj", "pid",
                                                    "platform")]
    model["services"]["side"] = {"image": "busybox", "network_mode": "service:w"}
    assert create_body(model, "side", 1)["HostConfig"]["NetworkMode"] == "container:p-w-1"
