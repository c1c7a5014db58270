"""The escape probe (probe.c), built static once per session, and the engine's fixtures."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.engine.conftest import busybox_tar, nsbox  # noqa: F401 - fixtures used by these tests

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session")
def probe(workdir):
    """Path of the static probe binary (gcc and libc6-dev from scripts/apt-packages.txt)."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed (apt-get install gcc libc6-dev)")
    binary = os.path.join(workdir, "escape-probe")
    subprocess.run(["gcc", "-static", "-O2", "-o", binary, os.path.join(HERE, "probe.c")], check=True,
                   capture_output=True)
    return binary


def parse_probe(output: str) -> dict[str, tuple[str, str]]:
    """name -> (blocked|OPEN, detail) from the probe's lines."""
    results = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            results[parts[0]] = (parts[1], parts[2])
    return results
