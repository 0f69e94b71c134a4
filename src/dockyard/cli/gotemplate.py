"""The subset of Go's ``text/template`` that ``--format`` users write (pure).

Supported: text and ``{{ }}`` actions with ``{{-``/``-}}`` trimming; fields
(``.A.B``, ``.``, ``$``), variables from ``range $i, $v := ...`` and
``$x := ...``; pipelines with ``|``; literals (strings, raw strings, numbers,
true/false/nil); ``if``/``else if``/``else``, ``range`` (lists and maps, with
``else``), ``with``; the functions Docker adds (``json``, ``join``, ``split``,
``lower``, ``upper``, ``title``, ``truncate``, ``pad``, ``println``) and
Go's (``len``, ``index``, ``printf``, ``print``, ``not``, ``and``, ``or``,
``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge``).

Data is plain JSON-like Python (dicts, lists, str, int, bool, None).  A dict
value that is callable is a method: ``{{.Label "k"}}`` calls it with "k".
Values print as Go prints them: ``<no value>`` for a missing key,
``map[a:1 b:2]`` for maps, ``[x y]`` for lists.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


class TemplateError(ValueError):
    """A template that does not parse or fails while executing."""


# ------------------------------------------------------------------ lexing
_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<decl>:=|=)
  | (?P<pipe>\|)
  | (?P<lp>\() | (?P<rp>\))
  | (?P<comma>,)
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
""", re.X | re.S)

_MISSING = object()  # a key that is not there: prints as "<no value>"


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise TemplateError(f"template: unexpected {text[pos]!r} in command")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group()))
    return out


# ------------------------------------------------------------------ tree
@dataclass
class _Node:
    kind: str  # text | action | if | range | with
    text: str = ""
    pipe: list[list[tuple[str, str]]] = field(default_factory=list)  # commands, each a token list
    decl: list[str] = field(default_factory=list)
    body: list["_Node"] = field(default_factory=list)
    orelse: list["_Node"] = field(default_factory=list)


def _split_pipe(tokens: list[tuple[str, str]]) -> tuple[list[str], list[list[tuple[str, str]]]]:
    decl: list[str] = []
    if any(k == "decl" for k, _ in tokens):
        i = next(i for i, (k, _) in enumerate(tokens) if k == "decl")
        decl = [v for k, v in tokens[:i] if k == "var"]
        tokens = tokens[i + 1:]
    cmds: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for tok in tokens:
        if tok[0] == "lp":
            depth += 1
        elif tok[0] == "rp":
            depth -= 1
        if tok[0] == "pipe" and depth == 0:
            cmds.append([])
        else:
            cmds[-1].append(tok)
    if any(not c for c in cmds):
        raise TemplateError("template: missing command in pipeline")
    return decl, cmds


def parse(src: str) -> list[_Node]:
    """Parse ``src`` into a tree; TemplateError on a syntax error."""
    root: list[_Node] = []
    stack: list[tuple[_Node | None, list[_Node]]] = [(None, root)]
    pos = 0
    pending_trim = False
    for m in _ACTION.finditer(src):
        text = src[pos:m.start()]
        if pending_trim:
            text = text.lstrip()
        if m.group(1):
            text = text.rstrip()
        if text:
            stack[-1][1].append(_Node("text", text))
        pos, pending_trim = m.end(), bool(m.group(3))
        body = m.group(2).strip()
        if body.startswith("/*"):
            continue
        toks = _tokens(body)
        if not toks:
            raise TemplateError("template: missing value for command")
        head = toks[0]
        if head == ("ident", "end"):
            if len(stack) == 1:
                raise TemplateError("template: unexpected {{end}}")
            stack.pop()
            while stack[-1][0] is not None and stack[-1][0].kind == "elif":
                stack.pop()
        elif head == ("ident", "else"):
            node = stack[-1][0]
            if node is None or node.kind not in ("if", "range", "with", "elif"):
                raise TemplateError("template: unexpected {{else}}")
            stack.pop()
            if len(toks) > 1 and toks[1] == ("ident", "if"):
                decl, pipe = _split_pipe(toks[2:])
                elif_node = _Node("if", pipe=pipe, decl=decl)
                node.orelse.append(elif_node)
                stack.append((_Node("elif"), []))  # marker popped with the final end
                stack.append((elif_node, elif_node.body))
            else:
                stack.append((node, node.orelse))
        elif head[0] == "ident" and head[1] in ("if", "range", "with"):
            decl, pipe = _split_pipe(toks[1:])
            node = _Node(head[1], pipe=pipe, decl=decl)
            stack[-1][1].append(node)
            stack.append((node, node.body))
        else:
            decl, pipe = _split_pipe(toks)
            stack[-1][1].append(_Node("action", pipe=pipe, decl=decl))
    text = src[pos:]
    if pending_trim:
        text = text.lstrip()
    if text:
        stack[-1][1].append(_Node("text", text))
    if len(stack) != 1:
        raise TemplateError("template: unexpected EOF")
    return root


