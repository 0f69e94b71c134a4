"""The ``dockyard`` command line: a pure Engine API client (stdlib only)."""
