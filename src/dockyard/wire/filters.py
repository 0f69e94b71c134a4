"""The ``filters`` query parameter (pure).

Docker sends filters as JSON in two shapes (moby ``api/types/filters``):

* current: ``{"label": {"a=b": true}, "status": {"running": true}}``
* legacy:  ``{"label": ["a=b"], "status": ["running"]}``

Both parse to ``{"label": ["a=b"], "status": ["running"]}``: each key maps to
the list of values it accepts (a value set to ``false`` in the current form
is dropped, as moby does).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from dockyard.errors import InvalidArgument

Filters = dict[str, list[str]]


def parse(raw: str | None, allowed: Iterable[str] | None = None) -> Filters:
    """Parse the query value; validate keys against ``allowed`` when given."""
    if raw is None or raw.strip() == "":
        return {}
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise InvalidArgument(f"invalid filter: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidArgument("invalid filter: expected a JSON object")
    out: Filters = {}
    for key, value in doc.items():
        if isinstance(value, list):
            values = value
        elif isinstance(value, dict):
            values = [v for v, on in value.items() if on is True]
        else:
            raise InvalidArgument(f"invalid filter '{key}': expected a list or an object")
        if not all(isinstance(v, str) for v in values):
            raise InvalidArgument(f"invalid filter '{key}': values must be strings")
        if values:
            out.setdefault(key, []).extend(values)
    if allowed is not None:
        allowed_set = set(allowed)
        for key in out:
            if key not in allowed_set:
                raise InvalidArgument(f"invalid filter '{key}'")
    return out


def encode(filters: Mapping[str, Iterable[str]]) -> str:
    """JSON in the current form, as the docker CLI sends it."""
    return json.dumps({k: {v: True for v in vs} for k, vs in filters.items() if vs})


def match_labels(wanted: Iterable[str], labels: Mapping[str, str]) -> bool:
    """Every ``key`` or ``key=value`` in ``wanted`` holds for ``labels``."""
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels:
            return False
        if sep and labels[key] != value:
            return False
    return True


def match_any(wanted: Iterable[str] | None, value: str) -> bool:
    """True when no values are wanted, or ``value`` is one of them."""
    if wanted is None:
        return True
    wanted = list(wanted)
    return not wanted or value in wanted
