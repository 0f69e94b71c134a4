"""Build layer tars and docker-save archives in memory for tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field


@dataclass
class E:
    name: str
    type: bytes = tarfile.REGTYPE
    data: bytes = b""
    mode: int = 0o644
    link: str = ""
    mtime: int = 1_600_000_000
    uid: int = 0
    gid: int = 0
    pax: dict[str, str] = field(default_factory=dict)
    major: int = 0
    minor: int = 0


def dir_(name: str, mode: int = 0o755, **kw) -> E:
    return E(name, tarfile.DIRTYPE, mode=mode, **kw)


def sym(name: str, target: str) -> E:
    return E(name, tarfile.SYMTYPE, link=target, mode=0o777)


def hard(name: str, target: str) -> E:
    return E(name, tarfile.LNKTYPE, link=target)


def layer(*entries: E) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            ti = tarfile.TarInfo(e.name)
            ti.type, ti.mode, ti.mtime, ti.uid, ti.gid = e.type, e.mode, e.mtime, e.uid, e.gid
            ti.linkname, ti.size, ti.pax_headers = e.link, len(e.data), dict(e.pax)
            ti.devmajor, ti.devminor = e.major, e.minor
            tf.addfile(ti, io.BytesIO(e.data) if e.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else None)
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_archive(layers: list[bytes], tags: list[str], *, diff_ids: list[str] | None = None,
                  legacy: bool = False, extra: dict[str, bytes] | None = None, cmd: list[str] | None = None,
                  labels: dict[str, str] | None = None, created: str = "2024-02-01T00:00:00Z") -> bytes:
    """A docker-save tarball; layers may be gzip or plain (diff ids computed from the plain form)."""
    plain = [gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b for b in layers]
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Cmd": cmd or ["sh"], "Env": ["PATH=/bin"], **({"Labels": labels} if labels else {})},
        "rootfs": {"type": "layers", "diff_ids": diff_ids if diff_ids is not None else [sha(p) for p in plain]},
    }
    cfg = json.dumps(config).encode()
    files: dict[str, bytes] = {}
    if legacy:
        files[f"{sha(cfg)[7:]}.json"] = cfg
        paths = []
        for i, b in enumerate(layers):
            p = f"{i:064x}/layer.tar"
            files[p] = b
            paths.append(p)
        manifest = [{"Config": f"{sha(cfg)[7:]}.json", "RepoTags": tags, "Layers": paths}]
    else:
        for b in [cfg, *layers]:
            files[f"blobs/sha256/{sha(b)[7:]}"] = b
        manifest = [{"Config": f"blobs/sha256/{sha(cfg)[7:]}", "RepoTags": tags,
                     "Layers": [f"blobs/sha256/{sha(b)[7:]}" for b in layers]}]
    files["manifest.json"] = json.dumps(manifest).encode()
    files.update(extra or {})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def sparse_bomb(name: str = "bomb", realsize: int = 10 << 30, data: bytes = b"x" * 512) -> bytes:
    """A GNU sparse entry: a few KB of tar that declares a ``realsize`` file (tarfile cannot write these)."""
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mtime = tarfile.GNUTYPE_SPARSE, len(data), 0
    hdr = bytearray(ti.tobuf(tarfile.GNU_FORMAT))

    def oct12(n: int) -> bytes:
        return b"%011o\0" % n

    hdr[386:398], hdr[398:410] = oct12(realsize - len(data)), oct12(len(data))  # one sparse region at the end
    hdr[482], hdr[483:495] = 0, oct12(realsize)  # not extended; the real size
    hdr[148:156] = b" " * 8
    hdr[148:156] = b"%06o\0 " % sum(hdr[:512])
    return bytes(hdr) + data + b"\0" * (-len(data) % 512) + b"\0" * 1024


def truncated_declared(name: str = "huge", size: int = 10 << 30) -> bytes:
    """A regular-file header declaring ``size`` bytes, followed by almost nothing."""
    ti = tarfile.TarInfo(name)
    ti.size = size
    return ti.tobuf(tarfile.PAX_FORMAT) + b"A" * 4096
