import pytest

from dockyard.errors import InvalidArgument
from dockyard.wire import versions


def test_compare_is_numeric():
    assert versions.compare("1.9", "1.10") == -1
    assert versions.compare("1.47", "1.47") == 0
    assert versions.compare("1.47", "1.24") == 1


@pytest.mark.parametrize("bad", ["1", "1.x", "v1.2", ""])
def test_parse_rejects(bad):
    with pytest.raises(InvalidArgument):
        versions.parse(bad)


def test_client_version_bounds():
    versions.check_client_version("1.24")
    versions.check_client_version("1.47")
    with pytest.raises(InvalidArgument, match="Minimum supported API version is 1.24, please upgrade"):
        versions.check_client_version("1.23")
    with pytest.raises(InvalidArgument, match="too new. Maximum supported API version is 1.47"):
        versions.check_client_version("1.48")


def test_negotiate():
    assert versions.negotiate("1.48", "1.47") == "1.47"  # docker CLI 28 against us
    assert versions.negotiate("1.41", "1.47") == "1.41"  # docker CLI 20.10
    with pytest.raises(InvalidArgument):
        versions.negotiate("1.20", "1.47")
