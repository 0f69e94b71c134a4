import pytest

from dockyard.compose import normalize
from dockyard.compose.merge import merge_files
from dockyard.compose.schema import ComposeInvalid, validate


def test_unknown_key_names_file_and_path():
    with pytest.raises(ComposeInvalid, match=r"validating compose.yaml: services.web additional properties "
                                             r"'imagee' not allowed"):
        validate({"services": {"web": {"imagee": "x"}}}, "compose.yaml")
    with pytest.raises(ComposeInvalid, match=r"services.web.healthcheck additional properties 'tst'"):
        validate({"services": {"web": {"image": "x", "healthcheck": {"tst": 1}}}}, "c.yml")
    with pytest.raises(ComposeInvalid, match=r"services.a.depends_on.b.condition must be one of"):
        validate({"services": {"a": {"image": "x", "depends_on": {"b": {"condition": "up"}}}}}, "c.yml")
    with pytest.raises(ComposeInvalid, match=r"\(root\) additional properties 'servics'"):
        validate({"servics": {}}, "c.yml")
    validate({"services": {"a": {"image": "x", "x-mine": 1}}, "x-top": {}}, "c.yml")


def test_override_merge_rules():
    base = {"services": {"web": {"image": "a", "ports": ["80:80"], "environment": ["A=1", "B=2"],
                                 "command": ["x", "y"], "volumes": ["d:/data", "./s:/src"],
                                 "depends_on": ["db"]}}}
    over = {"services": {"web": {"ports": ["81:81"], "environment": {"B": "3"}, "command": "z",
                                 "volumes": ["other:/data"], "depends_on": {"cache": {"condition": "service_healthy"}}},
                         "db": {"image": "d"}}}
    web = merge_files([base, over])["services"]["web"]
    assert web["ports"] == ["80:80", "81:81"]
    assert web["environment"] == {"A": "1", "B": "3"}
    assert web["command"] == "z"
    assert web["volumes"] == ["other:/data", "./s:/src"]
    assert set(web["depends_on"]) == {"db", "cache"}


def test_normalised_model(tmp_path):
    (tmp_path / "web.env").write_text("FROM_FILE=1\nA=file\n")
    doc = merge_files([{"services": {
        "web": {"image": "busybox", "command": "httpd -f", "ports": ["127.0.0.1:8080:80", "9000-9001:90-91/udp"],
                "env_file": "web.env", "environment": {"A": "yaml", "FROM_SHELL": None, "NOPE": None},
                "volumes": ["data:/data:ro", "./src:/src", "/anon"], "depends_on": ["db"]},
        "db": {"image": "busybox", "profiles": ["debug"]},
        "x": {"image": "busybox", "network_mode": "host"}},
        "volumes": {"data": None}}])
    with pytest.raises(ComposeInvalid, match="disabled by its profiles"):
        normalize.model(doc, "p", str(tmp_path), {})
    m = normalize.model(doc, "p", str(tmp_path), {"FROM_SHELL": "s"}, profiles=["debug"])
    web = m["services"]["web"]
    assert web["command"] == ["httpd", "-f"]
    assert web["environment"] == {"FROM_FILE": "1", "A": "yaml", "FROM_SHELL": "s"}
    assert web["ports"][0] == {"mode": "ingress", "target": 80, "protocol": "tcp", "published": "8080",
                               "host_ip": "127.0.0.1"}
    assert [(p["published"], p["target"], p["protocol"]) for p in web["ports"][1:]] == [
        ("9000", 90, "udp"), ("9001", 91, "udp")]
    assert web["volumes"][0] == {"type": "volume", "source": "data", "target": "/data", "volume": {},
                                 "read_only": True}
    assert web["volumes"][1]["source"] == str(tmp_path / "src")
    assert web["volumes"][2] == {"type": "volume", "target": "/anon"}
    assert web["depends_on"] == {"db": {"condition": "service_started", "required": True}}
    assert web["networks"] == {"default": None} and "networks" not in m["services"]["x"]
    assert m["networks"] == {"default": {"name": "p_default"}}
    assert m["volumes"] == {"data": {"name": "p_data"}}


def test_undefined_references():
    with pytest.raises(ComposeInvalid, match="undefined volume nope"):
        normalize.model({"services": {"a": {"image": "x", "volumes": ["nope:/d"]}}}, "p", "/", {})
    with pytest.raises(ComposeInvalid, match="undefined network back"):
        normalize.model({"services": {"a": {"image": "x", "networks": ["back"]}}}, "p", "/", {})
    with pytest.raises(ComposeInvalid, match="neither an image nor a build context"):
        normalize.model({"services": {"a": {}}}, "p", "/", {})


def test_project_name():
    assert normalize.project_name(None, {}, None, "/srv/My App") == "myapp"
    assert normalize.project_name(None, {"COMPOSE_PROJECT_NAME": "Env"}, "top", "/x") == "env"
    assert normalize.project_name("cli", {"COMPOSE_PROJECT_NAME": "env"}, "top", "/x") == "cli"
