"""``dockyard compose``: the Compose Specification's core over the Engine API.

Pure front half (``interpolate``, ``dotenv``, ``merge``, ``schema``,
``normalize``, ``planner``, ``translate``) and an I/O back half
(``loader`` reads files, ``executor`` talks to dockyardd through
``dockyard.client.api.APIClient``, ``command`` is the CLI process).
Runs in its own interpreter with site-packages (PyYAML), exec'd by
``dockyard compose`` so the stdlib-only CLI stays fast.
"""
