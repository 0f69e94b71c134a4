"""Volume drivers (implementations of ``core.volumes.VolumeDriver``)."""

from dockyard.volume.local import LocalVolumeDriver

__all__ = ["LocalVolumeDriver"]
