"""RUN --mount=type=secret with ``dockyard build --secret``: readable in the RUN, nowhere after it."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile

import pytest

from ..conftest import ENV

pytestmark = pytest.mark.root

DOCKERFILE = """\
FROM busybox
RUN --mount=type=secret,id=tok md5sum < /run/secrets/tok > /file-md5
RUN --mount=type=secret,id=tok,env=TOK,required=true sh -c 'printf %s "$TOK" | md5sum > /env-md5'
RUN --mount=type=secret,id=tok,target=/etc/tokfile,mode=0440,uid=5,gid=6 stat -c '%a %u %g' /etc/tokfile > /stat
RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && touch /optional-ok
"""


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_secret_readable_during_run_and_absent_after(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    secret = "s3cr3t-" + tmp_path.name
    (tmp_path / "tok.txt").write_text(secret)
    try:
        daemon.cli("build", "--secret", f"id=tok,src={tmp_path / 'tok.txt'}", "-t", "bt-secret", str(tmp_path),
                   check=True, timeout=120)
        out = daemon.cli("run", "--rm", "bt-secret", "sh", "-c",
                         "cat /file-md5 /env-md5 /stat; ls /optional-ok; ls /run/secrets /etc/tokfile 2>&1 | wc -l",
                         check=True).stdout.decode().split("\n")
        want = _md5(secret.encode())
        assert out[0].split()[0] == want and out[1].split()[0] == want, out
        assert out[2:5] == ["440 5 6", "/optional-ok", "2"], out  # two "No such file" lines: no mount points left

        # nowhere in the image: not in its layers, config or history
        saved = daemon.cli("save", "bt-secret", check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(saved)) as tf:
            for member in tf.getmembers():
                f = tf.extractfile(member)
                blob = f.read() if f else b""
                if blob[257:262] == b"ustar":  # a layer: look inside it too
                    with tarfile.open(fileobj=io.BytesIO(blob)) as layer:
                        names = layer.getnames()
                        assert not any(n.startswith(("run/secrets", "etc/tokfile")) for n in names), names
                assert secret.encode() not in blob, member.name
        history = daemon.cli("history", "--no-trunc", "bt-secret", check=True).stdout.decode()
        assert secret not in history

        # the value is not in the cache key (as BuildKit): a changed value reuses every step ...
        (tmp_path / "tok.txt").write_text("another-value")
        again = daemon.cli("build", "--secret", f"id=tok,src={tmp_path / 'tok.txt'}", "-t", "bt-secret",
                           str(tmp_path), check=True, timeout=120).stdout.decode()
        assert again.count("Using cache") == 4, again
        assert daemon.cli("run", "--rm", "bt-secret", "cat", "/file-md5", check=True).stdout.split()[0].decode() == want
        # ... and the env form works from the CLI's environment too; --no-cache sees the new value
        cp = subprocess.run([sys.executable, "-m", "dockyard.cli", "-H", daemon.host, "build", "--no-cache",
                             "--secret", "id=tok,env=DY_TEST_TOK", "-t", "bt-secret", str(tmp_path)],
                            capture_output=True, timeout=120, env={**ENV, "DY_TEST_TOK": "from-env"})
        assert cp.returncode == 0, cp.stderr
        assert daemon.cli("run", "--rm", "bt-secret", "cat", "/env-md5", check=True).stdout.split()[0].decode() \
            == _md5(b"from-env")
        assert daemon.cli("ps", "-aq", "--filter", "label=dockyard.build").stdout.strip() == b""
        assert not any((daemon.exec_root / "build-secrets").glob("*/*"))
    finally:
        daemon.cli("rmi", "-f", "bt-secret")


def test_missing_required_secret_is_a_clear_error(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN --mount=type=secret,id=needed,required true\n")
    cp = daemon.cli("build", "--no-cache", str(tmp_path), timeout=60)
    assert cp.returncode == 1
    assert "secret needed: not found" in cp.stderr.decode(), cp.stderr
    assert daemon.cli("ps", "-aq", "--filter", "label=dockyard.build").stdout.strip() == b""


@pytest.mark.parametrize("flag, message", [
    ("id=x,src=/nonexistent/secret", "secret x: /nonexistent/secret: No such file or directory"),
    ("id=x,env=DY_TEST_SURELY_UNSET", "environment variable DY_TEST_SURELY_UNSET is not set"),
    ("id=x,bogus=1", "unexpected key 'bogus'"),
])
def test_bad_secret_flags_are_usage_errors(daemon, tmp_path, flag, message):
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    cp = daemon.cli("build", "--secret", flag, str(tmp_path), timeout=30)
    assert cp.returncode != 0
    assert message in cp.stderr.decode(), cp.stderr
