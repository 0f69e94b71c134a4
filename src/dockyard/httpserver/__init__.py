"""The h11 server connection shared by the daemon's API server and the registry server.

Imports nothing of ours (like ``errors`` and ``tlsstream``), so both
``daemon.api`` and ``registry.server`` may use it.
"""
