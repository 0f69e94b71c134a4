"""Build a ``busybox:latest`` image archive from the host's static busybox.

    python -m dockyard.image.seed --busybox /bin/busybox -o busybox.tar

The output is a ``docker save`` tarball (Docker 25+ layout: ``manifest.json``
plus an OCI image layout) with one gzip layer, loadable by ``docker load`` and
by ours.  It is deterministic -- sorted entries, fixed mtimes and owners, gzip
mtime 0, canonical JSON -- so loading it twice, or on two machines with the
same busybox binary, gives the same image id.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import platform
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from dockyard.core.digest import of_bytes
from dockyard.oci import image as oci

CREATED = "2024-01-01T00:00:00Z"
MTIME = 1704067200  # CREATED as unix time
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# As in the official busybox image (its /etc/passwd and /etc/group).
PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
"""
DIRS = {
    "bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "proc": 0o755, "root": 0o700,
    "sys": 0o755, "tmp": 0o1777, "usr": 0o755, "usr/sbin": 0o755, "var": 0o755,
    "var/spool": 0o755, "var/spool/mail": 0o755, "var/www": 0o755,
}
_ARCH = {"x86_64": ("amd64", ""), "aarch64": ("arm64", "v8"), "armv7l": ("arm", "v7"), "i686": ("386", ""),
         "ppc64le": ("ppc64le", ""), "s390x": ("s390x", ""), "riscv64": ("riscv64", "")}


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def applets(busybox: Path) -> list[str]:
    out = subprocess.run([str(busybox), "--list"], check=True, capture_output=True, text=True).stdout
    return sorted({a for a in out.split() if a and "/" not in a and a != "busybox"})


def build_layer(busybox: Path) -> bytes:
    """The uncompressed rootfs tar."""
    entries: dict[str, tarfile.TarInfo] = {}
    data: dict[str, bytes] = {}

    def add(name: str, kind: bytes, mode: int, payload: bytes = b"", link: str = "") -> None:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = kind, mode, MTIME, 0, 0, "", ""
        ti.linkname = link
        ti.size = len(payload)
        entries[name] = ti
        data[name] = payload

    for d, mode in DIRS.items():
        add(d, tarfile.DIRTYPE, mode)
    add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
    for a in applets(busybox):
        add(f"bin/{a}", tarfile.SYMTYPE, 0o777, link="busybox")
    add("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
    add("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in sorted(entries):
            tf.addfile(entries[name], io.BytesIO(data[name]) if entries[name].isreg() else None)
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=buf, mode="wb", compresslevel=6, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def build_archive(busybox: Path = Path("/bin/busybox"), tag: str = "busybox:latest",
                  full_name: str = "docker.io/library/busybox:latest") -> bytes:
    """The whole ``docker save`` tarball as bytes."""
    layer = build_layer(busybox)
    diff_id = of_bytes(layer)
    layer_gz = gzip_bytes(layer)
    arch, variant = _ARCH.get(platform.machine(), (platform.machine(), ""))
    config: dict[str, Any] = {
        "architecture": arch,
        "os": "linux",
        "config": {"Env": [PATH_ENV], "Cmd": ["sh"]},
        "created": CREATED,
        "history": [
            {"created": CREATED, "created_by": f"/bin/sh -c #(nop) ADD file:{diff_id.hex} in / "},
            {"created": CREATED, "created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
        ],
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    if variant:
        config["variant"] = variant
    config_b = canonical_json(config)
    manifest_b = canonical_json({
        "schemaVersion": 2,
        "mediaType": oci.OCI_MANIFEST,
        "config": oci.Descriptor(oci.OCI_CONFIG, of_bytes(config_b), len(config_b)).to_json(),
        "layers": [oci.Descriptor(oci.OCI_LAYER_GZIP, of_bytes(layer_gz), len(layer_gz)).to_json()],
    })
    mdesc = oci.Descriptor(oci.OCI_MANIFEST, of_bytes(manifest_b), len(manifest_b),
                           {"io.containerd.image.name": full_name,
                            "org.opencontainers.image.ref.name": tag.rsplit(":", 1)[-1]})
    files = {
        f"blobs/sha256/{of_bytes(b).hex}": b for b in (config_b, layer_gz, manifest_b)
    }
    files["index.json"] = canonical_json(
        {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [mdesc.to_json()]})
    files["manifest.json"] = canonical_json([{
        "Config": f"blobs/sha256/{of_bytes(config_b).hex}",
        "RepoTags": [tag],
        "Layers": [f"blobs/sha256/{of_bytes(layer_gz).hex}"],
    }])
    files["oci-layout"] = canonical_json({"imageLayoutVersion": "1.0.0"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in ("blobs", "blobs/sha256"):
            tf.addfile(_info(d, tarfile.DIRTYPE, 0o755, 0))
        for name in sorted(files):
            tf.addfile(_info(name, tarfile.REGTYPE, 0o644, len(files[name])), io.BytesIO(files[name]))
    return buf.getvalue()


def _info(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = kind, mode, size, MTIME, 0, 0, "", ""
    return ti


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dockyard.image.seed", description=__doc__.splitlines()[0])
    ap.add_argument("--busybox", type=Path, default=Path("/bin/busybox"), help="a static busybox binary")
    ap.add_argument("-o", "--output", type=Path, help="write the tarball here (default: stdout)")
    args = ap.parse_args(argv)
    data = build_archive(args.busybox)
    if args.output is None:
        sys.stdout.buffer.write(data)
    else:
        tmp = args.output.with_name(args.output.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
