"""Helpers for runtime tests: run a busybox container and read what it printed."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import VENV_BIN


@pytest.fixture
def run_container(make_bundle, runtime):
    """run_container(args, edit=None, name=None) -> CompletedProcess of `nsbox-runtime run`."""
    counter = [0]

    def run(args, edit=None, name=None, extra=(), **kwargs):
        counter[0] += 1
        bundle = make_bundle(args, edit, **kwargs)
        return runtime("run", "--bundle", bundle, *extra, name or f"c{counter[0]}-{os.getpid()}")

    return run


def state_of(runtime, container_id):
    result = runtime("state", container_id, check=True)
    return json.loads(result.stdout)


@pytest.fixture
def busybox_archive(tmp_path):
    """busybox:latest as a docker-save archive, made by nsbox, for other engines to load."""
    nsbox_root = tmp_path / "nsbox-root"
    subprocess.run([os.path.join(VENV_BIN, "python"), "-m", "nsbox.image.busybox_image", "--root", str(nsbox_root)],
                   check=True, capture_output=True)
    archive = tmp_path / "busybox.tar"
    subprocess.run([os.path.join(VENV_BIN, "nsbox"), "--root", str(nsbox_root), "save", "-o", str(archive), "busybox"],
                   check=True, capture_output=True)
    return archive
