from dockyard.core.timefmt import parse_rfc3339, rfc3339_ns


def test_round_trip():
    ns = 1_767_225_601_123_456_789
    text = rfc3339_ns(ns)
    assert text == "2026-01-01T00:00:01.123456789Z"
    assert abs(parse_rfc3339(text) - ns / 1e9) < 1e-6
    assert parse_rfc3339("0001-01-01T00:00:00Z") == 0.0
