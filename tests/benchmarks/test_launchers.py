"""benchmarks/run measures nsbox through its own launchers, not pip's slower ones."""
from __future__ import annotations

import pytest

from benchmarks.machine import pip_launchers

pytestmark = pytest.mark.needs_no_root

OWN = "#!/x/.venv/bin/python -S\nimport sys\nfrom nsbox.cli.main import main\nsys.exit(main())\n"
PIPS = "#!/x/.venv/bin/python3\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom nsbox.cli.main import main\n"


def test_pips_launcher_is_found_and_nsboxs_is_not(tmp_path):
    (tmp_path / "nsbox").write_text(PIPS)
    (tmp_path / "nsbox-runtime").write_text(OWN)
    assert pip_launchers(str(tmp_path)) == ["nsbox"]
    (tmp_path / "nsbox").write_text(OWN)
    assert pip_launchers(str(tmp_path)) == []
