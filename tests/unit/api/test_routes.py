import pytest

from dockyard import errors
from dockyard.daemon.api.errors import error_response, status_for
from dockyard.daemon.api.messages import Response
from dockyard.daemon.api.routes import PageNotFound, Router, split_version


def h(name):
    return lambda req: Response.json(name)


@pytest.fixture
def router():
    r = Router()
    r.add("GET", "/images/json", h("list"))
    r.add("GET", "/images/{name:path}/json", h("inspect"))
    r.add("GET", "/containers/{id}/json", h("cinspect"))
    r.add("HEAD", "/_ping", h("ping"))
    return r


def test_split_version():
    assert split_version("/v1.47/_ping") == ("1.47", "/_ping")
    assert split_version("/_ping") == (None, "/_ping")
    assert split_version("/version") == (None, "/version")


@pytest.mark.parametrize("path,params", [
    ("/images/busybox/json", {"name": "busybox"}),
    ("/v1.47/images/busybox:latest/json", {"name": "busybox:latest"}),
    ("/images/ghcr.io/org/app:1.0/json", {"name": "ghcr.io/org/app:1.0"}),
    ("/images/localhost:5000/a/b@sha256:abc/json", {"name": "localhost:5000/a/b@sha256:abc"}),
])
def test_image_names_with_slashes(router, path, params):
    m = router.resolve("GET", path)
    assert m.params == params and m.path.startswith("/images/")


def test_literal_before_template_and_versions(router):
    m = router.resolve("GET", "/v1.24/images/json")
    assert m.params == {} and m.api_version == "1.24"
    assert router.resolve("get", "/images/json").api_version == "1.47"


def test_segment_param_does_not_span_slashes(router):
    with pytest.raises(PageNotFound):
        router.resolve("GET", "/containers/a/b/json")
    with pytest.raises(PageNotFound):
        router.resolve("POST", "/images/json")  # wrong method
    with pytest.raises(errors.InvalidArgument, match="too old"):
        router.resolve("HEAD", "/v1.23/_ping")


@pytest.mark.parametrize("exc,status", [
    (errors.InvalidArgument("x"), 400), (errors.InvalidReference("x"), 400),
    (errors.NotFound("x"), 404), (errors.ImageNotFound("x"), 404),
    (errors.AlreadyExists("x"), 409), (errors.Conflict("x"), 409),
    (errors.NotModified("x"), 304), (errors.FailedPrecondition("x"), 400),
    (errors.DigestMismatch("x"), 400), (errors.Unauthorized("x"), 401),
    (errors.PermissionDenied("x"), 403), (errors.Unavailable("x"), 503),
    (errors.NotImplemented_("x"), 501), (errors.Internal("x"), 500),
    (errors.RuntimeFailure("x", step="exec"), 500), (ValueError("x"), 500),
])
def test_error_table(exc, status):
    assert status_for(exc) == status


def test_error_bodies(caplog):
    import json

    assert json.loads(error_response(errors.NotFound("No such container: x")).body) == {"message": "No such container: x"}
    resp = error_response(errors.StartFailed("exec failed", exit_code=126))
    assert resp.status == 400 and json.loads(resp.body) == {"message": "exec failed", "ExitCode": 126}
    assert error_response(errors.NotModified("")).body == b""
    resp = error_response(KeyError("boom"))
    assert resp.status == 500 and "Traceback" not in resp.body.decode()
    assert any(r.exc_info for r in caplog.records)
