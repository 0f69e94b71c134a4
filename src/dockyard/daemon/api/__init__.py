"""The Docker Engine API over HTTP: ``ApiServer(services, socket_path)``."""

from .server import ApiServer

__all__ = ["ApiServer"]
