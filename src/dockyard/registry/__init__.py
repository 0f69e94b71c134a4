"""Registries: the client (pull/push) and the server (``dockyard registry``)."""
