"""OCI image and runtime specifications as plain data (no I/O)."""
