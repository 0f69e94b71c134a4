"""Registry client: pull and push over the Distribution API (implements ``core.remotes``)."""

from .hosts import RegistryConfig
from .resolver import RegistryRemotes

__all__ = ["RegistryConfig", "RegistryRemotes"]