# ------------------------------------------------------------------ values
def go_str(value: Any) -> str:
    """How Go's fmt prints a value with %v."""
    if value is _MISSING or value is None:
        return "<no value>" if value is _MISSING else "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e21 else f"{value:e}"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_str(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    return str(value)


def _truthy(value: Any) -> bool:
    if value is _MISSING or value is None:
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    return True


def _to_json(value: Any) -> str:
    return json.dumps(None if value is _MISSING else value, ensure_ascii=False, separators=(",", ":"))


def _printf(fmt: str, *args: Any) -> str:
    out, ai = [], 0
    for m in re.finditer(r"%([-+ 0#]*\d*(?:\.\d+)?)([vsdqtfx%])|[^%]+|%", fmt):
        if not m.group(0).startswith("%") or m.group(0) == "%":
            out.append(m.group(0))
            continue
        flags, verb = m.group(1), m.group(2)
        if verb == "%":
            out.append("%")
            continue
        arg = args[ai] if ai < len(args) else _MISSING
        ai += 1
        if verb in ("v", "s", "t"):
            out.append(("%" + flags + "s") % go_str(arg))
        elif verb == "q":
            out.append(json.dumps(go_str(arg)))
        else:
            out.append(("%" + flags + verb) % arg)
    return "".join(out)


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def f(a: Any, *bs: Any) -> bool:
        if op is _eq:
            return any(a == b for b in bs)
        return op(a, bs[0])
    return f


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


def _index(value: Any, *keys: Any) -> Any:
    for k in keys:
        try:
            value = value[k]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return value


FUNCS: dict[str, Callable[..., Any]] = {
    "json": _to_json,
    "join": lambda items, sep: sep.join(go_str(i) for i in (items or [])),
    "split": lambda s, sep: s.split(sep),
    "lower": lambda s: go_str(s).lower(),
    "upper": lambda s: go_str(s).upper(),
    "title": lambda s: go_str(s).title(),
    "truncate": lambda s, n: go_str(s)[: int(n)],
    "pad": lambda s, left, right: " " * int(left) + go_str(s) + " " * int(right),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "print": lambda *a: "".join(go_str(x) for x in a),
    "printf": _printf,
    "len": lambda v: len(v),
    "index": _index,
    "not": lambda v: not _truthy(v),
    "and": lambda *a: next((v for v in a if not _truthy(v)), a[-1]),
    "or": lambda *a: next((v for v in a if _truthy(v)), a[-1]),
    "eq": _cmp(_eq),
    "ne": _cmp(lambda a, b: a != b),
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
}


