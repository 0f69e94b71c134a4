import pytest

from dockyard.errors import InvalidArgument
from dockyard.wire import filters


@pytest.mark.parametrize("raw", ['{"status":["running"],"label":["a=b","c"]}',
                                 '{"status":{"running":true},"label":{"a=b":true,"c":true,"off":false}}'])
def test_both_forms(raw):
    assert filters.parse(raw) == {"status": ["running"], "label": ["a=b", "c"]}


@pytest.mark.parametrize("raw", ["", None, "{}"])
def test_empty(raw):
    assert filters.parse(raw) == {}


@pytest.mark.parametrize("raw", ["{bad", "[]", '{"a": 1}', '{"a": [1]}'])
def test_invalid(raw):
    with pytest.raises(InvalidArgument):
        filters.parse(raw)


def test_allowed_keys():
    assert filters.parse('{"name":["x"]}', ["name"]) == {"name": ["x"]}
    with pytest.raises(InvalidArgument, match="invalid filter 'nope'"):
        filters.parse('{"nope":["x"]}', ["name"])


def test_encode_round_trip_and_match():
    assert filters.parse(filters.encode({"label": ["a=b"], "empty": []})) == {"label": ["a=b"]}
    assert filters.match_labels(["a=b", "c"], {"a": "b", "c": ""})
    assert not filters.match_labels(["a=x"], {"a": "b"})
    assert filters.match_any(None, "v") and filters.match_any([], "v") and not filters.match_any(["w"], "v")
