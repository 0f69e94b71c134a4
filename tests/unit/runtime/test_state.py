from pathlib import Path

import pytest

from dockyard.core.runtime import ExitStatus
from dockyard.runtime import state as st


@pytest.mark.parametrize("status, code, sig", [(0, 0, 0), (3 << 8, 3, 0), (9, 137, 9), (15, 143, 15), (9 | 0x80, 137, 9)])
def test_exit_status_from_wait(status: int, code: int, sig: int) -> None:
    assert st.exit_status_from_wait(status, 5) == ExitStatus(code, 5, sig)


def test_files_round_trip(tmp_path: Path) -> None:
    assert st.read_exit(tmp_path) is None and st.read_record(tmp_path) is None
    st.write_exit(tmp_path, ExitStatus(137, 42, 9))
    assert st.read_exit(tmp_path) == ExitStatus(137, 42, 9)
    rec = st.ShimRecord("/b", "/l", 10, 11, ("/sys/fs/cgroup/pids/x",))
    st.write_record(tmp_path, rec)
    assert st.read_record(tmp_path) == rec
    assert not st.is_started(tmp_path)
    st.mark_started(tmp_path)
    assert st.is_started(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exit.json", "started", "state.json"]
