"""`import nsbox` costs nothing until the API is used; the public API is typed."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import nsbox

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def imported_modules(code: str) -> set[str]:
    """The nsbox modules a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in sys.modules if m.startswith('nsbox')))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.needs_no_root
def test_import_nsbox_imports_only_the_package():
    assert imported_modules("import nsbox") == {"nsbox"}


@pytest.mark.needs_no_root
def test_the_runtime_and_cli_entry_points_import_no_api():
    for code in ("import nsbox.runtime.cli", "import nsbox.cli.main", "from nsbox.engine.containers import Engine"):
        assert not [m for m in imported_modules(code) if m.startswith("nsbox.api")], code


@pytest.mark.needs_no_root
def test_names_load_on_first_use():
    assert imported_modules("import nsbox; nsbox.ImageNotFound") == {"nsbox", "nsbox.errors"}
    assert "nsbox.api.runs" not in imported_modules("import nsbox; nsbox.Result")
    assert nsbox.ContainerNotFound.__mro__[1] is nsbox.NotFound
    assert {"run", "arun", "containers", "images", "Client", "Container", "Result"} <= set(dir(nsbox))
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        nsbox.nosuch  # noqa: B018


def test_public_api_passes_mypy_strict():
    """The package, the API and a user's strictly typed code (tests/api/typed/usage.py)."""
    assert os.path.exists(os.path.join(SOURCE, "src", "nsbox", "py.typed"))
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                             "--cache-dir", os.path.join(SOURCE, ".mypy_cache"),
                             "src/nsbox/__init__.py", "src/nsbox/api", "tests/api/typed/usage.py"],
                            cwd=SOURCE, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
