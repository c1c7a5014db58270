"""Helpers for runtime tests: run a busybox container and read what it printed."""
from __future__ import annotations

import json
import os

import pytest


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
