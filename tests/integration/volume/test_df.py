"""`system df` counts volumes and `system df -v` lists their usage."""

import pytest

pytestmark = pytest.mark.root


def test_system_df_shows_volume_usage(daemon):
    daemon.cli("volume", "create", "dfvol", check=True)
    cid = daemon.cli("create", "--network", "none", "-v", "dfvol:/data", "busybox", "true",
                     check=True).stdout.decode().strip()
    try:
        daemon.cli("run", "--rm", "--network", "none", "-v", "dfvol:/data", "busybox", "sh", "-c",
                   "head -c 300000 /dev/zero > /data/blob", check=True)
        rows = {line.split()[0] + (" " + line.split()[1] if line.startswith("Local") else ""): line.split()
                for line in daemon.cli("system", "df", check=True).stdout.decode().splitlines()[1:]}
        vol = rows["Local Volumes"]
        assert int(vol[2]) >= 1 and int(vol[3]) >= 1  # total, active (the created container links it)
        verbose = daemon.cli("system", "df", "-v", check=True).stdout.decode()
        line = next(l for l in verbose.splitlines() if l.startswith("dfvol"))
        name, links, size = line.split()
        assert links == "1" and size.endswith("kB") and float(size[:-2]) >= 300
    finally:
        daemon.cli("rm", cid, check=True)
        daemon.cli("volume", "rm", "dfvol", check=True)


def test_failed_create_leaves_no_anonymous_volume(daemon):
    before = set(daemon.cli("volume", "ls", "-q", check=True).stdout.decode().split())
    # The anonymous volume is claimed first, then the second mount's options fail.
    cp = daemon.cli("create", "--network", "none", "--mount", "type=volume,target=/anon", "--mount",
                    "type=volume,source=badopts,target=/y,volume-opt=nosuchopt=1", "busybox", "true")
    assert cp.returncode != 0 and b"invalid option" in cp.stderr, cp.stderr
    after = set(daemon.cli("volume", "ls", "-q", check=True).stdout.decode().split())
    assert after == before
    assert daemon.cli("ps", "-aq", "--filter", "volume=badopts").stdout == b""
