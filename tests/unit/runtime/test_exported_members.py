import dockyard.runtime
import dockyard.runtime.sys


def test_public_surface() -> None:
    assert sorted(dockyard.runtime.__all__) == ["ShimOutput", "ShimRuntime", "Spawner"]
    assert sorted(dockyard.runtime.sys.__all__) == ["CloneFlag", "MNT_DETACH", "MountFlag", "RecordingSyscalls", "Syscalls"]
