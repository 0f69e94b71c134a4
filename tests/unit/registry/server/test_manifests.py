import json

import pytest

from dockyard.registry.server import manifests
from dockyard.registry.server.codes import RegistryError

D1, D2, D3 = ("sha256:" + c * 64 for c in "123")
OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"
DOCKER_M = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_L = "application/vnd.docker.distribution.manifest.list.v2+json"


def desc(d, mt="application/octet-stream", size=1):
    return {"mediaType": mt, "digest": d, "size": size}


def image(mt=OCI_M, **extra):
    return json.dumps({"schemaVersion": 2, "mediaType": mt, "config": desc(D1, "application/x.cfg"),
                       "layers": [desc(D2)], **extra}).encode()


def test_image_manifest_references_config_and_layers():
    p = manifests.parse(image(), OCI_M)
    assert (p.media_type, p.blobs, p.manifests, p.artifact_type) == (OCI_M, (D1, D2), (), "application/x.cfg")
    assert manifests.parse(image(DOCKER_M), DOCKER_M).media_type == DOCKER_M


def test_index_references_children_and_subject():
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_I, "manifests": [desc(D1, OCI_M)],
                       "subject": desc(D3, OCI_M), "artifactType": "x/sig"}).encode()
    p = manifests.parse(body, OCI_I)
    assert (p.manifests, p.subject.digest, p.artifact_type) == ((D1,), D3, "x/sig")
    lst = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_L, "manifests": []}).encode()
    assert manifests.parse(lst, DOCKER_L).manifests == ()


def test_media_type_from_body_when_no_content_type():
    assert manifests.parse(image(), None).media_type == OCI_M


@pytest.mark.parametrize("body,ctype", [
    (b"not json", OCI_M),
    (b"[]", OCI_M),
    (json.dumps({"schemaVersion": 1}).encode(), OCI_M),
    (image(), DOCKER_M),  # body says OCI, header says Docker
    (image(mt="application/x.unknown"), "application/x.unknown"),
    (json.dumps({"schemaVersion": 2, "mediaType": OCI_M, "layers": []}).encode(), OCI_M),  # no config
    (json.dumps({"schemaVersion": 2, "mediaType": OCI_M, "config": desc("sha256:nope"), "layers": []}).encode(), OCI_M),
    (json.dumps({"schemaVersion": 2, "mediaType": OCI_I}).encode(), OCI_I),  # no manifests
    (json.dumps({"schemaVersion": 2, "mediaType": DOCKER_M, "config": desc(D1), "layers": []}).encode(), DOCKER_M),
])
def test_invalid(body, ctype):
    with pytest.raises(RegistryError) as info:
        manifests.parse(body, ctype)
    assert info.value.code.name == "MANIFEST_INVALID"


def test_too_big():
    with pytest.raises(RegistryError) as info:
        manifests.parse(b" " * (manifests.MAX_MANIFEST + 1), OCI_M)
    assert info.value.status == 413


def test_accepts():
    assert manifests.accepts(None, OCI_M)
    assert manifests.accepts(f"{DOCKER_M}, {OCI_M};q=0.5", OCI_M)
    assert manifests.accepts("*/*", OCI_I)
    assert not manifests.accepts(DOCKER_M, OCI_M)
