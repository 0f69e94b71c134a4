"""Dockerfile text -> instructions (pure): ``lexer`` (lines, directives, heredocs), ``ast``, ``parser``."""

from dockyard.build.dockerfile.ast import Dockerfile, Instruction, Stage
from dockyard.build.dockerfile.parser import parse

__all__ = ["Dockerfile", "Instruction", "Stage", "parse"]
