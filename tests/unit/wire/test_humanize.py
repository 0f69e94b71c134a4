import pytest

from dockyard.wire.humanize import human_duration, human_size, status_text


@pytest.mark.parametrize("secs,text", [
    (0.5, "Less than a second"), (1, "1 second"), (2, "2 seconds"), (59, "59 seconds"),
    (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"),
    (3600, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"), (48 * 3600, "2 days"),
    (14 * 86400, "2 weeks"), (60 * 86400, "2 months"), (2 * 365 * 86400, "2 years"),
])
def test_duration(secs, text):
    assert human_duration(secs) == text


@pytest.mark.parametrize("size,text", [
    (0, "0B"), (999, "999B"), (1000, "1kB"), (12345, "12.3kB"), (4261550, "4.26MB"),
    (123456789, "123MB"), (7_800_000_000, "7.8GB"),
])
def test_size(size, text):
    assert human_size(size) == text


def test_status():
    assert status_text(running=True, started_at=100, finished_at=None, now=103) == "Up 3 seconds"
    assert status_text(running=False, exit_code=0, started_at=1, finished_at=100, now=105) == "Exited (0) 5 seconds ago"
    assert status_text(running=False, started_at=None, finished_at=None, now=5) == "Created"
    assert status_text(running=True, paused=True, started_at=0, finished_at=None, now=120) == "Up 2 minutes (Paused)"
