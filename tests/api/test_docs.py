"""The examples of docs/python-api.md and the README run, and print what the docs show."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def examples(path: str) -> list[tuple[str, str]]:
    """(python code, the output block after it) for each example of a markdown file."""
    with open(os.path.join(SOURCE, path)) as markdown:
        text = markdown.read()
    return re.findall(r"```python\n(.*?)```\s*```output\n(.*?)```", text, re.S)


def shown(expected: str, real: bool) -> re.Pattern[str]:
    """The output block as a pattern: "..." stands for anything on that stretch; in a block
    of `real` output, a container ID and the numbers stand for any others."""
    wildcards = {"...": ".*?", "id": "[0-9a-f]{12}", "number": r"\d+(\.\d+)?"}
    token = r"(\.\.\.)" + (r"|(?P<id>\b[0-9a-f]{12}\b)|(?P<number>\b\d+(\.\d+)?\b)" if real else "")
    pattern, position = "", 0
    for found in re.finditer(token, expected):
        kind = found.lastgroup or "..."
        pattern += re.escape(expected[position:found.start()]) + wildcards[kind]
        position = found.end()
    return re.compile(pattern + re.escape(expected[position:]), re.S)


DOCS = examples("docs/python-api.md")
README = examples("README.md")


@pytest.mark.parametrize("code, expected, real", [(*example, False) for example in DOCS]
                         + [(*example, True) for example in README],
                         ids=[f"docs-{n}" for n in range(len(DOCS))] + [f"readme-{n}" for n in range(len(README))])
def test_example_prints_what_the_docs_show(root, code, expected, real):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, NSBOX_ROOT=root))
    assert result.returncode == 0, result.stderr
    assert shown(expected, real).fullmatch(result.stdout), f"printed:\n{result.stdout}\ndocs show:\n{expected}"


def test_every_example_has_its_output():
    for path in ("docs/python-api.md", "README.md"):
        with open(os.path.join(SOURCE, path)) as markdown:
            assert markdown.read().count("```python") == len(examples(path)), path
