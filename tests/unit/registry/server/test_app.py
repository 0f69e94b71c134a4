"""The app in-process: request facts in, spec behaviour out (no sockets)."""

import json
import os

from dockyard.core.digest import of_bytes

from .appfakes import BrokenBody, Harness

OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"


def test_chunked_upload_resumes_after_dropped_connection(tmp_path):
    h = Harness(tmp_path)
    data = os.urandom(3000)
    r = h.call("POST", "/v2/x/blobs/uploads/")
    assert r.status == 202 and r.headers["range"] == "0-0"
    loc = r.headers["location"]
    assert h.call("PATCH", loc, data[:1000], content_range="0-999").status == 202
    # Second chunk: the client vanishes after 500 of its 1000 bytes.
    try:
        h.call("PATCH", loc, BrokenBody(data[1000:1500]), content_range="1000-1999", content_length="1000")
    except Exception as exc:
        assert type(exc).__name__ == "ClientGone"
    st = h.call("GET", loc)
    assert st.status == 204 and st.headers["range"] == "0-1499"
    assert h.call("PATCH", loc, data[1000:], content_range="1000-2999").status == 416  # wrong offset
    assert h.call("PATCH", loc, data[1500:], content_range="1500-2999").status == 202
    d = of_bytes(data)
    r = h.call("PUT", f"{loc}?digest={d}")
    assert r.status == 201 and r.headers["docker-content-digest"] == d
    assert h.call("GET", f"/v2/x/blobs/{d}").body == data
    assert h.call("GET", loc).code == "BLOB_UPLOAD_UNKNOWN"
    assert len(h.sessions) == 0 and h.content.ingests() == []


def test_digest_mismatch_stores_nothing(tmp_path):
    h = Harness(tmp_path)
    wrong = of_bytes(b"other")
    r = h.call("POST", f"/v2/x/blobs/uploads/?digest={wrong}", b"data")
    assert (r.status, r.code) == (400, "DIGEST_INVALID")
    loc = h.call("POST", "/v2/x/blobs/uploads/").headers["location"]
    r = h.call("PUT", f"{loc}?digest={wrong}", b"data")
    assert (r.status, r.code) == (400, "DIGEST_INVALID")
    assert list(h.content.walk()) == [] and h.content.ingests() == []
    assert h.call("HEAD", f"/v2/x/blobs/{wrong}").status == 404


def test_blob_ranges_and_head(tmp_path):
    h = Harness(tmp_path)
    d = h.push_blob("x", b"0123456789")
    r = h.call("HEAD", f"/v2/x/blobs/{d}")
    assert (r.status, r.body, r.headers["docker-content-digest"]) == (200, b"", d)
    r = h.call("GET", f"/v2/x/blobs/{d}", range="bytes=2-4")
    assert (r.status, r.body, r.headers["content-range"]) == (206, b"234", "bytes 2-4/10")
    r = h.call("GET", f"/v2/x/blobs/{d}", range="bytes=20-")
    assert r.status == 416 and r.headers["content-range"] == "bytes */10"


def test_mount_links_only_readable_existing_blobs(tmp_path):
    h = Harness(tmp_path)
    d = h.push_blob("src", b"shared")
    r = h.call("POST", f"/v2/dst/blobs/uploads/?mount={d}&from=src")
    assert r.status == 201 and r.headers["location"] == f"/v2/dst/blobs/{d}"
    assert h.call("HEAD", f"/v2/dst/blobs/{d}").status == 200
    missing = of_bytes(b"nope")
    r = h.call("POST", f"/v2/dst/blobs/uploads/?mount={missing}&from=src")
    assert r.status == 202 and "/blobs/uploads/" in r.headers["location"]  # falls back to an upload
    h.sessions.close_all()


def test_manifest_lifecycle(tmp_path):
    h = Harness(tmp_path)
    digest, body = h.push_image("lib/app", "v1")
    for ref in ("v1", digest):
        r = h.call("GET", f"/v2/lib/app/manifests/{ref}", accept=OCI_M)
        assert (r.status, r.body, r.headers["content-type"], r.headers["docker-content-digest"]) == (200, body, OCI_M, digest)
    assert h.call("GET", "/v2/lib/app/manifests/v1", accept="application/vnd.docker.distribution.manifest.v2+json").status == 404
    assert h.call("DELETE", "/v2/lib/app/manifests/v1").status == 202  # a tag
    assert h.call("GET", "/v2/lib/app/manifests/v1").code == "MANIFEST_UNKNOWN"
    assert h.call("GET", f"/v2/lib/app/manifests/{digest}").status == 200
    assert h.call("DELETE", f"/v2/lib/app/manifests/{digest}").status == 202
    assert h.call("GET", f"/v2/lib/app/manifests/{digest}").status == 404


