import pytest

from dockyard.core import reference
from dockyard.core.digest import Digest, Hasher, chain_id, of_bytes
from dockyard.errors import InvalidArgument, InvalidReference

HEX = "a" * 64


@pytest.mark.parametrize("ref, want", [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:latest", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
    ("user/app", "docker.io/user/app:latest"),
    ("localhost/app", "localhost/app:latest"),
    ("localhost:5000/ns/repo:tag", "localhost:5000/ns/repo:tag"),
    ("host:5000/ns/repo:tag", "host:5000/ns/repo:tag"),
    ("quay.io/a/b/c:v1.2-rc_3", "quay.io/a/b/c:v1.2-rc_3"),
    (f"busybox@sha256:{HEX}", f"docker.io/library/busybox@sha256:{HEX}"),
    (f"busybox:1@sha256:{HEX}", f"docker.io/library/busybox:1@sha256:{HEX}"),
    ("a__b/c-d.e", "docker.io/a__b/c-d.e:latest"),
    ("a.b/c", "a.b/c:latest"),
])
def test_normalize(ref, want):
    assert reference.normalize(ref) == want


@pytest.mark.parametrize("ref, message", [
    ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
    ("busybox:", "invalid reference format"),
    ("busy box", "invalid reference format"),
    ("-busybox", "invalid reference format"),
    ("busybox:-tag", "invalid reference format"),
    ("busybox@sha256:abc", "invalid reference format"),
    ("", "invalid reference format"),
    (HEX, f"invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings"),
    ("a" * 256, "repository name must not be more than 255 characters"),
    ("busybox:" + "t" * 129, "invalid reference format"),
])
def test_invalid(ref, message):
    with pytest.raises(InvalidReference) as exc:
        reference.parse(ref)
    assert str(exc.value) == message


def test_invalid_reference_is_invalid_argument():
    assert issubclass(InvalidReference, InvalidArgument)


@pytest.mark.parametrize("name, want", [
    ("docker.io/library/busybox:latest", "busybox:latest"),
    ("docker.io/library/busybox", "busybox"),
    ("docker.io/user/app:1", "user/app:1"),
    ("docker.io/library/a/b:1", "library/a/b:1"),
    ("localhost:5000/x:1", "localhost:5000/x:1"),
    (f"docker.io/library/busybox@sha256:{HEX}", f"busybox@sha256:{HEX}"),
])
def test_familiar(name, want):
    assert reference.familiar(name) == want


def test_reference_parts():
    r = reference.parse("host:5000/ns/repo:tag")
    assert (r.domain, r.path, r.tag, r.digest) == ("host:5000", "ns/repo", "tag", "")
    assert r.name == "host:5000/ns/repo"
    assert reference.parse("busybox").familiar() == "busybox:latest"
    assert reference.parse("busybox", default_tag=False).tag == ""


def test_digest_validation():
    d = Digest("sha256:" + HEX)
    assert d.hex == HEX and d.algorithm == "sha256" and isinstance(d, str)
    for bad in ["sha256:" + "A" * 64, "sha256:abc", "md5:" + HEX, HEX, ""]:
        with pytest.raises(InvalidArgument):
            Digest(bad)


def test_hasher_matches_of_bytes():
    h = Hasher()
    h.update(b"hello ")
    h.update(b"world")
    assert h.size == 11
    assert h.digest() == of_bytes(b"hello world")
    assert of_bytes(b"") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_chain_id():
    a, b = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    assert chain_id([]) == ""
    assert chain_id([a]) == a
    assert chain_id([a, b]) == of_bytes(f"{a} {b}".encode())
