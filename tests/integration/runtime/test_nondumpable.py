"""Step 0 of the init (CVE-2019-5736 class): until execve, the init is not dumpable, so a
process without CAP_SYS_PTRACE (every container process) cannot reach /proc/<init>/exe,
the host's Python binary. After execve the container's own program is dumpable again."""

from __future__ import annotations

import dataclasses
import os
import subprocess

from dockyard.daemon.security import DEFAULT_CAPS
from dockyard.oci.runtime import Capabilities
from tests.integration.runtime.runtime_harness import Harness, make_spec


def _readlink_without_ptrace(path: str) -> subprocess.CompletedProcess:
    # uid 0 without CAP_SYS_PTRACE in its bounding set: what a default container root holds
    return subprocess.run(["setpriv", "--bounding-set=-sys_ptrace", "--", "readlink", "-v", path],
                          capture_output=True, text=True, timeout=10)


def test_init_is_not_dumpable_before_exec_and_its_program_is_after(harness: Harness) -> None:
    # Docker's 14 capabilities, so the control below differs only in the dumpable flag
    caps = tuple(f"CAP_{c}" if not c.startswith("CAP_") else c for c in DEFAULT_CAPS)
    cid = harness.new_id()
    spec = make_spec(("sleep", "30"), cid)
    spec = dataclasses.replace(spec, process=dataclasses.replace(
        spec.process, capabilities=Capabilities(bounding=caps, effective=caps, permitted=caps)))
    bundle = harness.bundle(spec, cid)
    from dockyard.core.mount import Mount

    harness.runtime.create(cid, bundle, [Mount("bind", str(harness.rootfs), options=("rbind", "rw"))],
                           harness.log_path(cid))
    pid = harness.runtime.state(cid).pid
    assert pid and harness.runtime.state(cid).status == "created"  # init waits for start, past step 0
    assert "python" in os.readlink(f"/proc/{pid}/exe")  # we (with CAP_SYS_PTRACE) may look
    refused = _readlink_without_ptrace(f"/proc/{pid}/exe")
    assert refused.returncode != 0 and "Permission denied" in refused.stderr, refused
    # The control: the same process, same 14 capabilities, once execve made it dumpable again
    # (so the refusal above is the dumpable flag, not the capability-subset rule of ptrace).
    harness.runtime.start(cid)
    after = _readlink_without_ptrace(f"/proc/{pid}/exe")
    assert after.returncode == 0 and after.stdout.strip().endswith("busybox"), after
    harness.runtime.kill(cid, 9)
    assert harness.runtime.wait(cid, timeout=10) is not None
