"""Compose builds send a Dockerfile from outside the context under a random name that its .dockerignore drops."""

from __future__ import annotations

import io
import tarfile

from dockyard.client.buildcontext import context_tar, ignore_patterns
from dockyard.compose.build import build_query
from dockyard.compose.loader import Project
from dockyard.wire.dockerignore import Matcher, read_patterns


def _sent(project: Project, service: str) -> tuple[str, dict[str, bytes]]:
    query, name, extra = build_query(project, service)
    ctx = project.services[service]["build"]["context"]
    body = b"".join(context_tar(ctx, ignore_patterns(ctx, f"{ctx}/{name}"), keep=(name, ".dockerignore"),
                                extra=extra))
    with tarfile.open(fileobj=io.BytesIO(body)) as tf:
        files = {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isreg()}  # type: ignore[union-attr]
    assert query["dockerfile"] == name
    return name, files


def _project(build: dict) -> Project:
    return Project(name="p", working_dir="/", config_files=[], model={"services": {"s": {"build": build}}})


def test_dockerfile_outside_the_context_joins_the_sent_dockerignore(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "app.txt").write_text("x")
    (ctx / ".dockerignore").write_text("*.log\n")
    (tmp_path / "Other.Dockerfile").write_text("FROM busybox\nCOPY . /app\n")
    name, files = _sent(_project({"context": str(ctx), "dockerfile": str(tmp_path / "Other.Dockerfile")}), "s")
    assert name.startswith(".dockerfile.") and files[name].startswith(b"FROM busybox")
    matcher = Matcher(read_patterns(files[".dockerignore"].decode()))
    assert matcher.matches(name)  # the daemon leaves it out of COPY . /app
    assert matcher.matches("x.log") and not matcher.matches("app.txt")  # the context's own patterns kept


def test_inline_dockerfile_is_ignored_too_and_a_missing_dockerignore_ignores_itself(tmp_path):
    (tmp_path / "app.txt").write_text("x")
    name, files = _sent(_project({"context": str(tmp_path), "dockerfile_inline": "FROM busybox\n"}), "s")
    matcher = Matcher(read_patterns(files[".dockerignore"].decode()))
    assert matcher.matches(name) and matcher.matches(".dockerignore") and not matcher.matches("app.txt")


def test_dockerfile_inside_the_context_is_sent_where_it_is(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").write_text("FROM busybox\n")
    name, files = _sent(_project({"context": str(tmp_path), "dockerfile": "sub/Dockerfile"}), "s")
    assert name == "sub/Dockerfile" and ".dockerignore" not in files
