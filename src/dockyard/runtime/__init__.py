"""Low-level OCI runtime (youki-shaped): bundles in, containers out.

``Spawner`` must be started before the daemon starts any thread;
``ShimRuntime`` implements ``dockyard.core.runtime.Runtime`` on top of it.
"""

from dockyard.runtime.client import ShimOutput, ShimRuntime
from dockyard.runtime.spawner import Spawner

__all__ = ["ShimOutput", "ShimRuntime", "Spawner"]
