"""The Docker Engine API as data: framings, filters, versions (sans-I/O).

Submodules are imported directly (``from dockyard.wire import stdcopy``) so
the CLI only pays for what it uses.
"""
