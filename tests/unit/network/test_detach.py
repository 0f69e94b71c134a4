"""detach of a --rm container drops its endpoint records at once (one
commit less on `run --rm`); other containers keep theirs for a restart."""

from __future__ import annotations

import dataclasses

from .test_service import container, env  # noqa: F401 (fixture)


def test_detach_drops_records_of_auto_remove_containers_only(env):  # noqa: F811
    db, svc, _nl, _fw, _ports, files = env
    keep = container(db, "keep", {"NetworkMode": "default"})
    tmp = dataclasses.replace(container(db, "tmp", {"NetworkMode": "default"}), auto_remove=True)
    db.containers.save_config(tmp.id, tmp)
    for cfg in (keep, tmp):
        svc.plan(cfg, None)
        svc.attach(cfg, f"/proc/{cfg.name}/ns/net", files)
        svc.detach(cfg.id)
    assert svc.summary(keep)[1]["bridge"]["IPAddress"] == ""  # kept, address released
    assert svc.summary(tmp)[1] == {}
    svc.forget(keep.id)
    svc.forget(tmp.id)
    svc.close()
