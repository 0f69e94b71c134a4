"""Read a project from disk: find the files, ``.env``, interpolate, validate, merge, normalise.

The only module of the front half that does I/O (files and the process
environment, passed in); everything it calls is pure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from dockyard.errors import NotFound

from . import dotenv, extends, include, normalize, paths as relpaths
from .interpolate import interpolate_tree
from .merge import merge_files
from .schema import ComposeInvalid, validate

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDES = {"compose.yaml": "compose.override.yaml", "compose.yml": "compose.override.yml",
             "docker-compose.yml": "docker-compose.override.yml",
             "docker-compose.yaml": "docker-compose.override.yaml"}


@dataclass(slots=True)
class Project:
    name: str
    working_dir: str
    config_files: list[str]
    model: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.model["services"]


def find_files(files: Sequence[str], cwd: str, env: Mapping[str, str]) -> list[str]:
    """``-f`` files, else ``COMPOSE_FILE``, else the first default file found walking up, plus its override."""
    if not files and env.get("COMPOSE_FILE"):
        files = env["COMPOSE_FILE"].split(env.get("COMPOSE_PATH_SEPARATOR", os.pathsep))
    if files:
        out = [f if f == "-" else os.path.abspath(os.path.join(cwd, f)) for f in files]
        for f in out:
            if f != "-" and not os.path.exists(f):
                raise NotFound(f"open {f}: no such file or directory")
        return out
    d = os.path.abspath(cwd)
    while True:
        for name in DEFAULT_FILES:
            path = os.path.join(d, name)
            if os.path.exists(path):
                override = os.path.join(d, OVERRIDES[name])
                return [path] + ([override] if os.path.exists(override) else [])
        parent = os.path.dirname(d)
        if parent == d:
            raise NotFound("no configuration file provided: not found")
        d = parent


def _read_env_file(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as f:
        return dotenv.parse(f.read(), path)


def _read(path: str, env: Mapping[str, str], warn: Callable[[str], None] | None,
          stdin_text: str | None) -> dict[str, Any]:
    """One file: parsed, validated, interpolated, validated again (errors name the file)."""
    if path == "-":
        text, source = stdin_text, "(stdin)"
    else:
        with open(path, encoding="utf-8") as f:
            text, source = f.read(), os.path.basename(path)
    try:
        raw = yaml.safe_load(text or "")
    except yaml.YAMLError as exc:
        raise ComposeInvalid(f"yaml: {source}: {str(exc).splitlines()[0]}") from None
    validate(raw, source)
    doc = interpolate_tree(raw, env, warn)
    validate(doc, source)
    return doc


def _load_files(paths: Sequence[str], base: str, env: Mapping[str, str], warn: Callable[[str], None] | None,
                stdin_text: str | None, chain: list[str]) -> dict[str, Any]:
    """Files of one model (the project's, or an ``include``'s): read, extends applied, merged, includes added."""
    docs = []
    for path in paths:
        doc = relpaths.document(_read(path, env, warn, stdin_text), base)
        docs.append(extends.resolve(doc, path, lambda p: _read(p, env, warn, None)))
    merged = merge_files(docs)

    def load_included(files: list[str], pdir: str, ienv: Mapping[str, str], ichain: list[str]) -> dict[str, Any]:
        return _load_files(files, pdir, ienv, warn, None, ichain)

    return include.apply(merged, base, env, chain + [p for p in paths if p != "-"], load_included)


def load(files: Sequence[str] = (), *, cwd: str = ".", environ: Mapping[str, str] | None = None,
         project_name: str | None = None, project_dir: str | None = None, env_files: Sequence[str] = (),
         profiles: Sequence[str] = (), wanted: Sequence[str] = (), warn: Callable[[str], None] | None = None,
         stdin_text: str | None = None) -> Project:
    environ = dict(os.environ if environ is None else environ)
    paths = find_files(files, cwd, environ)
    first = paths[0]
    base = os.path.abspath(project_dir) if project_dir else (
        os.path.abspath(cwd) if first == "-" else os.path.dirname(first))
    # The shell environment wins over .env / --env-file, as in Docker Compose.
    env: dict[str, str] = {}
    if env_files:
        for ef in env_files:
            env.update(_read_env_file(os.path.abspath(os.path.join(cwd, ef))))
    elif os.path.exists(os.path.join(base, ".env")):
        env.update(_read_env_file(os.path.join(base, ".env")))
    env.update(environ)
    merged = _load_files(paths, base, env, warn, stdin_text, [])
    if profiles == () and env.get("COMPOSE_PROFILES"):
        profiles = [p for p in env["COMPOSE_PROFILES"].split(",") if p]
    name = normalize.project_name(project_name, env, merged.get("name"), base)
    model = normalize.model(merged, name, base, env, profiles, wanted)
    return Project(name, base, paths, model, env)
