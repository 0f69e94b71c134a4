"""``dockyard info --format``: Go templates over the server's info with ClientInfo beside it, ``json``."""

from __future__ import annotations

import json


def test_info_format_template_and_json(dy):
    assert dy("info", "--format", "{{.Name}} {{.Containers}}") == (0, "fakehost 0\n", "")
    rc, out, _ = dy("info", "-f", "{{json .ClientInfo.Context}}")
    assert (rc, out) == (0, '"default"\n')
    rc, out, err = dy("info", "--format", "json")
    data = json.loads(out)
    assert rc == 0 and err == "" and data["Name"] == "fakehost" and data["ClientInfo"]["Debug"] is False
    again = json.loads(dy("info", "--format", "{{json .}}")[1])  # the same document (times and counters move)
    assert list(again) == list(data) and again["ID"] == data["ID"] and again["ClientInfo"] == data["ClientInfo"]


def test_info_format_bad_template(dy):
    rc, _, err = dy("info", "--format", "{{.Name | nosuch}}")
    assert rc == 125 and err.startswith('dockyard: template: function "nosuch" not defined')
