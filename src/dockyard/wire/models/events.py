"""Docker's ``EventMessage`` and the ``/events`` filters (pure).

Shape (swagger ``EventMessage``; ``status``/``id``/``from`` are the legacy
fields Docker still sends for containers and images)::

    {"Type": "container", "Action": "start",
     "Actor": {"ID": "<id>", "Attributes": {"name": "web", "image": "busybox"}},
     "scope": "local", "time": 1700000000, "timeNano": 1700000000123456789}
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from dockyard.core.events import CONTAINER, IMAGE, Event
from dockyard.errors import InvalidArgument

FILTERS = ("config", "container", "daemon", "event", "image", "label", "network", "node", "plugin",
           "scope", "secret", "service", "type", "volume")
TYPES = ("builder", "config", "container", "daemon", "image", "network", "node", "plugin", "secret",
         "service", "volume")


def encode(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if event.type in (CONTAINER, IMAGE):
        out["status"] = event.action
        out["id"] = event.actor_id
        if event.type == CONTAINER and "image" in event.attributes:
            out["from"] = event.attributes["image"]
    out.update({
        "Type": event.type,
        "Action": event.action,
        "Actor": {"ID": event.actor_id, "Attributes": dict(event.attributes)},
        "scope": event.scope,
        "time": event.time_ns // 1_000_000_000,
        "timeNano": event.time_ns,
    })
    return out


def validate(filters: Mapping[str, Sequence[str]]) -> None:
    for key in filters:
        if key not in FILTERS:
            raise InvalidArgument(f"invalid filter '{key}'")
    for value in filters.get("type", ()):
        if value not in TYPES:
            raise InvalidArgument(f"invalid filter 'type={value}'")


def _labels_match(wanted: Sequence[str], attrs: Mapping[str, str]) -> bool:
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in attrs or (sep and attrs[key] != value):
            return False
    return True


def _action_match(wanted: Sequence[str], action: str) -> bool:
    # "exec_start: sh -c ..." matches the filter "exec_start" (moby matches the prefix before ":")
    base = action.split(":", 1)[0]
    return action in wanted or base in wanted


def matches(event: Event, filters: Mapping[str, Sequence[str]]) -> bool:
    """moby ``events.Filter.Include``: every given key must match (values OR-ed)."""
    def want(key: str) -> Sequence[str]:
        return filters.get(key) or ()

    if want("type") and event.type not in want("type"):
        return False
    if want("event") and not _action_match(want("event"), event.action):
        return False
    if want("scope") and event.scope not in want("scope"):
        return False
    if want("label") and not _labels_match(want("label"), event.attributes):
        return False
    name = event.attributes.get("name", "")
    for key, kind in (("container", CONTAINER), ("volume", "volume"), ("network", "network"),
                      ("daemon", "daemon"), ("plugin", "plugin")):
        if want(key):
            if event.type != kind:
                return False
            if not any(event.actor_id.startswith(v) or (name and name.startswith(v))
                       for v in want(key)):
                return False
    if want("image"):
        image = event.attributes.get("image", "") if event.type == CONTAINER else event.actor_id
        names = {image, event.attributes.get("name", "") if event.type == IMAGE else ""}
        if not any(_image_match(v, names) for v in want("image")):
            return False
    return True


def _image_match(wanted: str, names: set[str]) -> bool:
    for n in names:
        if not n:
            continue
        if n == wanted or n.split(":", 1)[0] == wanted or n.removeprefix("sha256:").startswith(
                wanted.removeprefix("sha256:")) and len(wanted.removeprefix("sha256:")) >= 4:
            return True
    return False


def parse_time(raw: str | None) -> int | None:
    """``since``/``until`` as the CLI sends them ("1700000000.000000001") → ns."""
    if raw is None or raw == "":
        return None
    secs, _, frac = raw.partition(".")
    try:
        ns = int(secs) * 1_000_000_000
        if frac:
            ns += int(frac[:9].ljust(9, "0"))
    except ValueError:
        raise InvalidArgument(f"invalid timestamp {raw!r}") from None
    return ns
