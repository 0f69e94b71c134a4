import pytest

from dockyard.compose import dotenv
from dockyard.compose.interpolate import MissingRequired, interpolate, interpolate_tree
from dockyard.errors import InvalidArgument

ENV = {"A": "a", "EMPTY": "", "N": "3"}


@pytest.mark.parametrize("text,want", [
    ("plain", "plain"),
    ("$A-${A}", "a-a"),
    ("${MISSING}", ""),
    ("${MISSING:-dflt}", "dflt"),
    ("${EMPTY:-dflt}", "dflt"),
    ("${EMPTY-dflt}", ""),
    ("${MISSING-dflt}", "dflt"),
    ("${A:+yes}", "yes"),
    ("${EMPTY:+yes}", ""),
    ("${EMPTY+yes}", "yes"),
    ("$$A costs $$5", "$A costs $5"),
    ("${MISSING:-${A}-${N}}", "a-3"),
    ("port ${P:-80}/tcp", "port 80/tcp"),
])
def test_interpolate(text, want):
    assert interpolate(text, ENV) == want


def test_required_variable_errors_with_message():
    with pytest.raises(MissingRequired, match="required variable DB is missing a value: set DB"):
        interpolate("${DB:?set DB}", ENV)
    with pytest.raises(MissingRequired):
        interpolate("${EMPTY:?}", ENV)
    assert interpolate("${EMPTY?x}", ENV) == ""


def test_unset_warns():
    seen = []
    interpolate("$NOPE", ENV, seen.append)
    assert seen == ['The "NOPE" variable is not set. Defaulting to a blank string.']


@pytest.mark.parametrize("bad", ["${", "${A", "$", "${1A}", "${A!x}"])
def test_bad_format(bad):
    with pytest.raises(InvalidArgument, match="invalid interpolation format"):
        interpolate(bad, ENV)


def test_tree_names_path_and_leaves_keys():
    tree = {"services": {"web": {"image": "img:${N}", "ports": ["${A}"], "$K": 1}}}
    assert interpolate_tree(tree, ENV) == {"services": {"web": {"image": "img:3", "ports": ["a"], "$K": 1}}}
    with pytest.raises(MissingRequired, match=r"services.web.ports\[0\]"):
        interpolate_tree({"services": {"web": {"ports": ["${X:?}"]}}}, ENV)


def test_dotenv():
    text = ('# c\nexport A=1\nB = two words # note\nC="q \\"x\\"\\n"\nD=\'$raw\'\nE="multi\nline"\nF=\nG\n')
    assert dotenv.parse(text) == {"A": "1", "B": "two words", "C": 'q "x"\n', "D": "$raw", "E": "multi\nline",
                                  "F": ""}
    with pytest.raises(InvalidArgument, match=r"\.env:1"):
        dotenv.parse("BAD KEY=1")
