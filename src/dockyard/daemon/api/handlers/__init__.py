"""One module per resource; ``build_router`` assembles the route table."""

from __future__ import annotations

from typing import Any

from ..routes import Router
from . import attachws, build, containers, interactive, imagefs, images, images_registry, networks, system, volumes
from . import stats


def build_router(services: Any) -> Router:
    router = Router()
    for module in (system, containers, interactive, attachws, images, images_registry, networks, imagefs, volumes, build, stats):
        for method, template, handler in module.routes(services):
            router.add(method, template, handler)
    return router


__all__ = ["build_router"]
