"""Docker's --format for listing and inspecting commands: "table", "json", "table TEMPLATE"
or a bare Go template, applied to rows (ps, images, stats, ls) or objects (inspect).

The template evaluator is imported only when a template is given, so the default table of
`nsbox ps` costs nothing more than it did.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def tabwrite(lines: list[str], minwidth: int = 10, padding: int = 3) -> str:
    """Go's text/tabwriter as Docker configures it (minwidth 10, padding 3, spaces): cells
    end at a tab; a column is as wide as its widest cell plus padding, over each run of
    consecutive lines that have that column; the text after a line's last tab is not padded."""
    cells = [line.split("\t") for line in lines]
    widths: list[list[int]] = [[0] * (len(row) - 1) for row in cells]
    column = 0
    while any(len(row) - 1 > column for row in cells):
        start = 0
        while start < len(cells):
            if len(cells[start]) - 1 <= column:
                start += 1
                continue
            end = start
            while end < len(cells) and len(cells[end]) - 1 > column:
                end += 1
            width = max(max(len(cells[i][column]) for i in range(start, end)) + padding, minwidth)
            for i in range(start, end):
                widths[i][column] = width
            start = end
        column += 1
    out = []
    for row, row_widths in zip(cells, widths):
        out.append("".join(cell.ljust(row_widths[i]) for i, cell in enumerate(row[:-1])) + row[-1])
    return "\n".join(out) + ("\n" if lines else "")


def render(form: str | None, rows: list[Any], headings: dict[str, str], default: str) -> str:
    """Rows shown as Docker shows them with --format FORM (None: the default table)."""
    if not form or form == "table":
        form = default
    if form == "json":
        form = "{{json .}}"
    is_table = form.startswith("table")
    plain = _render_plain((form[len("table"):] if is_table else form).strip(" "), rows, headings, is_table)
    if plain is not None:
        return plain
    from nsbox.cli.gotemplate import Template, backslash_escapes
    from nsbox.cli.gotemplate_values import HEADER_FUNCTIONS, TemplateError
    text = backslash_escapes((form[len("table"):] if is_table else form).strip(" "))
    try:
        template = Template(text)
    except TemplateError as error:
        raise TemplateError(f"failed to parse template: {error}") from None
    try:
        body = [template.execute(row) for row in rows]
    except TemplateError as error:
        raise TemplateError(f"failed to execute template: {error}") from None
    if not is_table:
        return "".join(line + "\n" for line in body)
    heading = Template(text, HEADER_FUNCTIONS).execute(_Headings(headings))
    return tabwrite("\n".join([heading] + body).split("\n"))


def _render_plain(text: str, rows: list[Any], headings: dict[str, str], is_table: bool) -> str | None:
    """What the evaluator would print for a template of text and {{.Field}} actions only, on
    rows whose fields are strings (the default tables: `nsbox ps` without the evaluator's
    imports, ~25 ms here); None for anything else, which the evaluator renders."""
    parts = _plain_parts(text)
    if parts is None:
        return None
    fields = parts[1::2]
    if is_table and not all(field in headings for field in fields):
        return None
    if not all(isinstance(row, dict) and all(isinstance(row.get(field), str) for field in fields) for row in rows):
        return None

    def fill(values: dict) -> str:
        return "".join(part if index % 2 == 0 else values[part] for index, part in enumerate(parts))

    body = [fill(row) for row in rows]
    if not is_table:
        return "".join(line + "\n" for line in body)
    return tabwrite("\n".join([fill(headings)] + body).split("\n"))


def _plain_parts(text: str) -> list[str] | None:
    """[text, field, text, field, ..., text] for a template of text and {{.Field}} actions
    only (no backslash escapes, trimming, functions or pipelines), else None."""
    if "\\" in text:
        return None
    parts: list[str] = []
    rest = text
    while "{{" in rest:
        before, _, after = rest.partition("{{")
        action, closed, rest = after.partition("}}")
        name = action.strip()
        if not closed or action != action.strip(" ") or not name.startswith(".") or not name[1:].isidentifier():
            return None
        parts += [before, name[1:]]
    if "}}" in rest:
        return None
    return parts + [rest]


class _Headings(dict):
    """The heading line's data: every field is its column name; a field given arguments
    (`{{.Label "x"}}`) is headed by its first argument, as Docker heads it."""

    def __init__(self, headings: dict[str, str]) -> None:
        super().__init__({name: _heading(title) for name, title in headings.items()})

    def __missing__(self, key: str) -> str:
        return "<no value>"


def _heading(title: str):
    def heading(*args: Any) -> str:
        return str(args[0]) if args else title
    return heading


# Keys of Docker's inspect output whose values are Go maps (a missing key is <no value>); the
# other objects are structs (a missing field is an error)
MAP_KEYS = frozenset({"Labels", "Attributes", "Options", "ExposedPorts", "Volumes", "Ports", "Networks",
                      "Sysctls", "StorageOpt", "Tmpfs", "Data", "DriverOpts", "Config"})


def as_inspected(value: Any, key: str = "", top: bool = True) -> Any:
    """JSON data as Docker's inspect templates see it: objects are structs, but those under MAP_KEYS."""
    from nsbox.cli.gotemplate import Struct
    if isinstance(value, dict):
        items = {k: as_inspected(v, k, False) for k, v in value.items()}
        return items if key in MAP_KEYS and not top and not _is_struct_config(key, value) else Struct(None, items)
    if isinstance(value, list):
        return [as_inspected(item, "", False) for item in value]
    return value


def _is_struct_config(key: str, value: dict) -> bool:
    """"Config" is a struct in a container or image (it has Cmd or Env); LogConfig's "Config" is a map."""
    return key == "Config" and ("Env" in value or "Cmd" in value or "Hostname" in value)


def render_each(form: str, objects: list[Any]) -> str:
    """inspect -f: the template run on each object, one output line each."""
    from nsbox.cli.gotemplate import Template, backslash_escapes
    from nsbox.cli.gotemplate_values import TemplateError
    try:
        template = Template(backslash_escapes(form))
        return "".join(template.execute(as_inspected(value)) + "\n" for value in objects)
    except TemplateError as error:
        raise TemplateError(f"template parsing error: {error}") from None


def print_json(value: object) -> None:
    import json
    import sys
    json.dump(value, sys.stdout, indent=4)
    sys.stdout.write("\n")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Docker's plain column layout (three spaces between columns)."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in [headers] + rows]
    return "\n".join(lines) + "\n"
