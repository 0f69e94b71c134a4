"""Black-box conformance of the registry, from the OCI Distribution Spec v1.1 text.

Written against the spec ("Pull", "Push", "Content Discovery", "Content
Management", "Error Codes", "Endpoints" end-1 … end-13), over plain HTTP
with http.client; nothing here imports the server's code.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from urllib.parse import urlsplit

import pytest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
SPEC_CODES = {"BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
              "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
              "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS"}


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Client:
    def __init__(self, url: str) -> None:
        self.netloc = urlsplit(url).netloc

    def req(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.netloc, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def error_code(self, status_headers_body) -> str:
        """Spec "Error Codes": a JSON body with an errors array of code/message/detail."""
        _, headers, body = status_headers_body
        doc = json.loads(body)
        err = doc["errors"][0]
        assert set(err) >= {"code", "message"}
        assert err["code"] in SPEC_CODES
        return err["code"]

    def push_blob(self, name: str, data: bytes) -> str:
        digest = sha(data)
        st, h, _ = self.req("POST", f"/v2/{name}/blobs/uploads/")
        assert st == 202
        loc = h["location"]
        sep = "&" if "?" in loc else "?"
        st, h, _ = self.req("PUT", f"{loc}{sep}digest={digest}", data,
                            {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
        assert st == 201, st
        return digest

    def push_manifest(self, name: str, ref: str, manifest: dict, mt: str = OCI_MANIFEST):
        body = json.dumps(manifest).encode()
        return self.req("PUT", f"/v2/{name}/manifests/{ref}", body, {"Content-Type": mt})


def image(c: Client, name: str, layer: bytes = b"layer", **extra) -> dict:
    cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    return {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c.push_blob(name, cfg),
                       "size": len(cfg)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": c.push_blob(name, layer),
                        "size": len(layer)}], **extra}


@pytest.fixture
def c(shared_registry) -> Client:
    return Client(shared_registry.url)


def test_end1_base(c):
    st, h, _ = c.req("GET", "/v2/")
    assert st == 200
    assert h["docker-distribution-api-version"] == "registry/2.0"


def test_blob_push_post_put_then_pull(c):
    data = os.urandom(1000)
    digest = c.push_blob("conf/a", data)
    st, h, body = c.req("GET", f"/v2/conf/a/blobs/{digest}")
    assert (st, body, h["docker-content-digest"]) == (200, data, digest)
    st, h, body = c.req("HEAD", f"/v2/conf/a/blobs/{digest}")
    assert st == 200 and body == b"" and h["content-length"] == "1000"
    st, h, body = c.req("GET", f"/v2/conf/a/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert st == 206 and body == data[10:20] and h["content-range"] == "bytes 10-19/1000"


def test_blob_unknown(c):
    resp = c.req("GET", f"/v2/conf/a/blobs/{sha(b'nothing')}")
    assert resp[0] == 404 and c.error_code(resp) == "BLOB_UNKNOWN"
    assert c.req("HEAD", f"/v2/conf/a/blobs/{sha(b'nothing')}")[0] == 404


def test_single_post_with_digest(c):
    data = b"monolithic"
    st, h, _ = c.req("POST", f"/v2/conf/b/blobs/uploads/?digest={sha(data)}", data,
                     {"Content-Type": "application/octet-stream"})
    assert st == 201 and h["location"].endswith(f"/v2/conf/b/blobs/{sha(data)}")
    assert c.req("HEAD", f"/v2/conf/b/blobs/{sha(data)}")[0] == 200


def test_chunked_upload_with_status_and_out_of_order(c):
    data = os.urandom(5000)
    st, h, _ = c.req("POST", "/v2/conf/c/blobs/uploads/")
    assert st == 202
    loc = h["location"]
    st, h, _ = c.req("PATCH", loc, data[:2000], {"Content-Type": "application/octet-stream", "Content-Range": "0-1999"})
    assert st == 202 and h["range"] == "0-1999"
    loc = h["location"]
    st, h, _ = c.req("GET", loc)  # upload status: 204 with Location and Range
    assert st == 204 and h["range"] == "0-1999" and "location" in h
    st, _, _ = c.req("PATCH", loc, data[3000:], {"Content-Type": "application/octet-stream", "Content-Range": "3000-4999"})
    assert st == 416  # chunks must arrive in order
    st, h, _ = c.req("PATCH", loc, data[2000:], {"Content-Type": "application/octet-stream", "Content-Range": "2000-4999"})
    assert st == 202 and h["range"] == "0-4999"
    sep = "&" if "?" in h["location"] else "?"
    st, h, _ = c.req("PUT", f"{h['location']}{sep}digest={sha(data)}")
    assert st == 201 and h["docker-content-digest"] == sha(data)
    assert c.req("GET", f"/v2/conf/c/blobs/{sha(data)}")[2] == data


def test_digest_mismatch(c):
    st, h, _ = c.req("POST", "/v2/conf/d/blobs/uploads/")
    sep = "&" if "?" in h["location"] else "?"
    resp = c.req("PUT", f"{h['location']}{sep}digest={sha(b'other')}", b"content")
    assert resp[0] == 400 and c.error_code(resp) == "DIGEST_INVALID"
    assert c.req("HEAD", f"/v2/conf/d/blobs/{sha(b'other')}")[0] == 404
    assert c.req("HEAD", f"/v2/conf/d/blobs/{sha(b'content')}")[0] == 404


def test_cancel_upload(c):
    st, h, _ = c.req("POST", "/v2/conf/e/blobs/uploads/")
    loc = h["location"]
    assert c.req("DELETE", loc)[0] == 204
    resp = c.req("GET", loc)
    assert resp[0] == 404 and c.error_code(resp) == "BLOB_UPLOAD_UNKNOWN"


def test_cross_repository_mount(c):
    digest = c.push_blob("conf/src", b"mount me")
    st, h, _ = c.req("POST", f"/v2/conf/dst/blobs/uploads/?mount={digest}&from=conf/src")
    assert st == 201 and h["location"].endswith(f"/v2/conf/dst/blobs/{digest}")
    assert h["docker-content-digest"] == digest
    st, h, _ = c.req("POST", f"/v2/conf/dst/blobs/uploads/?mount={sha(b'absent')}&from=conf/src")
    assert st == 202  # not mountable: an upload session instead
    c.req("DELETE", h["location"])


@pytest.mark.parametrize("mt", [OCI_MANIFEST, DOCKER_MANIFEST])
def test_manifest_put_get_head_by_tag_and_digest(c, mt):
    m = image(c, "conf/m")
    m["mediaType"] = mt
    if mt == DOCKER_MANIFEST:
        m["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json"
        m["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    body = json.dumps(m).encode()
    st, h, _ = c.req("PUT", "/v2/conf/m/manifests/v1", body, {"Content-Type": mt})
    assert st == 201 and h["docker-content-digest"] == sha(body) and "location" in h
    for ref in ("v1", sha(body)):
        st, h, got = c.req("GET", f"/v2/conf/m/manifests/{ref}", headers={"Accept": mt})
        assert (st, got, h["content-type"], h["docker-content-digest"]) == (200, body, mt, sha(body))
        st, h, got = c.req("HEAD", f"/v2/conf/m/manifests/{ref}", headers={"Accept": mt})
        assert st == 200 and got == b"" and h["content-length"] == str(len(body))


def test_index_and_manifest_list(c):
    m = image(c, "conf/i")
    body = json.dumps(m).encode()
    assert c.req("PUT", f"/v2/conf/i/manifests/{sha(body)}", body, {"Content-Type": OCI_MANIFEST})[0] == 201
    for mt in (OCI_INDEX, DOCKER_LIST):
        child_mt = OCI_MANIFEST
        idx = {"schemaVersion": 2, "mediaType": mt,
               "manifests": [{"mediaType": child_mt, "digest": sha(body), "size": len(body),
                              "platform": {"architecture": "amd64", "os": "linux"}}]}
        st, h, _ = c.push_manifest("conf/i", "multi", idx, mt)
        assert st == 201
        st, h, _ = c.req("GET", "/v2/conf/i/manifests/multi", headers={"Accept": mt})
        assert st == 200 and h["content-type"] == mt


def test_manifest_refusals(c):
    m = image(c, "conf/r")
    m["layers"][0]["digest"] = sha(b"never pushed")
    resp = c.push_manifest("conf/r", "t", m)
    assert resp[0] == 400 and c.error_code(resp) == "MANIFEST_BLOB_UNKNOWN"
    resp = c.req("PUT", "/v2/conf/r/manifests/t", b"{not json", {"Content-Type": OCI_MANIFEST})
    assert resp[0] == 400 and c.error_code(resp) == "MANIFEST_INVALID"
    good = json.dumps(image(c, "conf/r")).encode()
    resp = c.req("PUT", f"/v2/conf/r/manifests/{sha(b'different')}", good, {"Content-Type": OCI_MANIFEST})
    assert resp[0] == 400 and c.error_code(resp) == "DIGEST_INVALID"
    resp = c.req("GET", "/v2/conf/r/manifests/nope")
    assert resp[0] == 404 and c.error_code(resp) == "MANIFEST_UNKNOWN"


def test_name_invalid_and_unknown(c):
    resp = c.req("GET", "/v2/Bad-Name/tags/list")
    assert resp[0] == 400 and c.error_code(resp) == "NAME_INVALID"
    resp = c.req("GET", "/v2/conf/never/tags/list")
    assert resp[0] == 404 and c.error_code(resp) == "NAME_UNKNOWN"


def test_tags_list_pagination_and_catalog(c):
    m = image(c, "conf/t")
    for tag in ("b", "a", "d", "c", "e"):
        assert c.push_manifest("conf/t", tag, m)[0] == 201
    st, _, body = c.req("GET", "/v2/conf/t/tags/list")
    assert json.loads(body) == {"name": "conf/t", "tags": ["a", "b", "c", "d", "e"]}
    st, h, body = c.req("GET", "/v2/conf/t/tags/list?n=2")
    assert json.loads(body)["tags"] == ["a", "b"]
    link = h["link"]
    assert link.endswith('rel="next"')
    nxt = link[link.index("<") + 1:link.index(">")]
    st, h, body = c.req("GET", nxt)
    assert json.loads(body)["tags"] == ["c", "d"]
    st, h, body = c.req("GET", "/v2/conf/t/tags/list?n=3&last=c")
    assert json.loads(body)["tags"] == ["d", "e"] and "link" not in h
    st, _, body = c.req("GET", "/v2/_catalog")
    assert st == 200 and "conf/t" in json.loads(body)["repositories"]


def test_referrers_api(c):
    subject = image(c, "conf/ref")
    sbody = json.dumps(subject).encode()
    assert c.req("PUT", "/v2/conf/ref/manifests/v1", sbody, {"Content-Type": OCI_MANIFEST})[0] == 201
    desc = {"mediaType": OCI_MANIFEST, "digest": sha(sbody), "size": len(sbody)}
    art = image(c, "conf/ref", layer=b"signature", artifactType="application/vnd.example.sig", subject=desc)
    abody = json.dumps(art).encode()
    st, h, _ = c.req("PUT", f"/v2/conf/ref/manifests/{sha(abody)}", abody, {"Content-Type": OCI_MANIFEST})
    assert st == 201 and h["oci-subject"] == sha(sbody)
    st, h, body = c.req("GET", f"/v2/conf/ref/referrers/{sha(sbody)}")
    idx = json.loads(body)
    assert st == 200 and h["content-type"] == OCI_INDEX and idx["mediaType"] == OCI_INDEX
    assert [(d["digest"], d["artifactType"]) for d in idx["manifests"]] == [(sha(abody), "application/vnd.example.sig")]
    st, h, body = c.req("GET", f"/v2/conf/ref/referrers/{sha(sbody)}?artifactType=application/x.other")
    assert json.loads(body)["manifests"] == [] and h["oci-filters-applied"] == "artifactType"
    st, _, body = c.req("GET", f"/v2/conf/ref/referrers/{sha(b'no subject')}")
    assert st == 200 and json.loads(body)["manifests"] == []


def test_content_management_deletes(c):
    m = image(c, "conf/del")
    body = json.dumps(m).encode()
    assert c.push_manifest("conf/del", "t", m)[0] == 201
    assert c.req("DELETE", "/v2/conf/del/manifests/t")[0] == 202
    assert c.req("GET", "/v2/conf/del/manifests/t")[0] == 404
    assert c.req("DELETE", f"/v2/conf/del/manifests/{sha(body)}")[0] == 202
    resp = c.req("GET", f"/v2/conf/del/manifests/{sha(body)}")
    assert resp[0] == 404 and c.error_code(resp) == "MANIFEST_UNKNOWN"
    layer = m["layers"][0]["digest"]
    assert c.req("DELETE", f"/v2/conf/del/blobs/{layer}")[0] == 202
    assert c.req("HEAD", f"/v2/conf/del/blobs/{layer}")[0] == 404


def test_metrics_endpoint(c):
    c.req("GET", "/v2/")
    st, h, body = c.req("GET", "/metrics")
    assert st == 200 and h["content-type"].startswith("text/plain")
    text = body.decode()
    assert "registry_http_requests_total{" in text and "registry_uploads_in_flight" in text
