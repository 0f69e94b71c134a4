"""One frozen dataclass per instruction kind; values are raw (substitution happens at build time).

Every instruction carries ``line`` (1-based, for errors and cache keys) and
``original`` (the logical line as written, shown as ``Step n/m : ...``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockyard.build.dockerfile.lexer import Heredoc


@dataclass(frozen=True, slots=True, kw_only=True)
class Instruction:
    line: int
    original: str

    @property
    def kind(self) -> str:
        return type(self).__name__.upper()


@dataclass(frozen=True, slots=True, kw_only=True)
class From(Instruction):
    image: str  # raw; may hold $ARG references
    name: str = ""  # "AS name", lower-cased as Docker does
    platform: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Instruction):
    """RUN, CMD and ENTRYPOINT: exec form (a list) or shell form (a string)."""

    which: str  # "RUN", "CMD" or "ENTRYPOINT"
    args: tuple[str, ...] | str
    mounts: tuple[str, ...] = ()  # RUN --mount values, raw
    network: str = ""  # RUN --network
    heredocs: tuple[Heredoc, ...] = ()

    @property
    def kind(self) -> str:
        return self.which

    @property
    def exec_form(self) -> bool:
        return isinstance(self.args, tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class Copy(Instruction):
    """COPY and ADD."""

    add: bool
    sources: tuple[str, ...]
    dest: str
    from_: str = ""
    chown: str = ""
    chmod: str = ""
    link: bool = False
    checksum: str = ""
    excludes: tuple[str, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()

    @property
    def kind(self) -> str:
        return "ADD" if self.add else "COPY"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyValues(Instruction):
    """ENV and LABEL (and MAINTAINER as a label); keys and values raw."""

    which: str
    pairs: tuple[tuple[str, str], ...]

    @property
    def kind(self) -> str:
        return self.which


@dataclass(frozen=True, slots=True, kw_only=True)
class Arg(Instruction):
    args: tuple[tuple[str, str | None], ...]  # (name, raw default or None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Words(Instruction):
    """EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL: the raw text, plus the JSON list when one was given."""

    which: str
    text: str
    json: tuple[str, ...] | None = None

    @property
    def kind(self) -> str:
        return self.which


@dataclass(frozen=True, slots=True, kw_only=True)
class Shell(Instruction):
    argv: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Healthcheck(Instruction):
    test: tuple[str, ...]  # Docker's Test: ["NONE"], ["CMD", ...] or ["CMD-SHELL", "..."]
    interval: int = 0  # nanoseconds; 0 = inherit
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class OnBuild(Instruction):
    trigger: str  # the instruction text, stored in the image's OnBuild


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    base: From
    instructions: tuple[Instruction, ...]

    @property
    def name(self) -> str:
        return self.base.name


@dataclass(frozen=True, slots=True)
class Dockerfile:
    stages: tuple[Stage, ...]
    meta_args: tuple[Arg, ...] = ()  # ARG before the first FROM
    escape: str = "\\"
    notes: tuple[str, ...] = field(default=())

    def stage(self, ref: str) -> Stage | None:
        """A stage by name (case-insensitive) or index."""
        for s in self.stages:
            if s.name and s.name == ref.lower():
                return s
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None
