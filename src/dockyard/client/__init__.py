"""Client of the Docker Engine API (stdlib only: the CLI imports it at startup)."""

from .api import DEFAULT_HOST, APIClient

__all__ = ["APIClient", "DEFAULT_HOST"]