# ------------------------------------------------------------------ execution
class _Exec:
    def __init__(self, root: Any) -> None:
        self.vars: list[dict[str, Any]] = [{"$": root}]

    def lookup_var(self, name: str) -> Any:
        for scope in reversed(self.vars):
            if name in scope:
                return scope[name]
        raise TemplateError(f"template: undefined variable \"{name}\"")

    @staticmethod
    def field(value: Any, path: str) -> Any:
        for part in [p for p in path.split(".") if p]:
            if isinstance(value, dict):
                value = value.get(part, _MISSING)
            elif value is _MISSING or value is None:
                return _MISSING
            else:
                raise TemplateError(f"template: can't evaluate field {part} in type {type(value).__name__}")
        return value

    def operand(self, tok: tuple[str, str], dot: Any) -> Any:
        kind, text = tok
        if kind == "field":
            return dot if text == "." else self.field(dot, text)
        if kind == "var":
            name, _, rest = text.partition(".")
            return self.field(self.lookup_var(name), rest)
        if kind == "str":
            return json.loads(text)
        if kind == "raw":
            return text[1:-1]
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "ident" and text in ("true", "false"):
            return text == "true"
        if kind == "ident" and text == "nil":
            return None
        raise TemplateError(f"template: unexpected {text!r} in operand")

    def args(self, toks: list[tuple[str, str]], dot: Any) -> list[Any]:
        out, i = [], 0
        while i < len(toks):
            if toks[i][0] == "lp":
                depth, j = 1, i + 1
                while j < len(toks) and depth:
                    depth += {"lp": 1, "rp": -1}.get(toks[j][0], 0)
                    j += 1
                _, pipe = _split_pipe(toks[i + 1:j - 1])
                out.append(self.pipeline(pipe, dot))
                i = j
            else:
                out.append(self.operand(toks[i], dot))
                i += 1
        return out

    def command(self, toks: list[tuple[str, str]], dot: Any, piped: Any) -> Any:
        head = toks[0]
        extra = [] if piped is _NOTHING else [piped]
        if head[0] == "ident" and head[1] not in ("true", "false", "nil"):
            fn = FUNCS.get(head[1])
            if fn is None:
                raise TemplateError(f"template: function \"{head[1]}\" not defined")
            try:
                return fn(*self.args(toks[1:], dot), *extra)
            except TypeError as exc:
                raise TemplateError(f"template: error calling {head[1]}: {exc}") from None
        value = self.args([head], dot)[0]
        if callable(value):
            return value(*self.args(toks[1:], dot), *extra)
        if len(toks) > 1 or extra:
            raise TemplateError(f"template: can't give argument to non-function {head[1]}")
        return value

    def pipeline(self, pipe: list[list[tuple[str, str]]], dot: Any) -> Any:
        value: Any = _NOTHING
        for cmd in pipe:
            value = self.command(cmd, dot, value)
        return value

    def run(self, nodes: list[_Node], dot: Any, out: list[str]) -> None:
        for n in nodes:
            if n.kind == "text":
                out.append(n.text)
            elif n.kind == "action":
                value = self.pipeline(n.pipe, dot)
                if n.decl:
                    self.vars[-1][n.decl[0]] = value
                else:
                    out.append(go_str(value))
            elif n.kind in ("if", "with"):
                value = self.pipeline(n.pipe, dot)
                if n.decl:
                    self.vars[-1][n.decl[0]] = value
                if _truthy(value):
                    self.run(n.body, value if n.kind == "with" else dot, out)
                else:
                    self.run(n.orelse, dot, out)
            elif n.kind == "range":
                self.range(n, dot, out)

    def range(self, n: _Node, dot: Any, out: list[str]) -> None:
        value = self.pipeline(n.pipe, dot)
        if isinstance(value, dict):
            items = sorted(value.items())
        elif isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is _MISSING or value is None:
            items = []
        else:
            raise TemplateError(f"template: range can't iterate over {go_str(value)}")
        if not items:
            self.run(n.orelse, dot, out)
            return
        for key, item in items:
            scope: dict[str, Any] = {}
            if len(n.decl) == 1:
                scope[n.decl[0]] = item
            elif len(n.decl) == 2:
                scope[n.decl[0]], scope[n.decl[1]] = key, item
            self.vars.append(scope)
            try:
                self.run(n.body, item, out)
            finally:
                self.vars.pop()


_NOTHING = object()


class Template:
    def __init__(self, src: str) -> None:
        self.src = src
        self.nodes = parse(src)

    def render(self, data: Any) -> str:
        out: list[str] = []
        _Exec(data).run(self.nodes, data, out)
        return "".join(out)


def render(src: str, data: Any) -> str:
    return Template(src).render(data)
