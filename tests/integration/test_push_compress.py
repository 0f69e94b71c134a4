"""Compress-on-push against Debian's docker-registry: a locally built image goes up as gzip, once."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import urllib.request

import pytest

from .conftest import Daemon
from .registries import DistributionRegistry

pytestmark = pytest.mark.root

GZIP_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _get(url: str, accept: str = "") -> bytes:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as r:  # 127.0.0.1 only
        return r.read()


def test_built_image_is_pushed_gzipped_once_and_pulls_back(daemon: Daemon, tmp_path) -> None:
    reg = DistributionRegistry(tmp_path / "registry")
    name, other = f"{reg.host}/dy/built:1", f"{reg.host}/dy/other:1"
    try:
        ctx = tmp_path / "ctx"
        ctx.mkdir()
        (ctx / "rand.bin").write_bytes(os.urandom(200_000))
        (ctx / "text.txt").write_bytes(b"compress me on push\n" * 20_000)
        (ctx / "Dockerfile").write_text("FROM busybox\nCOPY rand.bin /rand.bin\nCOPY text.txt /text.txt\n")
        daemon.cli("build", "-q", "-t", name, str(ctx), check=True, timeout=120)
        image_id = json.loads(daemon.cli("image", "inspect", name, check=True).stdout)[0]["Id"]

        blobs = daemon.data_root / "content" / "blobs" / "sha256"
        stored = set(os.listdir(blobs))
        out = daemon.cli("push", name, check=True).stdout.decode()
        assert "Pushed" in out and "1: digest: sha256:" in out
        digest = out.split("digest: ")[1].split()[0]

        # The registry holds a manifest of gzip layers whose blobs inflate to the config's diff_ids.
        base = f"http://{reg.host}/v2/dy/built"
        raw = _get(f"{base}/manifests/1", "application/vnd.docker.distribution.manifest.v2+json")
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == digest
        manifest = json.loads(raw)
        config = json.loads(_get(f"{base}/blobs/{manifest['config']['digest']}"))
        assert manifest["config"]["digest"] == image_id  # same config: same image id
        diff_ids = config["rootfs"]["diff_ids"]
        assert len(manifest["layers"]) == len(diff_ids) == 3
        for layer, diff_id in zip(manifest["layers"], diff_ids):
            assert layer["mediaType"] == GZIP_LAYER
            blob = _get(f"{base}/blobs/{layer['digest']}")
            assert blob[:2] == b"\x1f\x8b" and len(blob) == layer["size"]
            assert "sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest() == diff_id
        info = json.loads(daemon.cli("image", "inspect", name, check=True).stdout)[0]
        assert info["Id"] == image_id and f"{reg.host}/dy/built@{digest}" in info["RepoDigests"]

        # Again: nothing compressed, nothing uploaded.  To another repository: mounted, same digest.
        before = set(os.listdir(blobs))
        again = daemon.cli("push", name, check=True).stdout.decode()
        assert again.count("Layer already exists") == 3 and "Pushed" not in again and digest in again
        daemon.cli("tag", name, other, check=True)
        moved = daemon.cli("push", other, check=True).stdout.decode()
        assert moved.count("Mounted from dy/built") == 3 and f"digest: {digest}" in moved
        assert set(os.listdir(blobs)) == before

        sk = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{name}"],
                            check=True, capture_output=True, timeout=60)
        seen = json.loads(sk.stdout)
        assert seen["Digest"] == digest and len(seen["Layers"]) == 3

        # Untagging the pushed names frees the gzip blobs (the image lives on under another name); removed,
        # then pulled back by tag and run.
        daemon.cli("tag", name, "keep/built:1", check=True)
        daemon.cli("rmi", name, other, check=True)
        left = set(os.listdir(blobs))
        gzipped = {x["digest"][7:] for x in manifest["layers"]} - stored  # busybox's layer came gzipped
        assert len(gzipped) >= 2 and not gzipped & left and digest[7:] not in left
        assert image_id[7:] in left
        daemon.cli("rmi", "keep/built:1", check=True)
        assert daemon.cli("image", "inspect", image_id).returncode != 0
        pulled = daemon.cli("pull", name, check=True).stdout.decode()
        assert f"Digest: {digest}" in pulled
        run = daemon.cli("run", "--rm", name, "sh", "-c", "wc -c < /rand.bin; head -1 /text.txt", check=True)
        assert run.stdout.split() == [b"200000", b"compress", b"me", b"on", b"push"]
    finally:
        daemon.cli("rmi", "-f", name, other, "keep/built:1")
        reg.stop()
