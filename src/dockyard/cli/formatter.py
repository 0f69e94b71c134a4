"""``--format``: Go templates over command data, with docker's ``table`` and
``json`` forms (pure).

* ``table {{.ID}}\\t{{.Names}}``: a header row (the template rendered over
  the header names) and rows aligned like docker's tabwriter;
* ``json``: one JSON object per line (``{{json .}}``);
* anything else: the template once per item, each followed by a newline.
"""

from __future__ import annotations

import time
from datetime import datetime

from dockyard.cli import render
from dockyard.cli.gotemplate import Template
from dockyard.wire.humanize import human_size

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Sequence

PS_HEADERS = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
    "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
    "LocalVolumes": "LOCAL VOLUMES",
}
PS_DEFAULT = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"
              "\t{{.Names}}")


def go_time(seconds: float) -> str:
    """Go's ``time.Time.String()`` in local time: "2024-01-02 03:04:05 +0000 UTC"."""
    dt = datetime.fromtimestamp(seconds).astimezone()
    return dt.strftime("%Y-%m-%d %H:%M:%S %z ") + (dt.tzname() or "")


def ps_context(c: Mapping[str, Any], now: float, *, trunc: bool = True) -> dict[str, Any]:
    """The fields docker's container formatter offers, as strings."""
    labels = dict(c.get("Labels") or {})
    names = [n.lstrip("/") for n in c.get("Names") or [] if "/" not in n.lstrip("/")]
    command = c.get("Command", "")
    cid = c.get("Id", "")
    image = c.get("Image", "")
    if trunc and image.startswith("sha256:"):
        image = render.short_id(image)
    size = ""
    if "SizeRw" in c:
        size = human_size(c.get("SizeRw") or 0)
        if c.get("SizeRootFs"):
            size += f" (virtual {human_size(c['SizeRootFs'])})"
    networks = sorted(((c.get("NetworkSettings") or {}).get("Networks") or {}).keys())
    return {
        "ID": render.short_id(cid) if trunc else cid,
        "Image": image,
        "Command": render.go_quote(render.ellipsis(command, 20) if trunc else command),
        "CreatedAt": go_time(c.get("Created", now)),
        "RunningFor": render.created_ago(c.get("Created", now), now),
        "Ports": render.ports_text(c.get("Ports")),
        "State": c.get("State", ""),
        "Status": c.get("Status", ""),
        "Size": size,
        "Names": ",".join(names),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Label": lambda key: labels.get(key, ""),
        "Mounts": ",".join(m.get("Name") or m.get("Source", "") for m in c.get("Mounts") or []),
        "Networks": ",".join(networks),
        "LocalVolumes": str(sum(1 for m in c.get("Mounts") or [] if m.get("Driver") == "local")),
    }


def header_context(headers: Mapping[str, str]) -> dict[str, Any]:
    ctx: dict[str, Any] = dict(headers)
    ctx["Label"] = lambda key: "LABEL"
    return ctx


def tabwrite(lines: Sequence[str]) -> str:
    """Align tab-separated cells as docker's tabwriter does (min 10, padding 3)."""
    rows = [line.split("\t") for line in lines]
    ncols = max((len(r) for r in rows), default=0)
    if ncols <= 1:
        return "".join(line + "\n" for line in lines)
    widths = [max(render.MIN_WIDTH, max((len(r[i]) for r in rows if len(r) > i + 1), default=0) + render.PADDING)
              for i in range(ncols - 1)]
    out = []
    for r in rows:
        cells = [cell.ljust(widths[i]) if i < len(r) - 1 else cell for i, cell in enumerate(r)]
        out.append("".join(cells).rstrip(" ") if len(r) > 1 else "".join(cells))
    return "".join(line + "\n" for line in out)


def format_items(fmt: str, items: Sequence[Any], headers: Mapping[str, str] | None = None,
                 raw: Callable[[Any], Any] | None = None) -> str:
    """Render ``items`` with ``fmt``; ``raw`` gives the object ``json`` prints."""
    if fmt == "json":
        import json

        return "".join(json.dumps(raw(i) if raw else i, separators=(",", ":")) + "\n" for i in items)
    is_table = fmt.startswith("table")
    body = fmt[len("table"):].lstrip() if is_table else fmt
    body = body.replace("\\t", "\t").replace("\\n", "\n")
    tpl = Template(body)
    lines = [tpl.render(i) for i in items]
    if not is_table:
        return "".join(line + "\n" for line in lines)
    head = tpl.render(header_context(headers or {}))
    return tabwrite([head, *lines])


def format_ps(fmt: str | None, containers: Sequence[Mapping[str, Any]], *, trunc: bool = True,
              now: float | None = None) -> str:
    now = time.time() if now is None else now
    ctxs = [ps_context(c, now, trunc=trunc) for c in containers]
    return format_items(fmt or PS_DEFAULT, ctxs, PS_HEADERS,
                        raw=lambda ctx: {k: v for k, v in ctx.items() if not callable(v)})
