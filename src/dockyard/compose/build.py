"""``build:`` and image pulls for services: ``POST /build`` with the context tar ``dockyard build`` makes too."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from dockyard.client.api import APIClient
from dockyard.client.buildcontext import context_tar, ignore_patterns, ignoring, place_dockerfile, random_dockerfile_name
from dockyard.errors import EngineError, InvalidArgument
from dockyard.wire.jsonmessage import error_of

from .loader import Project
from .translate import image_name


class BuildFailed(EngineError):
    """A service's image build failed."""


def build_query(project: Project, service: str) -> tuple[dict[str, object], str, tuple[tuple[str, bytes], ...]]:
    """The /build query, the Dockerfile's name in the context and any extra entry (pure but for reading the file)."""
    svc = project.services[service]
    b = svc["build"]
    ctx = b["context"]
    extra: tuple[tuple[str, bytes], ...] = ()
    if b.get("dockerfile_inline"):
        name = random_dockerfile_name()
        extra = ((name, str(b["dockerfile_inline"]).encode()),) + ignoring(ctx, name)
    else:
        df = b.get("dockerfile") or "Dockerfile"
        # outside the context: a random name, and that name joins the sent .dockerignore (no COPY of it)
        name, extra = place_dockerfile(ctx, df if os.path.isabs(df) else os.path.join(ctx, df))
    labels = {k: str(v) for k, v in (b.get("labels") or {}).items()} if isinstance(b.get("labels"), dict) else {}
    query: dict[str, object] = {"t": image_name(project.name, service, svc), "dockerfile": name,
                                "buildargs": json.dumps(b.get("args") or {}), "labels": json.dumps(labels),
                                "target": b.get("target") or None, "rm": True, "forcerm": True,
                                "nocache": bool(b.get("no_cache")), "pull": bool(b.get("pull")),
                                "networkmode": b.get("network") or None}
    return query, name, extra


def build_service(api: APIClient, project: Project, service: str, out: Callable[[str], None]) -> str:
    query, name, extra = build_query(project, service)
    ctx = project.services[service]["build"]["context"]
    if not os.path.isdir(ctx):
        raise InvalidArgument(f"unable to prepare context: path \"{ctx}\" not found")
    out(f" Service {service}  Building")
    body = context_tar(ctx, ignore_patterns(ctx, os.path.join(ctx, name)), keep=(name, ".dockerignore"),
                       extra=extra)
    image_id = ""
    log: list[str] = []
    for msg in api.build(body, query):
        err = error_of(msg)
        if err:
            raise BuildFailed(f"failed to solve: {err}\n" + "".join(log[-20:]))
        if msg.get("stream"):
            log.append(str(msg["stream"]))
        aux = msg.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            image_id = str(aux["ID"])
    out(f" Service {service}  Built")
    return image_id


def pull_image(api: APIClient, ref: str, out: Callable[[str], None]) -> None:
    out(f" Image {ref}  Pulling")
    for msg in api.pull(ref):
        err = error_of(msg)
        if err:
            raise EngineError(err)
    out(f" Image {ref}  Pulled")


def push_image(api: APIClient, ref: str, out: Callable[[str], None]) -> None:
    out(f" Image {ref}  Pushing")
    repo, tag = ref, ""
    if ":" in ref.rsplit("/", 1)[-1]:
        repo, tag = ref.rsplit(":", 1)
    for msg in api.push(repo, tag=tag):
        err = error_of(msg)
        if err:
            raise EngineError(err)
    out(f" Image {ref}  Pushed")
