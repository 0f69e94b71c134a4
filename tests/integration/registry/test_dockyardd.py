"""``dockyard push`` / ``pull`` through ``dockyardd`` against ``dockyard registry``."""

from __future__ import annotations

import json
import urllib.request

import pytest

pytestmark = pytest.mark.root


def test_push_then_pull_through_dockyardd(daemon, registry):
    ref = f"{registry.hostport}/dockyard/busybox:pushed"
    daemon.cli("tag", "busybox:latest", ref, check=True)
    try:
        daemon.cli("push", ref, check=True, timeout=120)
        with urllib.request.urlopen(f"{registry.url}/v2/dockyard/busybox/tags/list", timeout=10) as resp:
            assert json.load(resp)["tags"] == ["pushed"]
        req = urllib.request.Request(f"{registry.url}/v2/dockyard/busybox/manifests/pushed", method="HEAD")
        with urllib.request.urlopen(req, timeout=10) as resp:
            pushed = resp.headers["Docker-Content-Digest"]
        daemon.cli("rmi", ref, check=True)
        daemon.cli("pull", ref, check=True, timeout=120)
        inspect = json.loads(daemon.cli("inspect", ref, check=True).stdout)
        assert any(d.endswith("@" + pushed) for d in inspect[0]["RepoDigests"])
        out = daemon.cli("run", "--rm", ref, "echo", "from-registry", check=True, timeout=60)
        assert out.stdout.strip() == b"from-registry"
    finally:
        daemon.cli("rmi", "-f", ref)
