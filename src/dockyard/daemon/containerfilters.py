"""``GET /containers/json`` filters, as moby's ``daemon/list.go`` applies them (pure).

``prepare`` validates the filter values once (Docker's ``invalid filter
'key=value'`` errors) and resolves ``before``/``since`` to creation times;
``include`` then decides per record.  Every key must match; the values of
one key are OR-ed, except ``label`` where all must hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from dockyard.core.containers import ContainerRecord, Status
from dockyard.errors import InvalidArgument

KEYS = ("ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label",
        "name", "network", "publish", "since", "status", "volume")
STATUSES = tuple(s.value for s in Status)
HEALTH = ("starting", "healthy", "unhealthy", "none")


@dataclass(frozen=True, slots=True)
class ListFilter:
    filters: Mapping[str, Sequence[str]]
    exited: frozenset[int] = frozenset()
    before_seq: str | None = None  # created timestamp (RFC 3339, sortable) of the "before" container
    since_seq: str | None = None
    all: bool = False  # a status filter lists stopped containers too (moby sets All)
    image_ids: Mapping[str, str] = field(default_factory=dict)  # ancestor value -> image id


def _invalid(key: str, value: str) -> InvalidArgument:
    return InvalidArgument(f"invalid filter '{key}={value}'")


def prepare(filters: Mapping[str, Sequence[str]], resolve: Callable[[str], ContainerRecord],
            resolve_image: Callable[[str], str | None]) -> ListFilter:
    """``resolve`` raises NotFound for an unknown before/since container;
    ``resolve_image`` maps an ancestor value to an image id (None: unknown)."""
    for key in filters:
        if key not in KEYS:
            raise InvalidArgument(f"invalid filter '{key}'")
    exited = set()
    for v in filters.get("exited", ()):
        try:
            exited.add(int(v))
        except ValueError:
            raise _invalid("exited", v) from None
    for v in filters.get("status", ()):
        if v not in STATUSES:
            raise _invalid("status", v)
    for v in filters.get("health", ()):
        if v not in HEALTH:
            raise _invalid("health", v)
    for v in filters.get("is-task", ()):
        if v not in ("true", "false"):
            raise _invalid("is-task", v)
    before = since = None
    for v in filters.get("before", ()):
        before = resolve(v).config.created
    for v in filters.get("since", ()):
        since = resolve(v).config.created
    images = {}
    for v in filters.get("ancestor", ()):
        found = resolve_image(v)
        if found:
            images[v] = found
    return ListFilter(filters, frozenset(exited), before, since, bool(filters.get("status")), images)


def include(rec: ContainerRecord, f: ListFilter) -> bool:
    flt = f.filters
    c, st = rec.config, rec.state
    if flt.get("id") and not any(c.id.startswith(v) for v in flt["id"]):
        return False
    if flt.get("name") and not any(_name_match(v, c.name) for v in flt["name"]):
        return False
    if flt.get("status") and st.status.value not in flt["status"]:
        return False
    if f.exited and (st.status in (Status.RUNNING, Status.PAUSED, Status.CREATED)
                     or st.exit_code not in f.exited):
        return False
    if flt.get("label"):
        for item in flt["label"]:
            key, eq, want = item.partition("=")
            if key not in c.labels or (eq and c.labels[key] != want):
                return False
    if f.before_seq is not None and not c.created < f.before_seq:
        return False
    if f.since_seq is not None and not c.created > f.since_seq:
        return False
    if flt.get("ancestor") and not any(_ancestor_match(v, c.image, c.image_id, f.image_ids.get(v))
                                       for v in flt["ancestor"]):
        return False
    if flt.get("health") and "none" not in flt["health"]:
        return False  # no healthchecks yet: every container's health is "none"
    if flt.get("is-task") and "false" not in flt["is-task"]:
        return False
    if flt.get("volume") and not any(
            v in (m.get("name"), m.get("source"), m.get("destination")) for v in flt["volume"]
            for m in getattr(c, "mounts", ()) or ()):
        return False  # moby: a mount's Name, Source or Destination
    if flt.get("network"):
        mode = str(c.host_config_json.get("NetworkMode") or "none")
        if mode not in flt["network"]:
            return False
    return True


def _name_match(pattern: str, name: str) -> bool:
    # moby matches names as regular expressions against "/name"
    import re

    try:
        return re.search(pattern, "/" + name) is not None
    except re.error:
        return pattern.lstrip("/") in name


def _ancestor_match(value: str, image: str, image_id: str, resolved: str | None) -> bool:
    if resolved and resolved == image_id:
        return True
    bare = value.removeprefix("sha256:")
    if len(bare) >= 4 and image_id.removeprefix("sha256:").startswith(bare):
        return True
    return value == image or value.split(":", 1)[0] == image.split(":", 1)[0] and ":" not in value
