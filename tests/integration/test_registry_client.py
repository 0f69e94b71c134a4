"""Pull, push, login against real registry servers on 127.0.0.1 (Debian's docker-registry, skopeo, stubs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import ENV, Daemon
from .registries import (DistributionRegistry, StubRegistry, TokenServer, image_blobs, push_raw, sha256,
                         tiny_layer)

pytestmark = pytest.mark.root


def run(d: Daemon, *args: str, env: dict[str, str] | None = None, input: bytes | None = None,
        check: bool = False) -> subprocess.CompletedProcess:
    cp = subprocess.run([sys.executable, "-m", "dockyard.cli", "-H", d.host, *args], input=input,
                        capture_output=True, timeout=60, env={**ENV, **(env or {})})
    if check and cp.returncode != 0:
        raise AssertionError(f"dockyard {' '.join(args)} -> {cp.returncode}\n{cp.stdout.decode()}{cp.stderr.decode()}")
    return cp


def inspect(d: Daemon, ref: str) -> dict:
    return json.loads(run(d, "inspect", "--type", "image", ref, check=True).stdout)[0]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = DistributionRegistry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


def test_push_remove_pull_by_tag_and_digest_then_run(daemon: Daemon, registry: DistributionRegistry) -> None:
    name = f"{registry.host}/dy/bb:1"
    run(daemon, "tag", "busybox", name, check=True)
    out = run(daemon, "push", name, check=True).stdout.decode()
    assert "Pushed" in out and "1: digest: sha256:" in out
    digest = out.split("digest: ")[1].split()[0]
    again = run(daemon, "push", name, check=True).stdout.decode()
    assert "Layer already exists" in again
    run(daemon, "rmi", name, check=True)
    pulled = run(daemon, "pull", name, check=True).stdout.decode()
    assert f"Digest: {digest}" in pulled and f"Status: Downloaded newer image for {name}" in pulled
    assert f"Status: Image is up to date for {name}" in run(daemon, "pull", name, check=True).stdout.decode()
    assert f"{registry.host}/dy/bb@{digest}" in inspect(daemon, name)["RepoDigests"]
    assert run(daemon, "run", "--rm", name, "echo", "pulled").stdout == b"pulled\n"
    run(daemon, "rmi", name, check=True)
    implicit = run(daemon, "run", "--rm", name, "echo", "implicit")  # --pull missing (the default)
    assert implicit.stdout == b"implicit\n" and f"Unable to find image '{name}' locally" in implicit.stderr.decode()
    never = run(daemon, "run", "--rm", "--pull", "never", f"{registry.host}/dy/bb:absent", "true")
    assert never.returncode == 125
    run(daemon, "rmi", name, check=True)
    by_digest = f"{registry.host}/dy/bb@{digest}"
    run(daemon, "pull", by_digest, check=True)
    assert inspect(daemon, by_digest)["RepoTags"] == ["busybox:latest"]
    missing = run(daemon, "pull", f"{registry.host}/dy/nope:1")
    assert missing.returncode == 1
    assert f"manifest for {registry.host}/dy/nope:1 not found: manifest unknown" in missing.stderr.decode()


def test_fresh_pull_downloads_and_removal_frees_content(daemon: Daemon, registry: DistributionRegistry) -> None:
    layer, diff_id = tiny_layer({"hello": b"hi\n"})
    blobs, manifest = image_blobs("amd64", layer, diff_id)
    push_raw(registry.host, "dy/tiny", blobs, "v1", "application/vnd.oci.image.manifest.v1+json", manifest)
    name = f"{registry.host}/dy/tiny:v1"
    out = run(daemon, "pull", name, check=True).stdout.decode()
    assert "Pull complete" in out and "Status: Downloaded newer image" in out
    blob_dir = daemon.data_root / "content" / "blobs" / "sha256"
    assert (blob_dir / sha256(layer)[7:]).exists()
    rm = run(daemon, "rmi", name, check=True).stdout.decode()
    assert f"Untagged: {name}" in rm and "Deleted: sha256:" in rm
    for dg in [*blobs, sha256(manifest)]:
        assert not (blob_dir / dg[7:]).exists()
    assert run(daemon, "inspect", "--type", "image", name).returncode == 1


def test_multi_arch_index_selects_the_platform(daemon: Daemon, registry: DistributionRegistry) -> None:
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    for arch in ("arm64", "amd64"):
        layer, diff_id = tiny_layer({"arch": arch.encode()})
        blobs, manifest = image_blobs(arch, layer, diff_id)
        push_raw(registry.host, "dy/multi", blobs, sha256(manifest), "application/vnd.oci.image.manifest.v1+json",
                 manifest)
        index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "digest": sha256(manifest), "size": len(manifest),
                                   "platform": {"os": "linux", "architecture": arch}})
    body = json.dumps(index).encode()
    push_raw(registry.host, "dy/multi", {}, "v1", "application/vnd.oci.image.index.v1+json", body)
    name = f"{registry.host}/dy/multi:v1"
    run(daemon, "pull", "--platform", "linux/arm64", name, check=True)
    img = inspect(daemon, name)
    assert img["Architecture"] == "arm64"
    assert img["RepoDigests"] == [f"{registry.host}/dy/multi@{sha256(body)}"]
    run(daemon, "pull", "--platform", "linux/amd64", name, check=True)
    assert inspect(daemon, name)["Architecture"] == "amd64"
    bad = run(daemon, "pull", "--platform", "linux/s390x", name)
    assert "no matching manifest for linux/s390x in the manifest list entries" in bad.stderr.decode()
    run(daemon, "rmi", name, check=True)
    run(daemon, "image", "prune", "-f", check=True)


def _ingests(d: Daemon) -> list[str]:
    root = d.data_root / "content" / "ingest"
    return os.listdir(root) if root.exists() else []


def _stub_image() -> tuple[StubRegistry, bytes, str]:
    layer, diff_id = tiny_layer({"file": os.urandom(300_000)})
    blobs, manifest = image_blobs("amd64", layer, diff_id)
    stub = StubRegistry(manifests={"v1": ("application/vnd.oci.image.manifest.v1+json", manifest)}, blobs=blobs)
    return stub, layer, sha256(layer)


def test_tampered_blob_fails_and_leaves_nothing(daemon: Daemon) -> None:
    stub, layer, layer_digest = _stub_image()
    stub.tamper.add(layer_digest)
    stub.start()
    try:
        cp = run(daemon, "pull", f"{stub.host}/bad/img:v1")
    finally:
        stub.stop()
    assert cp.returncode == 1
    assert f"filesystem layer verification failed for digest {layer_digest}" in cp.stderr.decode()
    assert run(daemon, "inspect", "--type", "image", f"{stub.host}/bad/img:v1").returncode == 1
    assert not (daemon.data_root / "content" / "blobs" / "sha256" / layer_digest[7:]).exists()
    assert _ingests(daemon) == []


def test_interrupted_download_is_resumed_with_range(daemon: Daemon) -> None:
    stub, layer, layer_digest = _stub_image()
    stub.drop_after[layer_digest] = len(layer) // 2
    stub.start()
    try:
        run(daemon, "pull", f"{stub.host}/cut/img:v1", check=True)
    finally:
        stub.stop()
    assert stub.ranges == [f"bytes={len(layer) // 2}-"]
    run(daemon, "rmi", f"{stub.host}/cut/img:v1", check=True)


def test_schema1_is_refused_clearly(daemon: Daemon) -> None:
    body = json.dumps({"schemaVersion": 1, "name": "old/img", "tag": "v1", "fsLayers": []}).encode()
    stub = StubRegistry(manifests={"v1": ("application/vnd.docker.distribution.manifest.v1+prettyjws", body)}).start()
    try:
        cp = run(daemon, "pull", f"{stub.host}/old/img:v1")
    finally:
        stub.stop()
    assert cp.returncode == 1 and "manifest version 2, schema 1 support is disabled" in cp.stderr.decode()


def test_basic_auth_login_push_pull_logout(daemon: Daemon, tmp_path) -> None:
    reg = DistributionRegistry(tmp_path / "reg", auth="htpasswd", users={"alice": "s3cret"})
    env = {"DOCKER_CONFIG": str(tmp_path / "cfg")}
    name = f"{reg.host}/alice/bb:1"
    try:
        run(daemon, "tag", "busybox", name, check=True)
        denied = run(daemon, "push", name, env=env)
        assert denied.returncode == 1 and "unauthorized" in denied.stderr.decode()
        wrong = run(daemon, "login", "-u", "alice", "--password-stdin", reg.host, input=b"nope\n", env=env)
        assert wrong.returncode == 1 and "unauthorized" in wrong.stderr.decode()
        ok = run(daemon, "login", "-u", "alice", "--password-stdin", reg.host, input=b"s3cret\n", env=env)
        assert ok.stdout == b"Login Succeeded\n", ok.stderr
        cfg = json.loads((tmp_path / "cfg" / "config.json").read_text())
        assert cfg["auths"][reg.host]["auth"] == "YWxpY2U6czNjcmV0"
        run(daemon, "push", name, env=env, check=True)
        run(daemon, "rmi", name, check=True)
        run(daemon, "pull", name, env=env, check=True)
        assert run(daemon, "logout", reg.host, env=env).stdout.decode() == f"Removing login credentials for {reg.host}\n"
        run(daemon, "rmi", name, check=True)
        assert run(daemon, "pull", name, env=env).returncode == 1
    finally:
        reg.stop()


def test_token_auth_scopes_and_login(daemon: Daemon, tmp_path) -> None:
    tokens = TokenServer(tmp_path, users={"bob": "pw"})
    reg = DistributionRegistry(tmp_path / "reg", auth=tokens)
    env = {"DOCKER_CONFIG": str(tmp_path / "cfg")}
    name = f"{reg.host}/bob/bb:1"
    try:
        run(daemon, "tag", "busybox", name, check=True)
        run(daemon, "login", "-u", "bob", "--password-stdin", reg.host, input=b"pw\n", env=env, check=True)
        run(daemon, "push", name, env=env, check=True)
        run(daemon, "rmi", name, check=True)
        run(daemon, "pull", name, env=env, check=True)
        scopes = {s for q in tokens.requests for s in q.get("scope", [])}
        assert "repository:bob/bb:pull,push" in scopes and "repository:bob/bb:pull" in scopes
        assert all(q.get("service") == ["test-registry"] for q in tokens.requests)
        run(daemon, "rmi", name, check=True)
    finally:
        reg.stop()
        tokens.stop()


def test_skopeo_interoperates_both_ways(daemon: Daemon, registry: DistributionRegistry, seed_tar) -> None:
    sk = ["skopeo", "--insecure-policy"]
    subprocess.run([*sk, "copy", "--dest-tls-verify=false", f"docker-archive:{seed_tar}",
                    f"docker://{registry.host}/sk/from-skopeo:1"], check=True, capture_output=True, timeout=60)
    run(daemon, "pull", f"{registry.host}/sk/from-skopeo:1", check=True)
    assert run(daemon, "run", "--rm", f"{registry.host}/sk/from-skopeo:1", "echo", "ok").stdout == b"ok\n"
    run(daemon, "tag", "busybox", f"{registry.host}/sk/to-skopeo:1", check=True)
    out = run(daemon, "push", f"{registry.host}/sk/to-skopeo:1", check=True).stdout.decode()
    digest = out.split("digest: ")[1].split()[0]
    info = subprocess.run([*sk, "inspect", "--tls-verify=false", f"docker://{registry.host}/sk/to-skopeo:1"],
                          check=True, capture_output=True, timeout=60)
    assert json.loads(info.stdout)["Digest"] == digest
    run(daemon, "rmi", f"{registry.host}/sk/from-skopeo:1", f"{registry.host}/sk/to-skopeo:1", check=True)


def test_docker_cli_pull_and_push_through_dockyardd(daemon: Daemon, registry: DistributionRegistry) -> None:
    name = f"{registry.host}/docker/bb:1"
    tag = daemon.docker("tag", "busybox", name)
    assert tag.returncode == 0, tag.stderr
    pushed = daemon.docker("push", name)
    assert pushed.returncode == 0, pushed.stderr
    assert "1: digest: sha256:" in pushed.stdout.decode()
    assert daemon.docker("rmi", name).returncode == 0
    pulled = daemon.docker("pull", name)
    assert pulled.returncode == 0, pulled.stderr
    assert "Status: Image is up to date" in pulled.stdout.decode() or "Downloaded newer" in pulled.stdout.decode()
    assert pulled.stdout.decode().strip().endswith(name)
    assert daemon.docker("rmi", name).returncode == 0


def test_rmi_conflicts_with_containers_as_docker(daemon: Daemon) -> None:
    run(daemon, "tag", "busybox", "conflict/bb:1", check=True)
    cid = run(daemon, "create", "conflict/bb:1", "true", check=True).stdout.decode().strip()
    try:
        image_id = inspect(daemon, "conflict/bb:1")["Id"]
        run(daemon, "rmi", "conflict/bb:1", check=True)  # busybox:latest still names the image: untag only
        by_id = run(daemon, "rmi", image_id[7:19])
        assert by_id.returncode == 1
        assert f"unable to delete {image_id[7:19]} (must be forced) - image is being used by stopped container " \
               f"{cid[:12]}" in by_id.stderr.decode() or "referenced in multiple repositories" in by_id.stderr.decode()
    finally:
        run(daemon, "rm", "-f", cid)
    assert run(daemon, "rmi", "nope/nothing:1").stderr.decode().strip() == \
        "Error response from daemon: No such image: nope/nothing:1"


def test_pull_all_tags(daemon: Daemon, registry: DistributionRegistry) -> None:
    repo = f"{registry.host}/dy/alltags"
    for arch, tag in (("amd64", "a"), ("amd64", "b")):
        layer, diff_id = tiny_layer({"tag": tag.encode()})
        blobs, manifest = image_blobs(arch, layer, diff_id)
        push_raw(registry.host, "dy/alltags", blobs, tag, "application/vnd.oci.image.manifest.v1+json", manifest)
    assert "tag can't be used with --all-tags/-a" in run(daemon, "pull", "-a", f"{repo}:a").stderr.decode()
    out = run(daemon, "pull", "-a", repo, check=True).stdout.decode()
    assert "a: Pulling from dy/alltags" in out and "b: Pulling from dy/alltags" in out
    assert out.count("Digest: sha256:") == 2 and f"Status: Downloaded newer image for {repo}\n{repo}\n" in out
    assert inspect(daemon, f"{repo}:a")["Id"] != inspect(daemon, f"{repo}:b")["Id"]
    again = daemon.docker("pull", "-a", repo)  # the real CLI sends fromImage without a tag
    assert again.returncode == 0 and f"Status: Image is up to date for {repo}" in again.stdout.decode(), again.stderr
    run(daemon, "rmi", f"{repo}:a", f"{repo}:b", check=True)
