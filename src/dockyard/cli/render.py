"""Tables and cells in the docker CLI's formats (pure).

Tables are laid out like Go's ``tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)``
(docker ``cli/command/formatter``): each column is as wide as its widest
cell plus 3, at least 10; the last column is not padded.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.wire.humanize import human_duration, human_size

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MIN_WIDTH, PADDING = 10, 3


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    all_rows = [list(headers), *[list(r) for r in rows]]
    ncols = len(headers)
    widths = [max(MIN_WIDTH, max(len(r[i]) for r in all_rows) + PADDING) for i in range(ncols - 1)]
    lines = []
    for r in all_rows:
        cells = [r[i].ljust(widths[i]) for i in range(ncols - 1)] + [r[-1]]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"


def ellipsis(text: str, width: int) -> str:
    """docker ``formatter.Ellipsis``: cut to ``width`` characters ending in "…"."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 1 else text[:width]


def go_quote(text: str) -> str:
    """Close to Go's ``strconv.Quote`` for what commands contain."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def short_id(id_: str) -> str:
    return id_.split(":", 1)[-1][:12]


def created_ago(created: float, now: float) -> str:
    return f"{human_duration(now - created)} ago"


def ports_text(ports: Sequence[dict[str, Any]] | None) -> str:
    parts = []
    for p in ports or []:
        proto = p.get("Type", "tcp")
        if p.get("PublicPort"):
            ip = p.get("IP", "")
            host = f"[{ip}]" if ":" in ip else ip
            parts.append(f"{host}:{p['PublicPort']}->{p['PrivatePort']}/{proto}")
        else:
            parts.append(f"{p.get('PrivatePort')}/{proto}")
    return ", ".join(parts)


def container_row(c: dict[str, Any], now: float, *, trunc: bool = True) -> list[str]:
    cid = c.get("Id", "")
    image = c.get("Image", "")
    if image.startswith("sha256:") and trunc:
        image = short_id(image)
    command = c.get("Command", "")
    if trunc:
        command = ellipsis(command, 20)
    names = [n.lstrip("/") for n in c.get("Names") or []]
    names = [n for n in names if "/" not in n]  # drop legacy link names
    return [
        short_id(cid) if trunc else cid,
        image,
        go_quote(command),
        created_ago(c.get("Created", now), now),
        c.get("Status", ""),
        ports_text(c.get("Ports")),
        ",".join(names),
    ]


PS_HEADERS = ("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES")
IMAGES_HEADERS = ("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")


def ps_table(containers: Sequence[dict[str, Any]], now: float, *, trunc: bool = True) -> str:
    return table(PS_HEADERS, [container_row(c, now, trunc=trunc) for c in containers])


def split_repo_tag(ref: str) -> tuple[str, str]:
    repo, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "<none>"
    return repo, tag


def image_rows(images: Sequence[dict[str, Any]], now: float, *, trunc: bool = True) -> list[list[str]]:
    rows = []
    for img in images:
        iid = img.get("Id", "")
        shown_id = short_id(iid) if trunc else iid
        created = created_ago(img.get("Created", now), now)
        size = human_size(img.get("Size", 0))
        tags = [t for t in img.get("RepoTags") or [] if t != "<none>:<none>"]
        if not tags:
            rows.append(["<none>", "<none>", shown_id, created, size])
        for t in tags:
            repo, tag = split_repo_tag(t)
            rows.append([repo, tag, shown_id, created, size])
    return rows


def images_table(images: Sequence[dict[str, Any]], now: float, *, trunc: bool = True) -> str:
    return table(IMAGES_HEADERS, image_rows(images, now, trunc=trunc))
