"""The daemon: API server, services, and the composition root."""
