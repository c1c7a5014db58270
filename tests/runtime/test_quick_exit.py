"""nsbox-runtime ends without the interpreter's teardown (linux.quick_exit, ~6 ms of CPU per
command): what it printed, on stdout and stderr, is flushed first."""
from __future__ import annotations

import json
import os


def test_output_is_whole_though_the_runtime_skips_the_interpreter_teardown(make_bundle, runtime):
    buffered = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    runtime("create", "--bundle", make_bundle(["sleep", "100"]), "flushed", check=True, env=buffered)
    assert json.loads(runtime("state", "flushed", check=True, env=buffered).stdout)["status"] == "created"
    listed = runtime("list", env=buffered).stdout.splitlines()
    assert listed[0].split()[0] == "ID" and listed[1].split()[0] == "flushed"
    missing = runtime("state", "missing", env=buffered)
    assert missing.returncode != 0 and "missing" in missing.stderr
    runtime("delete", "--force", "flushed", check=True, env=buffered)
