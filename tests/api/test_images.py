"""nsbox.images: the image store the `nsbox` command uses, as objects."""
from __future__ import annotations

import os
import subprocess

import pytest

import nsbox


def test_list_get_and_attributes(client):
    [image] = client.images.list()
    assert image.tags == ["busybox:latest"] and image.id.startswith("sha256:")
    assert client.images.get("busybox").id == image.id
    assert client.images.get(image.short_id).tags == ["busybox:latest"]
    assert image.attrs["Os"] == "linux"
    with pytest.raises(nsbox.ImageNotFound):
        client.images.get("nosuch")


def test_tag_and_remove(client):
    image = client.images.get("busybox")
    image.tag("mine/box", "v1")
    client.images.tag("busybox", "other:2")
    assert sorted(client.images.get("busybox").tags) == ["busybox:latest", "mine/box:v1", "other:2"]
    assert client.run("mine/box:v1", ["echo", "tagged"]).stdout == b"tagged\n"
    assert client.images.remove("other:2") == ["Untagged: docker.io/library/other:2"]
    client.images.remove("mine/box:v1")
    assert client.images.get("busybox").tags == ["busybox:latest"]


def test_save_load_import(client, tmp_path, busybox_tar):
    archive = str(tmp_path / "saved.tar")
    client.images.save("busybox", archive)
    client.images.remove("busybox")
    assert client.images.list() == []
    [loaded] = client.images.load(archive)
    assert loaded.tags == ["busybox:latest"]
    imported = client.images.import_rootfs(busybox_tar, "fromtar:1", changes=["CMD [\"echo\", \"default cmd\"]"])
    assert imported.tags == ["fromtar:1"]
    assert client.run("fromtar:1").stdout == b"default cmd\n"


def test_pull_reports_progress(client, registries, tmp_path):
    """busybox, saved by nsbox and pushed by skopeo to Debian's registry on loopback, pulled back."""
    registry = registries(None)
    archive = str(tmp_path / "busybox.tar")
    client.images.save("busybox", archive)
    pushed = subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"docker-archive:{archive}",
                             f"docker://{registry.host}/api/busybox:pulled"], capture_output=True, text=True,
                            timeout=120)
    assert pushed.returncode == 0, pushed.stderr
    client.images.remove("busybox")  # so that every byte comes from the registry
    events: list[dict] = []
    image = client.images.pull(f"{registry.host}/api/busybox:pulled", progress=events.append)
    assert image.tags == [f"{registry.host}/api/busybox:pulled"]
    layer_size = os.path.getsize(archive) // 2  # the one layer is most of the archive
    done = [e for e in events if e.get("total") and e["current"] == e["total"]]
    assert done and done[0]["total"] > layer_size // 2
    assert client.run(f"{registry.host}/api/busybox:pulled", ["echo", "pulled"]).stdout == b"pulled\n"
