"""Mount descriptions handed from snapshotters to whoever performs them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mount:
    """One mount(2) call as data.

    Snapshotters return these; only the runtime (inside the container's own
    mount namespace) or a ``Mounter`` performs them.  ``target`` is relative to
    the mount root; "" means the root itself.
    """

    type: str  # "overlay", "bind", "tmpfs", ...
    source: str
    target: str = ""
    options: tuple[str, ...] = ()  # fstab style: ("lowerdir=a:b", "upperdir=c", "workdir=d")

    def to_json(self) -> dict[str, object]:
        return {"type": self.type, "source": self.source, "target": self.target, "options": list(self.options)}

    @classmethod
    def from_json(cls, obj: dict[str, object]) -> "Mount":
        opts = obj.get("options") or []
        assert isinstance(opts, list)
        return cls(str(obj["type"]), str(obj["source"]), str(obj.get("target") or ""), tuple(str(o) for o in opts))
