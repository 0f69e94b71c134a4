"""client/fastjson.py gives what json gives, without importing json."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.client import fastjson

DOCS = ['{"a": [1, 2.5, -3e5, true, false, null], "b": {"c": "\\u00e9\\n\\"q\\""}}', "[]", "{}", " \n 42 ",
        '"x"', '{"Id": "abc", "Warnings": []}\n', "NaN", "[Infinity, -Infinity]", '{"k": "😀"}', "1.0e-3"]


@pytest.mark.parametrize("doc", DOCS)
def test_loads_matches_json(doc):
    got, want = fastjson.loads(doc.encode()), json.loads(doc)
    assert json.dumps(got) == json.dumps(want)


@pytest.mark.parametrize("doc", ["", "   ", "{", '{"a": 1} x', "[1,]", '{"a" 1}', "\x00"])
def test_loads_rejects_what_json_rejects(doc):
    with pytest.raises(ValueError):
        json.loads(doc)
    with pytest.raises(ValueError):
        fastjson.loads(doc)


@pytest.mark.parametrize("obj", [{"Cmd": ["sh", "-c", "é"], "Tty": False, "Env": [], "N": None, "F": 1.5, 3: "k"},
                                 [1, {"a": [True]}], (1, 2), "plain", 7, None])
def test_dumps_matches_json(obj):
    assert fastjson.dumps(obj) == json.dumps(obj)


def test_dumps_refuses_what_json_refuses():
    with pytest.raises(TypeError):
        fastjson.dumps({"x": object()})


def test_no_json_import():
    src = Path(__file__).resolve().parents[3] / "src"
    probe = (f"import sys; sys.path.insert(0, {str(src)!r})\n"
             "from dockyard.client import fastjson\n"
             "fastjson.dumps(fastjson.loads(b'{\"a\": [1]}'))\n"
             "print('json' in sys.modules, 're' in sys.modules)\n")
    cp = subprocess.run([sys.executable, "-IS", "-c", probe], capture_output=True, text=True, timeout=30)
    assert cp.stdout.strip() == "False False", cp.stderr
