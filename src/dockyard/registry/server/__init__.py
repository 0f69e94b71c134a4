"""``dockyard registry``: an OCI Distribution Spec server over the content store.

Pure parts: ``routes`` (routing, name/digest checks), ``uploads`` (upload
session state machine, ranges), ``manifests`` (validation), ``auth`` /
``tokens`` (access rules, bearer tokens), ``codes`` (error table).  I/O:
``storage`` (repositories over a ContentStore), ``sessions`` (uploads in
flight), ``http`` (the h11 driver), ``gc``.  ``command`` composes them.
"""

from .app import RegistryApp
from .codes import RegistryError
from .storage import RegistryStorage

__all__ = ["RegistryApp", "RegistryError", "RegistryStorage"]
