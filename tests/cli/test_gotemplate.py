"""The Go-template evaluator behind --format: each case's expected text is what Go's
text/template (with Docker's functions) prints for the same template and data."""
from __future__ import annotations

import pytest

from nsbox.cli.formatting import as_inspected, render, tabwrite
from nsbox.cli.gotemplate import Struct, Template
from nsbox.cli.gotemplate_values import TemplateError

pytestmark = pytest.mark.needs_no_root  # pure logic: CI runs these as an unprivileged user too

DATA = {"Name": "/web", "State": {"Pid": 42, "Status": "running", "ExitCode": 0, "OOMKilled": False},
        "Config": {"Cmd": ["sh", "-c", "sleep 1"], "Env": ["A=1", "B=2"], "Labels": {"b": "2", "a": "1"},
                   "Entrypoint": None},
        "HostConfig": {"Memory": 67108864, "NanoCpus": 500000000}, "Ratio": 0.5, "Big": 1000000.0}

CASES = [
    ("{{.State.Pid}}", "42"),
    ("{{.Name}} {{.State.Status}}", "/web running"),
    ("{{json .Config.Cmd}}", '["sh","-c","sleep 1"]'),
    ("{{json .Config.Labels}}", '{"b":"2","a":"1"}'),
    ("{{.Config.Cmd}}", "[sh -c sleep 1]"),
    ("{{.Config.Labels}}", "map[a:1 b:2]"),
    ("{{.Config.Entrypoint}}", "<no value>"),
    ("{{.State.OOMKilled}}", "false"),
    ("{{.Ratio}} {{.Big}}", "0.5 1e+06"),
    ("{{range .Config.Env}}{{.}};{{end}}", "A=1;B=2;"),
    ("{{range $i, $e := .Config.Env}}{{$i}}:{{$e}} {{end}}", "0:A=1 1:B=2 "),
    ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", "a=1,b=2,"),
    ("{{range .Config.Entrypoint}}x{{else}}none{{end}}", "none"),
    ("{{if eq .State.Status \"running\"}}up{{else}}down{{end}}", "up"),
    ("{{if .Config.Entrypoint}}e{{else if .State.Pid}}pid{{else}}n{{end}}", "pid"),
    ("{{if and .State.Pid (not .State.OOMKilled)}}ok{{end}}", "ok"),
    ("{{or .Config.Entrypoint \"default\"}}", "default"),
    ("{{with .HostConfig}}{{.Memory}}{{end}}", "67108864"),
    ("{{index .Config.Labels \"a\"}} {{index .Config.Cmd 2}}", "1 sleep 1"),
    ("{{len .Config.Env}} {{len .Name}}", "2 4"),
    ("{{join .Config.Cmd \"_\"}}", "sh_-c_sleep 1"),
    ("{{split \"a,b\" \",\"}}", "[a b]"),
    ("{{upper .State.Status}} {{lower \"AB\"}} {{title \"hello world\"}}", "RUNNING ab Hello World"),
    ("{{printf \"%s has %d\" .Name .State.Pid}}", "/web has 42"),
    ("{{printf \"%-6s|%5d|%05d|%q|%v|%.2f\" .Name 7 7 .Name .Config.Cmd .Ratio}}",
     '/web  |    7|00007|"/web"|[sh -c sleep 1]|0.50'),
    ("{{println .Name}}", "/web\n"),
    ("{{print \"a\" 1 2 \"b\"}}", "a1 2b"),
    ("{{.State.Pid | printf \"%d!\"}}", "42!"),
    ("{{$p := .State.Pid}}{{$p}} {{$.Name}}", "42 /web"),
    ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
    ("{{(index .Config.Cmd 0)}} {{lower (index .Config.Cmd 0)}}", "sh sh"),
    ("a  {{- \" b \" -}}  c", "a b c"),
    ("{{/* a comment */}}x", "x"),
    ("{{range .Config.Env}}{{if eq . \"A=1\"}}{{continue}}{{end}}{{.}}{{end}}", "B=2"),
    ("{{pad \"x\" 1 2}}|{{truncate \"abcdef\" 3}}", " x  |abc"),
    ("{{lt 1 2}} {{ge 2 3}} {{ne .Name \"x\"}}", "true false true"),
    ("{{slice .Name 1 3}}", "we"),
    ("{{`raw\\t`}}", "raw\\t"),
    ("{{.Config.Labels.nope}}|{{.Nope}}", "<no value>|<no value>"),  # maps: Go's default for a missing key
]


