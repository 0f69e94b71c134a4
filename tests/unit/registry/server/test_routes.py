import pytest

from dockyard.registry.server.codes import RegistryError
from dockyard.registry.server.routes import route

D = "sha256:" + "a" * 64


@pytest.mark.parametrize("method,path,endpoint,name,ref", [
    ("GET", "/v2/", "base", "", ""),
    ("GET", "/v2/_catalog", "catalog", "", ""),
    ("GET", "/v2/a/b/c/tags/list", "tags", "a/b/c", ""),
    ("PUT", "/v2/lib/x/manifests/v1.0", "manifest", "lib/x", "v1.0"),
    ("GET", f"/v2/x/manifests/{D}", "manifest", "x", D),
    ("POST", "/v2/x/blobs/uploads/", "upload_start", "x", ""),
    ("PATCH", "/v2/x/blobs/uploads/abc-_1", "upload", "x", "abc-_1"),
    ("HEAD", f"/v2/my-app/blobs/{D}", "blob", "my-app", D),
    ("GET", f"/v2/x/referrers/{D}", "referrers", "x", D),
    ("GET", "/token", "token", "", ""),
])
def test_routes(method, path, endpoint, name, ref):
    r = route(method, path)
    assert (r.endpoint, r.name, r.reference) == (endpoint, name, ref)


@pytest.mark.parametrize("method,path,code,status", [
    ("GET", "/v2/UPPER/tags/list", "NAME_INVALID", 400),
    ("GET", "/v2/a//b/tags/list", "NAME_INVALID", 400),
    ("GET", "/v2/../x/tags/list", "NAME_INVALID", 400),
    ("GET", "/v2/_x/tags/list", "NAME_INVALID", 400),
    ("GET", "/v2/x/blobs/sha256:zz", "DIGEST_INVALID", 400),
    ("GET", "/v2/x/blobs/sha512:" + "a" * 128, "UNSUPPORTED", 405),
    ("PUT", "/v2/x/manifests/-bad", "MANIFEST_INVALID", 400),
    ("POST", "/v2/x/tags/list", "UNSUPPORTED", 405),
    ("GET", "/nowhere", "NOT_FOUND", 404),
])
def test_refusals(method, path, code, status):
    with pytest.raises(RegistryError) as info:
        route(method, path)
    assert (info.value.code.name, info.value.status) == (code, status)


def test_required_actions():
    assert route("GET", f"/v2/x/blobs/{D}").actions == ("pull",)
    assert route("PATCH", "/v2/x/blobs/uploads/u").actions == ("pull", "push")
    assert route("DELETE", "/v2/x/manifests/t").actions == ("delete",)
    assert route("GET", "/v2/").actions == ()
