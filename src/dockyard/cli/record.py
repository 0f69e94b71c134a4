"""``Options``: a minimal stand-in for ``@dataclass`` in the CLI.

The CLI runs with ``python -IS`` and every import shows in the latency of
every command: ``dataclasses`` pulls in ``inspect`` (about 10 ms, a quarter
of ``dockyard ps -q``). Option objects only need keyword construction with
defaults, so this is all they get. Subclasses declare annotated fields; a
field without a default is required; a list default is copied per instance.
"""

from __future__ import annotations

_REQUIRED = object()


def _fields(cls: type) -> dict[str, object]:
    fields: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        for name in vars(klass).get("__annotations__", {}):
            fields[name] = getattr(cls, name, _REQUIRED)
    return fields


class Options:
    def __init__(self, **values: object) -> None:
        fields = _fields(type(self))
        unknown = sorted(values.keys() - fields.keys())
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown field(s) {', '.join(unknown)}")
        for name, default in fields.items():
            if name in values:
                value = values[name]
            elif default is _REQUIRED:
                raise TypeError(f"{type(self).__name__}: missing field {name}")
            else:
                value = list(default) if isinstance(default, list) else default
            setattr(self, name, value)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({inner})"
