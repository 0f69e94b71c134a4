"""The Go-template subset behind --format."""

import pytest

from dockyard.cli.gotemplate import TemplateError, render

DATA = {
    "Name": "/web", "Names": ["a", "b"], "N": 3, "Empty": [], "Nil": None,
    "State": {"Status": "running", "Running": True, "ExitCode": 0},
    "Labels": {"y": "2", "x": "1"},
    "Label": lambda k: {"x": "1"}.get(k, ""),
}


@pytest.mark.parametrize("tpl, out", [
    ("plain text", "plain text"),
    ("{{.Name}}", "/web"),
    ("{{.State.Status}}/{{.State.ExitCode}}", "running/0"),
    ("{{.}}", "map[Empty:[] Label:"),  # prefix checked below
    ("{{.Missing}}", "<no value>"),
    ("{{.State.Missing.Deeper}}", "<no value>"),
    ("{{.Nil}}", "<nil>"),
    ("{{.Names}} {{.Labels}}", "[a b] map[x:1 y:2]"),
    ("{{.State.Running}}", "true"),
    ("{{json .State}}", '{"Status":"running","Running":true,"ExitCode":0}'),
    ("{{json .Names}}", '["a","b"]'),
    ('{{join .Names ", "}}', "a, b"),
    ("{{upper .State.Status}} {{lower \"AB\"}} {{title \"ab cd\"}}", "RUNNING ab Ab Cd"),
    ("{{.State.Status | upper}}", "RUNNING"),
    ('{{split "a:b" ":"}}', "[a b]"),
    ('{{truncate "abcdef" 3}}', "abc"),
    ('{{pad "x" 1 2}}|', " x  |"),
    ("{{len .Names}}", "2"),
    ('{{index .Labels "x"}} {{index .Names 1}}', "1 b"),
    ('{{printf "%s=%d" .State.Status .N}}', "running=3"),
    ('{{println "a" 1}}', "a 1\n"),
    ('{{.Label "x"}}', "1"),
    ("{{range .Names}}<{{.}}>{{end}}", "<a><b>"),
    ("{{range $i, $n := .Names}}{{$i}}={{$n}} {{end}}", "0=a 1=b "),
    ("{{range $k, $v := .Labels}}{{$k}}{{$v}}{{end}}", "x1y2"),
    ("{{range .Empty}}x{{else}}empty{{end}}", "empty"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if .Empty}}y{{else if .Nil}}n{{else}}z{{end}}", "z"),
    ('{{if eq .State.Status "exited" "running"}}match{{end}}', "match"),
    ('{{if and .State.Running (not .Empty)}}both{{end}}', "both"),
    ('{{if or .Empty .N}}{{gt .N 2}}{{end}}', "true"),
    ("{{with .State}}{{.Status}}{{end}}{{with .Empty}}no{{else}}none{{end}}", "runningnone"),
    ("a  {{- .N -}}  b", "a3b"),
    ("{{$x := .N}}{{$x}}{{$.Name}}", "3/web"),
    ("{{/* comment */}}ok", "ok"),
    ("{{`raw\\n`}}", "raw\\n"),
])
def test_render(tpl, out):
    got = render(tpl, DATA)
    assert got.startswith(out) if tpl == "{{.}}" else got == out


@pytest.mark.parametrize("tpl", ["{{if .N}}x", "{{end}}", "{{nosuch .N}}", "{{.N .N}}", "{{else}}", "{{.N | }}"])
def test_errors(tpl):
    with pytest.raises(TemplateError):
        render(tpl, DATA)


def test_field_of_a_non_map_is_an_error():
    with pytest.raises(TemplateError, match="can't evaluate field"):
        render("{{.N.X}}", DATA)
