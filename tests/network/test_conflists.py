"""Conflist files made by several threads of one process at once (the Python API's arun)."""
from __future__ import annotations

import threading

import pytest

from nsbox.errors import AlreadyExists
from nsbox.network import conflists

pytestmark = pytest.mark.needs_no_root


def test_one_exclusive_save_wins_the_others_are_told_it_exists(tmp_path):
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def save() -> None:
        start.wait()
        try:
            conflists.save(str(tmp_path), {"name": "bridge", "plugins": []}, exclusive=True)
            outcomes.append("saved")
        except AlreadyExists:
            outcomes.append("exists")
        except Exception as error:  # noqa: BLE001 - what the test is about
            outcomes.append(repr(error))

    threads = [threading.Thread(target=save) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exists"] * 7 + ["saved"]
    assert sorted(p.name for p in (tmp_path / "networks").iterdir()) == ["bridge.conflist"]
