"""nsbox.volumes: named volumes, shared between containers, as objects."""
from __future__ import annotations

import os

import pytest

import nsbox


def test_create_use_list_remove(client):
    volume = client.volumes.create("notes", labels={"kind": "test"})
    assert volume.name == "notes" and volume.attrs["Labels"] == {"kind": "test"}
    client.run("busybox", ["sh", "-c", "echo kept > /data/file"], volumes=["notes:/data"])
    with open(os.path.join(volume.mountpoint, "file")) as kept:
        assert kept.read() == "kept\n"
    assert client.run("busybox", ["cat", "/again/file"], volumes=["notes:/again"]).stdout == b"kept\n"
    assert [v.name for v in client.volumes.list()] == ["notes"]
    with client.containers.run("busybox", ["sleep", "30"], detach=True, volumes=["notes:/data"]):
        with pytest.raises(nsbox.StateError, match="in use"):
            client.volumes.get("notes").remove()
    volume.remove()
    with pytest.raises(nsbox.VolumeNotFound):
        client.volumes.get("notes")


def test_prune_removes_unused_anonymous_volumes(client):
    client.run("busybox", ["true"], volumes=["/anonymous"], remove=False, name="left")
    [anonymous] = client.volumes.list()
    assert len(anonymous.name) == 64
    assert client.volumes.prune() == []  # the stopped container still uses it
    client.containers.get("left").remove()
    assert client.volumes.prune() == [anonymous.name]
    assert client.volumes.list() == []
