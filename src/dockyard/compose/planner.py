"""Desired services vs existing containers → ordered actions (pure).

Containers are recognised by Docker Compose's labels only, so a project made
by ``docker-compose`` is planned the same way as one of ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .schema import ComposeInvalid
from .translate import CONFIG_HASH, NUMBER, ONEOFF, SERVICE, config_hash, scale_of


@dataclass(frozen=True, slots=True)
class Action:
    kind: str          # create | recreate | start | keep | remove
    service: str
    number: int
    container: str = ""  # existing container id (recreate/start/keep/remove)


@dataclass(slots=True)
class Plan:
    order: list[str]                                     # services, dependencies first
    actions: dict[str, list[Action]] = field(default_factory=dict)
    orphans: list[dict[str, Any]] = field(default_factory=list)

    def changed(self) -> list[Action]:
        return [a for s in self.order for a in self.actions.get(s, []) if a.kind != "keep"]


def dependency_order(services: Mapping[str, dict[str, Any]], selected: Iterable[str] | None = None,
                     with_deps: bool = True) -> list[str]:
    """Topological order (dependencies first, otherwise file order); a cycle is an error."""
    names = list(services)
    wanted = list(selected) if selected else names
    for w in wanted:
        if w not in services:
            raise ComposeInvalid(f"no such service: {w}")
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(n: str, chain: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise ComposeInvalid("dependency cycle detected: " + " -> ".join(chain + [n]))
        state[n] = 1
        if with_deps:
            for dep in deps_of(services[n]):
                if dep in services:
                    visit(dep, chain + [n])
        state[n] = 2
        order.append(n)

    for n in sorted(wanted, key=names.index):
        visit(n, [])
    return order


def with_restart_dependents(services: Mapping[str, dict[str, Any]], selected: Iterable[str]) -> list[str]:
    """``selected`` plus every service that depends on one of them with ``restart: true`` (transitively)."""
    out = list(selected)
    changed = True
    while changed:
        changed = False
        for name, svc in services.items():
            if name not in out and any(d in out and (spec or {}).get("restart")
                                       for d, spec in (svc.get("depends_on") or {}).items()):
                out.append(name)
                changed = True
    return out


def deps_of(svc: dict[str, Any]) -> list[str]:
    deps = list((svc.get("depends_on") or {}).keys())
    for key in ("network_mode", "ipc", "pid"):
        mode = str(svc.get(key) or "")
        if mode.startswith("service:"):
            deps.append(mode.split(":", 1)[1])
    for vf in svc.get("volumes_from") or []:
        src = str(vf).split(":")[0]
        if not src.startswith("container"):
            deps.append(src)
    return deps


def plan(model: dict[str, Any], containers: list[dict[str, Any]], *, selected: Iterable[str] | None = None,
         with_deps: bool = True, scale: Mapping[str, int] | None = None, force_recreate: bool = False,
         no_recreate: bool = False, image_ids: Mapping[str, str] | None = None) -> Plan:
    """``containers``: ``GET /containers/json?all=1`` rows of this project (Labels, Id, State, ImageID)."""
    services = model["services"]
    order = dependency_order(services, selected, with_deps)
    scale = dict(scale or {})
    image_ids = dict(image_ids or {})
    by_service: dict[str, list[dict[str, Any]]] = {}
    result = Plan(order)
    for c in containers:
        labels = c.get("Labels") or {}
        if labels.get(ONEOFF, "False") == "True":
            continue
        svc = labels.get(SERVICE, "")
        if svc in services:
            by_service.setdefault(svc, []).append(c)
        else:
            result.orphans.append(c)
    for name in order:
        svc = services[name]
        want = scale.get(name, scale_of(svc))
        want_hash = config_hash(svc)
        existing = sorted(by_service.get(name, []), key=lambda c: _number(c))
        actions: list[Action] = []
        seen: set[int] = set()
        for c in existing:
            n = _number(c)
            if n in seen or n > want:
                actions.append(Action("remove", name, n, c["Id"]))
                continue
            seen.add(n)
            labels = c.get("Labels") or {}
            stale_image = name in image_ids and c.get("ImageID") not in (None, "", image_ids[name])
            if force_recreate or (not no_recreate and (labels.get(CONFIG_HASH) != want_hash or stale_image)):
                actions.append(Action("recreate", name, n, c["Id"]))
            elif c.get("State") != "running":
                actions.append(Action("start", name, n, c["Id"]))
            else:
                actions.append(Action("keep", name, n, c["Id"]))
        for n in range(1, want + 1):
            if n not in seen:
                actions.append(Action("create", name, n))
        result.actions[name] = actions
    return result


def _number(c: dict[str, Any]) -> int:
    try:
        return int((c.get("Labels") or {}).get(NUMBER, "0"))
    except ValueError:
        return 0
