"""skopeo (containers/image) pushes into and pulls out of ``dockyard registry``, digests preserved."""

from __future__ import annotations

import hashlib
import json
import subprocess
import urllib.request

import pytest

from .conftest import start_registry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def skopeo(*args: str) -> str:
    cp = subprocess.run(["skopeo", *args], capture_output=True, timeout=60, text=True)
    assert cp.returncode == 0, f"skopeo {' '.join(args)}: {cp.stderr}"
    return cp.stdout


def head_digest(url: str, name: str, ref: str, accept: str) -> tuple[str, str]:
    req = urllib.request.Request(f"{url}/v2/{name}/manifests/{ref}", method="HEAD", headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers["Docker-Content-Digest"], resp.headers["Content-Type"]


@pytest.fixture
def cli_registry(tmp_path):
    reg = start_registry(tmp_path / "registry", via_cli=True)  # through `dockyard registry serve`
    yield reg
    reg.stop()


def test_skopeo_round_trip_preserves_digests(cli_registry, seed_tar, tmp_path):
    reg = cli_registry.hostport
    no_tls = ("--src-tls-verify=false", "--dest-tls-verify=false")
    skopeo("copy", "--dest-tls-verify=false", f"docker-archive:{seed_tar}", f"docker://{reg}/library/busybox:latest")
    raw = skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{reg}/library/busybox:latest").encode()
    pushed = "sha256:" + hashlib.sha256(raw).hexdigest()
    accept = json.loads(raw)["mediaType"]
    assert head_digest(cli_registry.url, "library/busybox", "latest", accept)[0] == pushed

    # Registry to registry (same format): the manifest digest is kept; layers mount across repos.
    skopeo("copy", *no_tls, f"docker://{reg}/library/busybox:latest", f"docker://{reg}/copies/busybox:1")
    assert head_digest(cli_registry.url, "copies/busybox", "1", accept)[0] == pushed

    # Out to an OCI layout (skopeo converts to OCI there), in again, out again: one digest throughout.
    skopeo("copy", *no_tls, f"docker://{reg}/library/busybox:latest", f"oci:{tmp_path / 'layout'}:latest")
    layout = json.loads((tmp_path / "layout" / "index.json").read_text())["manifests"][0]["digest"]
    skopeo("copy", *no_tls, f"oci:{tmp_path / 'layout'}:latest", f"docker://{reg}/oci/busybox:1")
    digest, ctype = head_digest(cli_registry.url, "oci/busybox", "1", OCI_MANIFEST)
    assert (digest, ctype) == (layout, OCI_MANIFEST)
    skopeo("copy", *no_tls, f"docker://{reg}/oci/busybox:1", f"oci:{tmp_path / 'again'}:x")
    assert json.loads((tmp_path / "again" / "index.json").read_text())["manifests"][0]["digest"] == layout
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{reg}/library/busybox"))
    assert tags["Tags"] == ["latest"]
