"""RUN --mount=type=secret parsing and exposure; the CLI->daemon secret header (wire/buildsecrets.py)."""

from __future__ import annotations

import os
import stat

import pytest

from dockyard.build import runmounts as rm
from dockyard.build import secrets
from dockyard.errors import InvalidArgument, NotFound
from dockyard.wire import buildsecrets as bs


@pytest.mark.parametrize("text, want", [
    ("type=secret,id=tok", dict(id="tok", target="/run/secrets/tok", env="", required=False, mode=0o400)),
    ("type=secret,target=/etc/npmrc", dict(id="npmrc", target="/etc/npmrc")),
    ("type=secret,id=tok,env=TOKEN", dict(target="", env="TOKEN")),
    ("type=secret,id=tok,env=TOKEN,target=/t", dict(target="/t", env="TOKEN")),
    ("type=secret,id=tok,target=rel", dict(target="/work/rel")),
    ("type=secret,id=tok,required", dict(required=True)),
    ("type=secret,id=tok,required=false", dict(required=False)),
    ("type=secret,id=tok,mode=0440,uid=5,gid=6", dict(mode=0o440, uid=5, gid=6)),
])
def test_secret_mount_defaults_as_buildkit(text, want):
    m = rm.parse(text, "/work")
    assert m.type == "secret" and m.readonly
    for k, v in want.items():
        assert getattr(m, k) == v, k


@pytest.mark.parametrize("text, message", [
    ("type=secret", "secret id or target is required"),
    ("type=secret,id=x,source=y", "unexpected key 'source'"),
    ("type=secret,id=x,mode=9", "bad mode"),
])
def test_bad_secret_mounts(text, message):
    with pytest.raises(InvalidArgument, match=message):
        rm.parse(text)


def test_key_holds_the_spec_not_the_value():
    a = rm.parse("type=secret,id=tok").key()
    assert a["id"] == "tok" and "content" not in a
    assert rm.parse("type=secret,id=tok,env=X").key() != a


def test_required_missing_and_env():
    ms = [rm.parse("type=secret,id=a,env=A"), rm.parse("type=secret,id=b")]
    secrets.check(ms, {})  # optional: no error
    with pytest.raises(NotFound, match="secret c: not found"):
        secrets.check([rm.parse("type=secret,id=c,required=true")], {"a": b"1"})
    assert secrets.env_of(ms, {"a": b"s3cr3t", "b": b"x"}) == ["A=s3cr3t"]
    assert secrets.env_of(ms, {}) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_file_mount_is_read_only_with_mode_owner_and_is_removed(tmp_path):
    m = rm.parse("type=secret,id=tok,mode=0440,uid=7,gid=8")
    with secrets.file_mount(m, {"tok": b"value"}, str(tmp_path / "s")) as entry:
        assert entry is not None
        assert entry["ReadOnly"] and entry["Target"] == "/run/secrets/tok"
        st = os.stat(entry["Source"])
        assert stat.S_IMODE(st.st_mode) == 0o440 and (st.st_uid, st.st_gid) == (7, 8)
        with open(entry["Source"], "rb") as f:
            assert f.read() == b"value"
    assert os.listdir(tmp_path / "s") == []


def test_no_file_for_a_missing_optional_or_env_only_secret(tmp_path):
    for text, values in (("type=secret,id=tok", {}), ("type=secret,id=tok,env=T", {"tok": b"v"})):
        with secrets.file_mount(rm.parse(text), values, str(tmp_path)) as entry:
            assert entry is None


def test_realise_mounts_secrets_and_cleans_up(tmp_path):
    m = rm.parse(f"type=secret,id=tok,uid={os.getuid()},gid={os.getgid()}")
    with rm.realise([m], context=str(tmp_path), fs_of=lambda _r: "", caches=rm.CacheMounts(str(tmp_path / "c")),
                    scratch=str(tmp_path), secrets={"tok": b"v"}, secrets_dir=str(tmp_path / "sec")) as mounts:
        assert [x["Target"] for x in mounts] == ["/run/secrets/tok"]
    assert os.listdir(tmp_path / "sec") == []


# -- the CLI side and the header ----------------------------------------------------------------
@pytest.mark.parametrize("text, want", [
    ("id=a,src=/p", ("a", "file", "/p")),
    ("id=a,source=/p", ("a", "file", "/p")),
    ("src=/dir/tok", ("tok", "file", "/dir/tok")),
    ("id=a,env=VAR", ("a", "env", "VAR")),
    ("type=env,id=a", ("a", "env", "a")),
    ("type=env,id=a,src=VAR", ("a", "env", "VAR")),
    ("id=GH_TOKEN", ("GH_TOKEN", "env", "GH_TOKEN")),
])
def test_parse_flag_as_buildx(text, want):
    assert bs.parse_flag(text) == want


@pytest.mark.parametrize("text", ["", "id", "id=a,bogus=1", "type=ssh,id=a"])
def test_parse_flag_errors(text):
    with pytest.raises(bs.SecretSpecError):
        bs.parse_flag(text)


def test_load_encode_decode_round_trip(tmp_path):
    (tmp_path / "f").write_bytes(b"\x00bin\xff")
    got = bs.load([f"id=f,src={tmp_path / 'f'}", "id=e,env=E"], {"E": "from-env"})
    assert got == {"f": b"\x00bin\xff", "e": b"from-env"}
    assert bs.decode(bs.encode(got)) == got
    assert bs.decode(None) == {} and bs.decode("") == {}
    with pytest.raises(bs.SecretSpecError, match="E2 is not set"):
        bs.load(["id=e,env=E2"], {})
    with pytest.raises(bs.SecretSpecError, match="No such file"):
        bs.load([f"id=f,src={tmp_path / 'missing'}"], {})


def test_too_large_and_malformed():
    with pytest.raises(bs.SecretSpecError, match="too large"):
        bs.encode({"big": os.urandom(bs.MAX_ENCODED)})
    for bad in ("%%%", "bm90IGpzb24=", "WzFd"):  # not base64, not JSON, not an object
        with pytest.raises(ValueError):
            bs.decode(bad)
