"""Container endpoints: decode → call the container service → encode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from dockyard.errors import EngineError, InvalidArgument
from dockyard.wire import filters, stdcopy, versions

from ..messages import MULTIPLEXED_STREAM, RAW_STREAM, Request, Response, StreamResponse
from ..routes import Handler

LIST_FILTERS = (
    "ancestor", "before", "expose", "exited", "health", "id", "isolation",
    "is-task", "label", "name", "network", "publish", "since", "status", "volume",
)
WAIT_CONDITIONS = ("not-running", "next-exit", "removed")

# Expected JSON types of ContainerCreate fields we validate up front, so a
# wrong type is a clear 400 rather than a failure deep in the service.
_STR, _LIST, _DICT, _BOOL = (str,), (list,), (dict,), (bool,)
_CREATE_FIELDS: dict[str, tuple[type, ...]] = {
    "Image": _STR, "Hostname": _STR, "Domainname": _STR, "User": _STR, "WorkingDir": _STR,
    "Cmd": (list, str), "Entrypoint": (list, str), "Env": _LIST, "Labels": _DICT,
    "Tty": _BOOL, "OpenStdin": _BOOL, "StdinOnce": _BOOL, "AttachStdin": _BOOL,
    "AttachStdout": _BOOL, "AttachStderr": _BOOL, "HostConfig": _DICT,
    "NetworkingConfig": _DICT, "ExposedPorts": _DICT, "Volumes": _DICT, "StopSignal": _STR,
}


def validate_create_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidArgument("invalid JSON: container config must be a JSON object")
    for key, types in _CREATE_FIELDS.items():
        value = body.get(key)
        if value is not None and not isinstance(value, types):
            want = " or ".join(t.__name__.replace("dict", "object").replace("list", "array").replace("str", "string") for t in types)
            raise InvalidArgument(f"invalid JSON: {key} must be {want}, not {type(value).__name__}")
    for key in ("Cmd", "Entrypoint", "Env"):
        value = body.get(key)
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise InvalidArgument(f"invalid JSON: {key} must be an array of strings")
    labels = body.get("Labels")
    if isinstance(labels, dict) and not all(isinstance(v, str) for v in labels.values()):
        raise InvalidArgument("invalid JSON: Labels values must be strings")
    return body


def _stream_content_type(req: Request, tty: bool) -> str:
    # moby: multiplexed media type only from API 1.42 on, and never for TTYs.
    if not tty and versions.compare(req.api_version, "1.42") >= 0:
        return MULTIPLEXED_STREAM
    return RAW_STREAM


def _timestamp(req: Request, name: str) -> int:
    raw = req.query_str(name, "") or ""
    if raw == "":
        return 0
    try:
        return int(float(raw))  # Docker accepts "seconds[.nanoseconds]"
    except ValueError:
        raise InvalidArgument(f"invalid value for {name}: {raw!r}") from None


def routes(services: Any) -> list[tuple[str, str, Handler]]:
    containers = services.containers

    def create(req: Request) -> Response:
        body = validate_create_body(req.json_body())
        name = req.query_str("name") or None
        return Response.json(containers.create(body, name), status=201)

    def start(req: Request) -> Response:
        containers.start(req.params["id"])
        return Response.empty(204)

    def wait(req: Request) -> StreamResponse:
        ref = req.params["id"]
        condition = req.query_str("condition") or "not-running"
        if condition not in WAIT_CONDITIONS:
            raise InvalidArgument(f'invalid condition: "{condition}"')
        waiting = containers.begin_wait(ref, condition)  # NotFound before the 200 goes out

        def body() -> Iterator[bytes]:
            # Headers are flushed before this runs (Docker does the same): the
            # client may start the container as soon as it sees them.
            try:
                result = waiting()
            except EngineError as exc:
                result = {"StatusCode": -1, "Error": {"Message": str(exc)}}
            yield json.dumps(result).encode() + b"\n"

        return StreamResponse(body())

    def logs(req: Request) -> StreamResponse:
        ref = req.params["id"]
        stdout, stderr = req.query_bool("stdout"), req.query_bool("stderr")
        if not (stdout or stderr):
            raise InvalidArgument("Bad parameters: you must choose at least one stream")
        tail = req.query_str("tail", "all") or "all"
        if tail != "all" and not (tail.isdigit() or tail == "-1"):
            raise InvalidArgument(f"invalid value for tail: {tail!r}")
        tty = containers.is_tty(ref)
        lines = containers.logs(
            ref, stdout=stdout, stderr=stderr, follow=req.query_bool("follow"),
            tail="all" if tail == "-1" else tail, timestamps=req.query_bool("timestamps"),
            since=_timestamp(req, "since"), until=_timestamp(req, "until"),
        )

        def body() -> Iterator[bytes]:
            try:
                for stream, data in lines:
                    yield data if tty else stdcopy.encode(stream, data)
            finally:
                close = getattr(lines, "close", None)
                if close is not None:
                    close()

        return StreamResponse(body(), content_type=_stream_content_type(req, tty))

    def list_(req: Request) -> Response:
        parsed = filters.parse(req.query_str("filters"), LIST_FILTERS)
        limit = req.query_int("limit", -1)
        return Response.json(containers.list_json(req.query_bool("all"), limit, parsed,
                                                  size=req.query_bool("size")))

    def inspect(req: Request) -> Response:
        return Response.json(containers.inspect_json(req.params["id"], size=req.query_bool("size")))

    def _timeout(req: Request) -> int | None:
        # API 1.42+ also accepts "timeout"; older clients send "t".
        raw = req.query_str("t")
        if raw is None:
            raw = req.query_str("timeout")
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise InvalidArgument(f"invalid value for t: {raw!r}: not an integer") from None

    def stop(req: Request) -> Response:
        containers.stop(req.params["id"], timeout=_timeout(req), signal=req.query_str("signal") or None)
        return Response.empty(204)

    def restart(req: Request) -> Response:
        containers.restart(req.params["id"], timeout=_timeout(req), signal=req.query_str("signal") or None)
        return Response.empty(204)

    def kill(req: Request) -> Response:
        containers.kill(req.params["id"], req.query_str("signal") or None)
        return Response.empty(204)

    def pause(req: Request) -> Response:
        containers.pause(req.params["id"])
        return Response.empty(204)

    def unpause(req: Request) -> Response:
        containers.unpause(req.params["id"])
        return Response.empty(204)

    def rename(req: Request) -> Response:
        containers.rename(req.params["id"], req.query_str("name") or "")
        return Response.empty(204)

    def update(req: Request) -> Response:
        return Response.json(containers.update(req.params["id"], req.json_body()))

    def top(req: Request) -> Response:
        return Response.json(containers.top(req.params["id"], req.query_str("ps_args")))

    def prune(req: Request) -> Response:
        parsed = filters.parse(req.query_str("filters"), ("until", "label", "label!"))
        return Response.json(containers.prune(parsed))

    def remove(req: Request) -> Response:
        containers.remove(req.params["id"], force=req.query_bool("force"), volumes=req.query_bool("v"))
        return Response.empty(204)

    return [
        ("POST", "/containers/create", create),
        ("GET", "/containers/json", list_),
        ("POST", "/containers/prune", prune),
        ("POST", "/containers/{id}/stop", stop),
        ("POST", "/containers/{id}/restart", restart),
        ("POST", "/containers/{id}/kill", kill),
        ("POST", "/containers/{id}/pause", pause),
        ("POST", "/containers/{id}/unpause", unpause),
        ("POST", "/containers/{id}/rename", rename),
        ("POST", "/containers/{id}/update", update),
        ("GET", "/containers/{id}/top", top),
        ("POST", "/containers/{id}/start", start),
        ("POST", "/containers/{id}/wait", wait),
        ("GET", "/containers/{id}/logs", logs),
        ("GET", "/containers/{id}/json", inspect),
        ("DELETE", "/containers/{id}", remove),
    ]
