"""Logical lines -> ``Dockerfile`` (pure).  Structure only: flags, forms, pairs; no substitution."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from dockyard.build.dockerfile import ast
from dockyard.build.dockerfile.lexer import DockerfileError, Line, lex
from dockyard.build.expand import split_raw

_FLAG = re.compile(r"^--([A-Za-z][A-Za-z0-9-]*)(?:=((?:\"[^\"]*\"|'[^']*'|\S)*))?(?:\s+|$)")
_FLAGS = {
    "from": {"platform"},
    "run": {"mount", "network", "security"},
    "copy": {"from", "chown", "chmod", "link", "parents", "exclude"},
    "add": {"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"},
    "healthcheck": {"interval", "timeout", "start-period", "start-interval", "retries"},
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


class _Ctx:
    def __init__(self, filename: str, line: Line, escape: str) -> None:
        self.filename, self.line, self.escape = filename, line, escape

    def error(self, message: str) -> DockerfileError:
        return DockerfileError(self.filename, self.line.number, message)


def parse(text: str, filename: str = "Dockerfile") -> ast.Dockerfile:
    """Parse a Dockerfile; DockerfileError (an InvalidArgument) names file and line on bad input."""
    lexed = lex(text, filename)
    if not lexed.lines:
        raise DockerfileError(filename, 1, "the Dockerfile cannot be empty")
    meta: list[ast.Arg] = []
    stages: list[tuple[ast.From, list[ast.Instruction]]] = []
    names: set[str] = set()
    for line in lexed.lines:
        ctx = _Ctx(filename, line, lexed.escape)
        word, _, rest = line.text.partition(" ")
        if "\t" in word:
            word, _, more = word.partition("\t")
            rest = more + " " + rest
        kind = word.lower()
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise ctx.error(f"unknown instruction: {word}")
        instr = handler(kind, rest.strip(), ctx)
        if isinstance(instr, ast.From):
            if instr.name:
                if instr.name in names:
                    raise ctx.error(f"duplicate name {instr.name}")
                names.add(instr.name)
            stages.append((instr, []))
        elif not stages:
            if not isinstance(instr, ast.Arg):
                raise ctx.error(f"no build stage in current context: {word} before FROM")
            meta.append(instr)
        else:
            stages[-1][1].append(instr)
    if not stages:
        raise DockerfileError(filename, lexed.lines[-1].number, "no build stage in current context: no FROM instruction")
    return ast.Dockerfile(tuple(ast.Stage(i, f, tuple(body)) for i, (f, body) in enumerate(stages)),
                          tuple(meta), lexed.escape, tuple(lexed.notes))


def parse_instruction(text: str, filename: str = "ONBUILD", line: int = 1, escape: str = "\\") -> ast.Instruction:
    """One instruction (an ONBUILD trigger being replayed)."""
    lexed = lex(text, filename)
    if len(lexed.lines) != 1:
        raise DockerfileError(filename, line, f"invalid instruction: {text!r}")
    ln = lexed.lines[0]
    ln = Line(line, ln.text, ln.heredocs)
    ctx = _Ctx(filename, ln, escape)
    word, _, rest = ln.text.partition(" ")
    handler = _HANDLERS.get(word.lower())
    if handler is None or word.lower() in ("from", "onbuild", "maintainer"):
        raise ctx.error(f"unknown instruction: {word}" if handler is None else f"{word.upper()} isn't allowed as an ONBUILD trigger")
    return handler(word.lower(), rest.strip(), ctx)


def _flags(kind: str, rest: str, ctx: _Ctx) -> tuple[dict[str, list[str]], str]:
    allowed = _FLAGS.get(kind, set())
    flags: dict[str, list[str]] = {}
    while rest.startswith("--"):
        m = _FLAG.match(rest)
        if not m:
            break
        name, value = m.group(1), m.group(2)
        if name not in allowed:
            raise ctx.error(f"unknown flag: {name}")
        if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        flags.setdefault(name, []).append("true" if value is None else value)
        rest = rest[m.end():]
    return flags, rest.strip()


def _one(flags: dict[str, list[str]], name: str, ctx: _Ctx) -> str:
    values = flags.get(name, [])
    if len(values) > 1:
        raise ctx.error(f"flag --{name} given more than once")
    return values[0] if values else ""


def _json_list(text: str) -> tuple[str, ...] | None:
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _from(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    flags, rest = _flags(kind, rest, ctx)
    words = rest.split()
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2].lower()
        if not re.fullmatch(r"[a-z][a-z0-9-_.]*", name):
            raise ctx.error(f"invalid name for build stage: {words[2]!r}, name can't start with a number or contain symbols")
    elif len(words) == 1:
        name = ""
    else:
        raise ctx.error("FROM requires either one or three arguments")
    return ast.From(line=ctx.line.number, original=ctx.line.text, image=words[0], name=name,
                    platform=_one(flags, "platform", ctx))


def _command(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    flags, rest = _flags(kind, rest, ctx)
    if not rest and kind == "run":
        raise ctx.error("RUN requires at least one argument")
    form = _json_list(rest)
    args: tuple[str, ...] | str = form if form is not None else rest
    network = _one(flags, "network", ctx)
    if network not in ("", "default", "none", "host"):
        raise ctx.error(f"unsupported network mode {network!r}: use default, none or host")
    return ast.Command(line=ctx.line.number, original=ctx.line.text, which=kind.upper(), args=args,
                       mounts=tuple(flags.get("mount", [])), network=network, heredocs=ctx.line.heredocs)


def _copy(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    flags, rest = _flags(kind, rest, ctx)
    form = _json_list(rest)
    words = list(form) if form is not None else split_raw(rest, ctx.escape)
    if ctx.line.heredocs:  # "COPY <<EOF /dest": heredoc names stand for files
        words = [w for w in words if not re.fullmatch(r"\d*<<-?[\"']?[A-Za-z_][A-Za-z0-9_.-]*[\"']?", w)]
        if len(words) != 1:
            raise ctx.error(f"{kind.upper()} with heredocs requires exactly one destination")
        sources: tuple[str, ...] = ()
    else:
        if len(words) < 2:
            raise ctx.error(f"{kind.upper()} requires at least two arguments, but only one was provided. Destination could not be determined")
        sources = tuple(words[:-1])
    if kind == "add" and _one(flags, "checksum", ctx) and not all(s.startswith(("http://", "https://")) for s in sources):
        raise ctx.error("checksum can't be specified for non-HTTP(S) sources")
    return ast.Copy(line=ctx.line.number, original=ctx.line.text, add=kind == "add", sources=sources, dest=words[-1],
                    from_=_one(flags, "from", ctx), chown=_one(flags, "chown", ctx), chmod=_one(flags, "chmod", ctx),
                    link=_one(flags, "link", ctx) not in ("", "false"), checksum=_one(flags, "checksum", ctx),
                    excludes=tuple(flags.get("exclude", [])), heredocs=ctx.line.heredocs)


def _keyvalues(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    name = kind.upper()
    words = split_raw(rest, ctx.escape)
    if not words:
        raise ctx.error(f"{name} requires at least one argument" if kind == "label" else "ENV must have two arguments")
    if "=" not in words[0]:
        key, _, value = rest.partition(" ")
        if not value.strip():
            raise ctx.error(f"{name} must have two arguments")
        return ast.KeyValues(line=ctx.line.number, original=ctx.line.text, which=name, pairs=((key, value.strip()),))
    pairs = []
    for w in words:
        k, sep, v = w.partition("=")
        if not sep:
            raise ctx.error(f"Syntax error - can't find = in \"{w}\". Must be of the form: name=value")
        if not k:
            raise ctx.error(f"{name} names can not be blank")
        pairs.append((k, v))
    return ast.KeyValues(line=ctx.line.number, original=ctx.line.text, which=name, pairs=tuple(pairs))


def _maintainer(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    if not rest:
        raise ctx.error("MAINTAINER requires exactly one argument")
    return ast.KeyValues(line=ctx.line.number, original=ctx.line.text, which="MAINTAINER", pairs=(("maintainer", rest),))


def _arg(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    words = split_raw(rest, ctx.escape)
    if not words:
        raise ctx.error("ARG requires at least one argument")
    out: list[tuple[str, str | None]] = []
    for w in words:
        k, sep, v = w.partition("=")
        if not k:
            raise ctx.error("ARG names can not be blank")
        out.append((k, v if sep else None))
    return ast.Arg(line=ctx.line.number, original=ctx.line.text, args=tuple(out))


def _words(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    name = kind.upper()
    form = _json_list(rest) if kind == "volume" else None
    if not rest or (form is not None and not form):
        if kind in ("expose", "volume"):
            raise ctx.error(f"{name} requires at least one argument")
        raise ctx.error(f"{name} requires exactly one argument")
    if kind in ("workdir", "user", "stopsignal") and len(split_raw(rest, ctx.escape)) != 1 and kind != "workdir":
        raise ctx.error(f"{name} requires exactly one argument")
    return ast.Words(line=ctx.line.number, original=ctx.line.text, which=name, text=rest, json=form)


def _shell(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    form = _json_list(rest)
    if not form:
        raise ctx.error("SHELL requires the arguments to be in JSON form")
    return ast.Shell(line=ctx.line.number, original=ctx.line.text, argv=form)


def _duration(flags: dict[str, list[str]], name: str, ctx: _Ctx) -> int:
    text = _one(flags, name, ctx)
    if not text:
        return 0
    pos, total = 0, 0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += int(float(m.group(1)) * _UNIT_NS[m.group(2)])
        pos = m.end()
    else:
        if pos == len(text):
            if 0 < total < 10**6:
                raise ctx.error(f"Interval \"{name}\" cannot be less than 1ms")
            return total
    raise ctx.error(f"invalid duration for --{name}: {text!r}")


def _healthcheck(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    flags, rest = _flags(kind, rest, ctx)
    word, _, cmd = rest.partition(" ")
    if word.upper() == "NONE":
        if cmd.strip() or flags:
            raise ctx.error("HEALTHCHECK NONE takes no arguments")
        return ast.Healthcheck(line=ctx.line.number, original=ctx.line.text, test=("NONE",))
    if word.upper() != "CMD":
        raise ctx.error(f"Unknown type {word.upper()!r} in HEALTHCHECK (try CMD)")
    cmd = cmd.strip()
    if not cmd:
        raise ctx.error("Missing command after HEALTHCHECK CMD")
    form = _json_list(cmd)
    test = ("CMD", *form) if form is not None else ("CMD-SHELL", cmd)
    retries = _one(flags, "retries", ctx) or "0"
    if not retries.isdigit():
        raise ctx.error(f"invalid value for --retries: {retries!r}")
    return ast.Healthcheck(line=ctx.line.number, original=ctx.line.text, test=test,
                           interval=_duration(flags, "interval", ctx), timeout=_duration(flags, "timeout", ctx),
                           start_period=_duration(flags, "start-period", ctx),
                           start_interval=_duration(flags, "start-interval", ctx), retries=int(retries))


def _onbuild(kind: str, rest: str, ctx: _Ctx) -> ast.Instruction:
    if not rest:
        raise ctx.error("ONBUILD requires at least one argument")
    word = rest.split(None, 1)[0].upper()
    if word == "ONBUILD":
        raise ctx.error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if word in ("FROM", "MAINTAINER"):
        raise ctx.error(f"{word} isn't allowed as an ONBUILD trigger")
    if word.lower() not in _HANDLERS:
        raise ctx.error(f"unknown instruction: {rest.split(None, 1)[0]}")
    return ast.OnBuild(line=ctx.line.number, original=ctx.line.text, trigger=rest)


_HANDLERS: dict[str, Callable[[str, str, _Ctx], ast.Instruction]] = {
    "from": _from, "run": _command, "cmd": _command, "entrypoint": _command,
    "copy": _copy, "add": _copy, "env": _keyvalues, "label": _keyvalues, "maintainer": _maintainer,
    "arg": _arg, "expose": _words, "volume": _words, "workdir": _words, "user": _words, "stopsignal": _words,
    "shell": _shell, "healthcheck": _healthcheck, "onbuild": _onbuild,
}
