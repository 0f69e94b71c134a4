"""``loads``/``dumps`` for the CLI's API traffic without importing ``json``.

``import json`` pulls in ``re`` (and with it enum, functools, collections):
about as much CPU as the rest of a ``dockyard exec C true`` (measured ~9 ms
against ~1.5 ms for this module on the bench machine).  The C accelerator
``_json`` that ``json`` itself uses does the work here, set up as
``json.JSONDecoder``/``JSONEncoder`` set it up with default options, so the
results are the same.  Without ``_json`` (another interpreter) it falls back
to ``json``.  Commands that format output may still import ``json``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None  # type: ignore[assignment]

_WS = " \t\n\r"


class _Context:
    """What ``_json.make_scanner`` reads from a JSONDecoder (default options)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_scan = _json.make_scanner(_Context()) if _json is not None else None  # type: ignore[arg-type]


def loads(data: bytes | str) -> Any:
    """``json.loads`` for UTF-8 bytes or text; ValueError (as json's JSONDecodeError is) when malformed."""
    if _scan is None:
        import json

        return json.loads(data)
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    start = len(text) - len(text.lstrip(_WS))
    try:
        obj, end = _scan(text, start)
    except StopIteration as exc:
        raise ValueError(f"Expecting value: char {exc.value}") from None
    if text[end:].strip(_WS):
        raise ValueError(f"Extra data: char {end}")
    return obj


def _default(o: object) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


_encode = (_json.make_encoder(None, _default, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True)
           if _json is not None else None)


def dumps(obj: Any) -> str:
    """``json.dumps(obj)`` with the default options (ASCII, ``", "`` and ``": "`` separators)."""
    if _encode is None or not isinstance(obj, (dict, list, tuple)):
        import json

        return json.dumps(obj)
    return "".join(_encode(obj, 0))
