import pytest

from dockyard.compose import translate
from dockyard.compose.planner import dependency_order, plan
from dockyard.compose.schema import ComposeInvalid


def model(**services):
    return {"name": "p", "services": services, "networks": {"default": {"name": "p_default"}}}


SVC = {"image": "busybox", "networks": {"default": None}}


def container(service, number, svc, state="running", cid=None, hash_=None):
    return {"Id": cid or f"{service}{number}", "State": state, "ImageID": "sha256:img",
            "Labels": {translate.PROJECT: "p", translate.SERVICE: service, translate.NUMBER: str(number),
                       translate.ONEOFF: "False", translate.CONFIG_HASH: hash_ or translate.config_hash(svc)}}


def test_order_and_cycles():
    m = model(web={**SVC, "depends_on": {"api": {}}}, api={**SVC, "depends_on": {"db": {}}}, db=SVC)
    assert dependency_order(m["services"]) == ["db", "api", "web"]
    assert dependency_order(m["services"], ["web"], with_deps=False) == ["web"]
    m["services"]["db"] = {**SVC, "depends_on": {"web": {}}}
    with pytest.raises(ComposeInvalid, match="dependency cycle detected: web -> api -> db -> web"):
        dependency_order(m["services"])


def test_fresh_project_creates_everything():
    m = model(web={**SVC, "depends_on": {"db": {}}}, db=SVC)
    p = plan(m, [])
    assert [(a.kind, a.service, a.number) for a in p.changed()] == [("create", "db", 1), ("create", "web", 1)]


def test_unchanged_kept_changed_recreated_stopped_started():
    web, db = {**SVC, "command": ["a"]}, SVC
    m = model(web=web, db=db)
    rows = [container("web", 1, {**web, "command": ["old"]}), container("db", 1, db, state="exited")]
    kinds = {a.service: a.kind for a in plan(m, rows).changed()}
    assert kinds == {"web": "recreate", "db": "start"}
    rows = [container("web", 1, web), container("db", 1, db)]
    assert plan(m, rows).changed() == []
    assert {a.kind for a in plan(m, rows, force_recreate=True).changed()} == {"recreate"}
    assert plan(m, rows, image_ids={"web": "sha256:new"}).changed()[0].kind == "recreate"
    assert plan(m, [container("web", 1, {**web, "command": ["old"]}), container("db", 1, db)],
                no_recreate=True).changed() == []


def test_scale_and_orphans():
    m = model(web=SVC)
    rows = [container("web", 1, SVC), container("web", 2, SVC), container("gone", 1, SVC)]
    p = plan(m, rows, scale={"web": 3})
    assert [(a.kind, a.number) for a in p.changed()] == [("create", 3)]
    assert [o["Id"] for o in p.orphans] == ["gone1"]
    p = plan(m, rows)
    assert [(a.kind, a.number) for a in p.changed()] == [("remove", 2)]
    oneoff = container("web", 1, SVC, cid="run1")
    oneoff["Labels"][translate.ONEOFF] = "True"
    assert plan(m, [oneoff]).changed()[0].kind == "create"


def test_hash_ignores_scale():
    assert translate.config_hash({**SVC, "scale": 3}) == translate.config_hash(SVC)
    assert translate.config_hash({**SVC, "command": ["x"]}) != translate.config_hash(SVC)


def test_restart_dependents():
    from dockyard.compose.planner import with_restart_dependents

    services = {"db": {}, "api": {"depends_on": {"db": {"condition": "service_started", "restart": True}}},
                "web": {"depends_on": {"api": {"restart": True}}}, "other": {"depends_on": {"db": {}}}}
    assert with_restart_dependents(services, ["db"]) == ["db", "api", "web"]
    assert with_restart_dependents(services, ["api"]) == ["api", "web"]
