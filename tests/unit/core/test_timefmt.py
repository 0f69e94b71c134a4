import pytest

from dockyard.core.timefmt import human_duration, parse_rfc3339, rfc3339_ns


def test_round_trip():
    ns = 1_767_225_601_123_456_789
    text = rfc3339_ns(ns)
    assert text == "2026-01-01T00:00:01.123456789Z"
    assert abs(parse_rfc3339(text) - ns / 1e9) < 1e-6
    assert parse_rfc3339("0001-01-01T00:00:00Z") == 0.0


@pytest.mark.parametrize("secs,text", [
    (0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
    (150, "2 minutes"), (3600, "About an hour"), (3 * 3600, "3 hours"), (3 * 86400, "3 days"),
    (20 * 86400, "2 weeks"), (90 * 86400, "3 months"), (800 * 86400, "2 years"),
])
def test_human_duration(secs, text):
    assert human_duration(secs) == text
