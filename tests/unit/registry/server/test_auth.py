import base64

import bcrypt
import pytest

from dockyard.errors import InvalidArgument
from dockyard.registry.server import tokens
from dockyard.registry.server.access import Gate
from dockyard.registry.server.auth import AuthConfig, Rule, Scope, load_config, parse_basic, parse_scope
from dockyard.registry.server.codes import RegistryError
from dockyard.registry.server.routes import route


def _hash(pw: str) -> str:
    return bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$", 1)


USERS = {"alice": _hash("secret"), "bob": _hash("hunter2"), "eve": "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="}
RULES = (Rule("alice", "*", frozenset({"pull", "push", "delete"})),
         Rule("bob", "team/*", frozenset({"pull"})),
         Rule("anonymous", "public/*", frozenset({"pull"})))


def basic(user, pw):
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def cfg(mode):
    return AuthConfig(mode, USERS, RULES, secret=b"k" * 32)


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_scope_and_basic_parsing():
    assert parse_scope("repository:a/b:pull,push") == Scope("repository", "a/b", ("pull", "push"))
    assert parse_scope("registry:catalog:*") == Scope("registry", "catalog", ("*",))
    assert parse_scope("junk") is None
    assert parse_basic(basic("u", "p:q")["authorization"]) == ("u", "p:q")
    assert parse_basic("Basic !!!") is None and parse_basic(None) is None


def test_passwords_bcrypt_only():
    c = cfg("basic")
    assert c.check_password("alice", "secret")
    assert not c.check_password("alice", "wrong")
    assert not c.check_password("eve", "password")  # SHA1 htpasswd entry refused
    assert not c.check_password("nobody", "x")


def test_grants_follow_first_matching_rule():
    c = cfg("token")
    assert c.grant("bob", Scope("repository", "team/app", ("pull", "push"))) == ("pull",)
    assert c.grant("bob", Scope("repository", "other", ("pull",))) == ()
    assert c.grant("anonymous", Scope("repository", "public/x", ("pull",))) == ("pull",)
    assert c.grant("alice", Scope("registry", "catalog", ("*",))) == ("*",)


def test_basic_gate():
    g = Gate(cfg("basic"), Clock())
    pull, push = route("GET", "/v2/team/app/tags/list"), route("PUT", "/v2/team/app/manifests/t")
    assert g.check(pull, basic("bob", "hunter2"), "http://r").account == "bob"
    for r, headers, status in [(pull, {}, 401), (pull, basic("bob", "bad"), 401), (push, basic("bob", "hunter2"), 403),
                               (route("GET", "/v2/"), {}, 401)]:
        with pytest.raises(RegistryError) as info:
            g.check(r, headers, "http://r")
        assert info.value.status == status
        if status == 401:
            assert dict(info.value.headers)["WWW-Authenticate"].startswith("Basic ")
    assert g.check(route("GET", "/v2/public/x/tags/list"), {}, "http://r").account == "anonymous"


def test_token_flow():
    clock = Clock()
    g = Gate(cfg("token"), clock)
    push = route("PUT", "/v2/team/app/manifests/t")
    with pytest.raises(RegistryError) as info:
        g.check(push, {}, "http://reg:5000")
    challenge = dict(info.value.headers)["WWW-Authenticate"]
    assert challenge == 'Bearer realm="http://reg:5000/token",service="dockyard-registry",scope="repository:team/app:pull,push"'
    answer = g.token("service=dockyard-registry&scope=repository:team/app:pull,push", basic("bob", "hunter2"))
    bearer = {"authorization": "Bearer " + answer["token"]}
    assert g.check(route("GET", "/v2/team/app/tags/list"), bearer, "http://r").account == "bob"
    with pytest.raises(RegistryError) as info:
        g.check(push, bearer, "http://r")
    assert info.value.status == 403  # bob may never push there
    alice = g.token("scope=repository:team/app:pull", basic("alice", "secret"))
    with pytest.raises(RegistryError) as info:
        g.check(push, {"authorization": "Bearer " + alice["token"]}, "http://r")
    assert info.value.status == 401 and 'error="insufficient_scope"' in dict(info.value.headers)["WWW-Authenticate"]
    clock.now += 301
    with pytest.raises(RegistryError) as info:
        g.check(route("GET", "/v2/team/app/tags/list"), bearer, "http://r")
    assert info.value.status == 401  # expired


def test_token_refuses_wrong_password_and_forgery():
    g = Gate(cfg("token"), Clock())
    with pytest.raises(RegistryError) as info:
        g.token("scope=repository:x:pull", basic("alice", "nope"))
    assert info.value.status == 401
    form = b"grant_type=password&username=alice&password=secret&scope=repository:x:pull&service=s"
    tok = g.token("", {}, form)["token"]
    other = Gate(AuthConfig("token", USERS, RULES, secret=b"z" * 32), Clock())
    assert tokens.verify(other.config, other.secret, tok, 1000.0) is None
    assert tokens.verify(g.config, g.secret, tok, 1000.0).actions("repository", "x") == {"pull"}


def test_load_config(tmp_path):
    (tmp_path / "htpasswd").write_text(f"alice:{USERS['alice']}\n")
    (tmp_path / "reg.toml").write_text('[auth]\nmode = "token"\nhtpasswd = "htpasswd"\n'
                                       '[[access]]\naccount = "alice"\nrepository = "*"\nactions = ["pull"]\n')
    c = load_config(tmp_path / "reg.toml")
    assert c.mode == "token" and c.check_password("alice", "secret") and c.rules[0].actions == {"pull"}
    (tmp_path / "bad.toml").write_text('[auth]\nmode = "basic"\nhtpasswd = "htpasswd"\n[[access]]\nactions = ["fly"]\n')
    with pytest.raises(InvalidArgument):
        load_config(tmp_path / "bad.toml")