def test_manifest_refusals_store_nothing(tmp_path):
    h = Harness(tmp_path)
    m = {"schemaVersion": 2, "mediaType": OCI_M,
         "config": {"mediaType": "a/b", "digest": of_bytes(b"cfg"), "size": 3}, "layers": []}
    body = json.dumps(m).encode()
    r = h.call("PUT", "/v2/x/manifests/t", body, content_type=OCI_M)
    assert (r.status, r.code) == (400, "MANIFEST_BLOB_UNKNOWN")
    r = h.call("PUT", f"/v2/x/manifests/{of_bytes(b'other')}", body, content_type=OCI_M)
    assert r.code in ("DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN")
    assert h.call("PUT", "/v2/x/manifests/t", b"{", content_type=OCI_M).code == "MANIFEST_INVALID"
    assert list(h.content.walk()) == []
    assert h.call("GET", "/v2/x/tags/list").code == "NAME_UNKNOWN"


def test_index_needs_its_children(tmp_path):
    h = Harness(tmp_path)
    child, body = h.push_image("x", "amd64")
    idx = {"schemaVersion": 2, "mediaType": OCI_I,
           "manifests": [{"mediaType": OCI_M, "digest": child, "size": len(body)}]}
    assert h.call("PUT", "/v2/x/manifests/multi", json.dumps(idx).encode(), content_type=OCI_I).status == 201
    idx["manifests"][0]["digest"] = of_bytes(b"ghost")
    r = h.call("PUT", "/v2/x/manifests/bad", json.dumps(idx).encode(), content_type=OCI_I)
    assert r.code == "MANIFEST_BLOB_UNKNOWN"


def test_tags_pagination(tmp_path):
    h = Harness(tmp_path)
    for t in ("c", "a", "b", "d"):
        h.push_image("x", t)
    assert h.call("GET", "/v2/x/tags/list").json() == {"name": "x", "tags": ["a", "b", "c", "d"]}
    r = h.call("GET", "/v2/x/tags/list?n=2")
    assert r.json()["tags"] == ["a", "b"] and r.headers["link"] == '</v2/x/tags/list?n=2&last=b>; rel="next"'
    r = h.call("GET", "/v2/x/tags/list?n=2&last=b")
    assert r.json()["tags"] == ["c", "d"] and "link" not in r.headers
    assert h.call("GET", "/v2/x/tags/list?n=x").status == 400
    assert h.call("GET", "/v2/_catalog").json() == {"repositories": ["x"]}


def test_referrers_and_filter(tmp_path):
    h = Harness(tmp_path)
    subject, body = h.push_image("x", "v1")
    sub = {"mediaType": OCI_M, "digest": subject, "size": len(body)}
    sig, _ = h.push_image("x", "sig", layer=b"s", config_type="application/x.sig", subject=sub)
    sbom, _ = h.push_image("x", "sbom", layer=b"b", artifactType="application/x.sbom", subject=sub)
    r = h.call("GET", f"/v2/x/referrers/{subject}")
    assert r.headers["content-type"] == OCI_I
    found = {m["digest"]: m["artifactType"] for m in r.json()["manifests"]}
    assert found == {sig: "application/x.sig", sbom: "application/x.sbom"}
    r = h.call("GET", f"/v2/x/referrers/{subject}?artifactType=application/x.sbom")
    assert [m["digest"] for m in r.json()["manifests"]] == [sbom]
    assert r.headers["oci-filters-applied"] == "artifactType"


def test_uploads_expire(tmp_path):
    h = Harness(tmp_path)
    loc = h.call("POST", "/v2/x/blobs/uploads/").headers["location"]
    h.call("PATCH", loc, b"abc")
    h.clock.now += 601
    assert h.sessions.expire() and h.content.ingests() == []
    assert h.call("GET", loc).status == 404


def test_delete_disabled(tmp_path):
    h = Harness(tmp_path, delete=False)
    d, _ = h.push_image("x", "t")
    assert h.call("DELETE", f"/v2/x/manifests/{d}").code == "UNSUPPORTED"


def test_errors_carry_spec_headers(tmp_path):
    h = Harness(tmp_path)
    r = h.call("GET", "/v2/x/blobs/" + of_bytes(b"zz"))
    assert r.status == 404 and r.headers["content-type"] == "application/json"
    assert r.headers["docker-distribution-api-version"] == "registry/2.0"
    assert r.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    assert b"registry_uploads_in_flight 0" in h.call("GET", "/metrics").body
