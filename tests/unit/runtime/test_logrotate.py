from __future__ import annotations

from pathlib import Path

from dockyard.daemon import logconfig
from dockyard.errors import InvalidArgument
from dockyard.runtime.logrotate import LogWriter, rotated_paths

import pytest


def test_rotation_between_entries(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    w = LogWriter(log, max_size=100, max_file=3)
    for i in range(30):
        w.write(b"".join(b'{"log":"line-%02d"}\n' % (i * 2 + k) for k in range(2)))
    w.close()
    paths = rotated_paths(log, 3)
    assert [p.exists() for p in paths] == [True, True, True] and not Path(f"{log}.3").exists()
    text = b"".join(p.read_bytes() for p in paths).decode()
    nums = [int(line[-4:-2]) for line in text.splitlines()]
    assert nums == list(range(nums[0], 60)) and all(p.stat().st_size <= 100 for p in paths)


def test_none_writes_nothing(tmp_path: Path) -> None:
    w = LogWriter(tmp_path / "x.log", driver="none")
    w.write(b"x\n")
    w.close()
    assert not (tmp_path / "x.log").exists()


def test_settings() -> None:
    assert logconfig.settings({}) == ("json-file", 0, 1)
    assert logconfig.settings({"LogConfig": {"Type": "local"}}) == ("local", 20 << 20, 5)
    assert logconfig.settings({"LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "2"}}}) \
        == ("json-file", 10 << 20, 2)
    for cfg, msg in (({"Type": "foo"}, "logger: no log driver named 'foo' is registered"),
                     ({"Config": {"max-file": "2"}}, "max-file can only be used with max-size"),
                     ({"Config": {"max-file": "0", "max-size": "1k"}}, "max-file cannot be less than 1"),
                     ({"Type": "none", "Config": {"max-size": "1k"}}, "unknown log opt 'max-size' for none log driver")):
        with pytest.raises(InvalidArgument) as exc:
            logconfig.settings({"LogConfig": cfg})
        assert exc.value.message == msg
    assert logconfig.log_files(Path("/l"), {"LogConfig": {"Type": "none"}}) == []
