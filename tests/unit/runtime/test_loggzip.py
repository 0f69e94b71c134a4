"""Compressed rotation (Docker's ``<log>.N.gz`` with its lastTime header) and reading it back."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from dockyard.daemon import logconfig
from dockyard.daemon.logs import read_log
from dockyard.errors import Internal, InvalidArgument
from dockyard.runtime import loggzip
from dockyard.runtime.jsonlog import encode_entry
from dockyard.runtime.logrotate import LogWriter, rotated_paths


def test_header_is_gos_and_readable(tmp_path: Path) -> None:
    src, dst = tmp_path / "a", tmp_path / "a.gz"
    src.write_bytes(b"hello\n" * 1000)
    loggzip.compress_file(src, dst, "2026-11-28T10:33:51.756464888Z")
    raw = dst.read_bytes()
    assert raw[:12] == b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff-\x00"  # as Docker 20.10 writes it
    assert raw[12:57] == b'{"lastTime":"2026-11-28T10:33:51.756464888Z"}'
    assert loggzip.last_time(raw[:64]) == "2026-11-28T10:33:51.756464888Z"
    assert gzip.decompress(raw) == b"hello\n" * 1000 and not src.exists()
    assert loggzip.read_rotated(src) == b"hello\n" * 1000
    assert loggzip.read_rotated(tmp_path / "missing") == b""


def test_compressed_rotation_keeps_max_file_and_order(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    w = LogWriter(log, max_size=200, max_file=3, compress=True)
    for i in range(100):
        w.write(encode_entry(b"line %d\n" % i, 1, 1_700_000_000_000_000_000 + i))
    w.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["c-json.log", "c-json.log.1.gz", "c-json.log.2.gz"]
    head = (tmp_path / "c-json.log.1.gz").read_bytes()[:80]
    assert loggzip.last_time(head).startswith("2023-11-14T22:13:20.")
    out = [d for _, d in read_log(log, stdout=True, stderr=True, older=rotated_paths(log, 3)[:-1])]
    nums = [int(d.split()[1]) for d in out]
    assert nums == list(range(nums[0], 100)) and nums[0] > 0  # in order, oldest dropped, nothing torn


def test_compress_option_checked_at_start() -> None:
    host = {"LogConfig": {"Type": "json-file", "Config": {"compress": "true", "max-size": "1k", "max-file": "3"}}}
    assert logconfig.compress(host) is True
    assert logconfig.compress({"LogConfig": {"Type": "local"}}) is True  # Docker's local default
    assert logconfig.compress({}) is False
    for cfg, msg in (({"compress": "true"}, "compress cannot be true when max-file is less than 2 or max-size is "
                                            "not set"),
                     ({"compress": "x", "max-size": "1k", "max-file": "3"},
                      'strconv.ParseBool: parsing "x": invalid syntax')):
        logconfig.settings({"LogConfig": {"Config": cfg}})  # create accepts it, as Docker's
        with pytest.raises(Internal) as exc:
            logconfig.compress({"LogConfig": {"Config": cfg}})
        assert exc.value.message == "failed to initialize logging driver: " + msg


def test_daemon_default_log_driver() -> None:
    assert logconfig.daemon_default({}, None, []) == ("json-file", {})
    assert logconfig.daemon_default({"log-driver": "local", "log-opts": {"max-size": "1m"}}, None, []) == \
        ("local", {"max-size": "1m"})
    assert logconfig.daemon_default({}, "local", ["max-file=3", "max-size=1k"]) == \
        ("local", {"max-file": "3", "max-size": "1k"})
    for doc, driver, opts, msg in (
            ({}, "foo", [], "logger: no log driver named 'foo' is registered"),
            ({"log-driver": "none"}, "local", [], "the following directives are specified both as a flag and in "
             "the configuration file: log-driver: (from flag: local, from file: none)"),
            ({}, None, ["bogus=1"], "unknown log opt 'bogus' for json-file log driver")):
        with pytest.raises(InvalidArgument) as exc:
            logconfig.daemon_default(doc, driver, opts)
        assert exc.value.message == msg


def test_container_log_config_over_the_daemons() -> None:
    wd = logconfig.with_default
    assert wd({}, "local", {"max-size": "1m"})["LogConfig"] == {"Type": "local", "Config": {"max-size": "1m"}}
    assert wd({"LogConfig": {"Type": "", "Config": {"max-size": "2m"}}}, "local", {"max-size": "1m", "max-file": "2"}
              )["LogConfig"] == {"Type": "local", "Config": {"max-size": "2m", "max-file": "2"}}
    assert wd({"LogConfig": {"Type": "json-file"}}, "local", {"max-size": "1m"})["LogConfig"] == \
        {"Type": "json-file", "Config": {}}  # its own driver wins, without the daemon's options