@pytest.mark.parametrize("text, expected", CASES)
def test_template_output(text, expected):
    assert Template(text).execute(DATA) == expected


ERRORS = [
    ("{{.Foo}}", 'template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"'),
    # Go places a chain at its second link: column 9 is ".Nope"
    ("x{{.State.Nope}}", 'template: :1:9: executing "" at <.State.Nope>: map has no entry for key "Nope"'),
    ("{{.Config.Entrypoint.X}}",
     'template: :1:9: executing "" at <.Config.Entrypoint.X>: nil pointer evaluating interface {}.X'),
    ("{{$x := .State}}\n{{$x.Nope}}", 'template: :2:4: executing "" at <$x.Nope>: map has no entry for key "Nope"'),
    ("{{foo .}}", 'template: :1: function "foo" not defined'),
    ("{{.Name", "template: :1: unclosed action"),
    ("{{if 1}}x", "template: :1: unexpected EOF"),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{len 3}}", 'template: :1:2: executing "" at <len>: error calling len: len of type int'),
]


@pytest.mark.parametrize("text, message", ERRORS)
def test_template_errors_read_as_go(text, message):
    with pytest.raises(TemplateError) as error:
        Template(text).execute(as_inspected(DATA))  # objects as inspect sees them: structs, maps under Labels
    assert str(error.value) == message


def test_struct_rows_and_methods():
    row = Struct("*formatter.ContainerContext", ID="abc", Label=lambda key: f"<{key}>")
    assert Template('{{.ID}} {{.Label "x"}}').execute(row) == "abc <x>"
    assert Template("{{json .}}").execute(row) == '{"ID":"abc"}'  # methods are not fields of the JSON
    with pytest.raises(TemplateError, match="can't evaluate field Nope in type [*]formatter.ContainerContext"):
        Template("{{.Nope}}").execute(row)


def test_table_directive_uses_headings_and_go_tabwriter_widths():
    rows = [Struct("T", Names="web", Status="Up 3 seconds"), Struct("T", Names="a-much-longer-name", Status="x")]
    out = render(r"table {{.Names}}\t{{.Status}}", rows, {"Names": "NAMES", "Status": "STATUS"}, "")
    assert out == ("NAMES                STATUS\n"
                   "web                  Up 3 seconds\n"
                   "a-much-longer-name   x\n")
    # minimum column width 10, as Docker's tabwriter has: "TAG" is padded to 10
    assert tabwrite(["REPOSITORY\tTAG\tSIZE", "busybox\tlatest\t2MB"]) == \
        "REPOSITORY   TAG       SIZE\nbusybox      latest    2MB\n"
    assert render("{{.Names}}", rows, {}, "") == "web\na-much-longer-name\n"
    assert render("json", rows[:1], {}, "") == '{"Names":"web","Status":"Up 3 seconds"}\n'


def test_inspect_objects_are_structs_but_their_maps_are_maps():
    shown = as_inspected(DATA)
    assert Template("{{.Config.Labels.nope}}").execute(shown) == "<no value>"
    with pytest.raises(TemplateError, match='map has no entry for key "Nope"'):
        Template("{{.Config.Nope}}").execute(shown)


@pytest.mark.parametrize("stamp, shown", [
    ("2026-12-01T22:00:01.890353120Z", "2026-12-01T22:00:01.89035312Z"),  # Go trims trailing zeros
    ("2026-12-01T22:00:01.000000000Z", "2026-12-01T22:00:01Z"),
    ("2026-12-01T22:00:01.5Z", "2026-12-01T22:00:01.5Z"), ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
])
def test_inspect_times_are_gos_rfc3339nano(stamp, shown):
    from nsbox.oci.timestamps import go_rfc3339nano
    assert go_rfc3339nano(stamp) == shown
