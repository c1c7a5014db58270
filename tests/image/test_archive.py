"""The image commands without a registry: import, images, tag, rmi, save, load (archives
written by skopeo, and by nsbox itself), prune; and the quick-start busybox image."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest

from tests.image import layers as L
from tests.image.test_registry import BASE, UPPER

NSBOX = os.path.join(os.path.dirname(sys.executable), "nsbox")


def nsbox(root: str, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([NSBOX, "--root", root, *args], capture_output=True, input=input, timeout=120)


def rows(root: str, *flags: str) -> list[dict]:
    result = nsbox(root, "images", *flags, "--format", "json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    built = L.Layout(str(tmp_path_factory.mktemp("archive-layout")))
    built.name(built.image([BASE, UPPER], {"Cmd": ["sh"]}), "v1")
    return built.path


def test_busybox_image_for_the_quick_start(store_root):
    result = subprocess.run([sys.executable, "-m", "nsbox.image.busybox_image", "--root", store_root],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    listed = rows(store_root)
    assert [(row["Repository"], row["Tag"]) for row in listed] == [("busybox", "latest")]
    table = nsbox(store_root, "images").stdout.decode()
    assert "busybox" in table and "latest" in table and listed[0]["ID"] in table
    assert nsbox(store_root, "images", "-q").stdout.decode().split() == [listed[0]["ID"]]
    inspect = json.loads(nsbox(store_root, "image", "inspect", "busybox").stdout)[0]
    assert inspect["Config"]["Cmd"] == ["sh"]
    layer = inspect["LayerDirs"][0]
    assert os.path.islink(os.path.join(layer, "bin/sh")) and os.path.isfile(os.path.join(layer, "bin/busybox"))
    # the store is an OCI image layout: an independent tool reads the image from it
    seen = subprocess.run(["skopeo", "inspect", f"oci:{store_root}/image:docker.io/library/busybox:latest"],
                          capture_output=True, text=True, timeout=60)
    assert seen.returncode == 0, seen.stderr
    assert json.loads(seen.stdout)["Digest"] == inspect["ManifestDigest"]


def test_import_from_stdin_tag_and_rmi(store_root):
    tarball = gzip.compress(L.layer([L.file("hello", b"hi\n")]))
    result = nsbox(store_root, "import", "-", "mine:1", "--change", "ENTRYPOINT [\"/hello\"]", input=tarball)
    assert result.returncode == 0, result.stderr
    image_id = result.stdout.decode().strip()
    assert nsbox(store_root, "tag", "mine:1", "registry.example:5000/team/mine:2").returncode == 0
    assert sorted((row["Repository"], row["Tag"]) for row in rows(store_root)) == [
        ("mine", "1"), ("registry.example:5000/team/mine", "2")]
    refused = nsbox(store_root, "rmi", image_id[7:19])
    assert refused.returncode == 125 and b"several names" in refused.stderr
    untagged = nsbox(store_root, "rmi", "mine:1")
    assert untagged.returncode == 0 and b"Untagged: docker.io/library/mine:1" in untagged.stdout
    assert b"Deleted" not in untagged.stdout
    deleted = nsbox(store_root, "rmi", "registry.example:5000/team/mine:2")
    assert deleted.returncode == 0 and f"Deleted: {image_id}".encode() in deleted.stdout
    assert rows(store_root) == []
    store = os.path.join(store_root, "image")
    assert os.listdir(os.path.join(store, "blobs/sha256")) == [] and os.listdir(os.path.join(store, "layers")) == []


def test_missing_images_and_bad_names_are_reported(store_root):
    result = nsbox(store_root, "rmi", "nothere")  # Docker's code for a missing image: 1
    assert result.returncode == 1 and b"'nothere' is not in the store" in result.stderr
    result = nsbox(store_root, "tag", "nothere", "x")
    assert result.returncode == 1
    result = nsbox(store_root, "pull", "UPPER/Case:tag")
    assert result.returncode == 125 and b"invalid image reference" in result.stderr
    result = nsbox(store_root, "import", "/nonexistent.tar")
    assert result.returncode == 125 and b"/nonexistent.tar" in result.stderr


def test_load_archives_written_by_skopeo(store_root, layout, tmp_path):
    docker_archive = str(tmp_path / "docker.tar")
    oci_archive = str(tmp_path / "oci.tar")
    for destination in (f"docker-archive:{docker_archive}:example/from-docker:1", f"oci-archive:{oci_archive}:v1"):
        subprocess.run(["skopeo", "copy", "--quiet", f"oci:{layout}:v1", destination], check=True, timeout=120)
    loaded = nsbox(store_root, "load", "-i", docker_archive)
    assert loaded.returncode == 0, loaded.stderr
    assert b"Loaded image: docker.io/example/from-docker:1" in loaded.stdout
    with open(oci_archive, "rb") as archive:
        loaded = nsbox(store_root, "load", input=archive.read())
    assert loaded.returncode == 0, loaded.stderr
    from nsbox.image.store import ImageStore
    store = ImageStore(store_root)
    image = store.resolve("example/from-docker:1")
    with open(os.path.join(image.layer_dirs()[1], "data/replaced")) as replaced:
        assert replaced.read() == "now a file"
    assert len(store.images()) == 2  # the OCI archive's image is untagged (its ref name is just "v1")
    assert len({layer for found in store.images() for layer in found.config.diff_ids}) == 2


def test_save_then_load_keeps_image_and_names(store_root, layout, tmp_path):
    subprocess.run(["skopeo", "copy", "--quiet", f"oci:{layout}:v1",
                    f"docker-archive:{tmp_path / 'in.tar'}:app:v1"], check=True, timeout=120)
    assert nsbox(store_root, "load", "-i", str(tmp_path / "in.tar")).returncode == 0
    saved = nsbox(store_root, "save", "app:v1")
    assert saved.returncode == 0, saved.stderr
    other = str(tmp_path / "other")
    loaded = nsbox(other, "load", input=saved.stdout)
    assert loaded.returncode == 0, loaded.stderr
    assert [row["ID"] for row in rows(other, "--no-trunc")] == [row["ID"] for row in rows(store_root, "--no-trunc")]
    assert [(row["Repository"], row["Tag"]) for row in rows(other)] == [("app", "v1")]
    # and an independent tool reads nsbox's archive
    (tmp_path / "saved.tar").write_bytes(saved.stdout)
    seen = subprocess.run(["skopeo", "inspect", f"docker-archive:{tmp_path / 'saved.tar'}"], capture_output=True,
                          text=True, timeout=60)
    assert seen.returncode == 0, seen.stderr
    assert len(json.loads(seen.stdout)["Layers"]) == 2
    seen = subprocess.run(["skopeo", "inspect", f"oci-archive:{tmp_path / 'saved.tar'}"], capture_output=True,
                          text=True, timeout=60)
    assert seen.returncode == 0, seen.stderr
    assert json.loads(seen.stdout)["Digest"] == json.loads(nsbox(store_root, "image", "inspect", "app:v1").stdout)[0]["ManifestDigest"]


def test_hostile_archive_layer_paths_are_refused(store_root, tmp_path):
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["evil:1"], "Layers": ["../../etc/passwd"]}]).encode()
    archive = L.layer([L.file("config.json", config), L.file("manifest.json", manifest)])
    result = nsbox(store_root, "load", input=archive)
    assert result.returncode == 125 and b"../../etc/passwd" in result.stderr
    assert rows(store_root) == []


def test_prune_removes_unreferenced_blobs_and_layers(store_root):
    first = nsbox(store_root, "import", "-", input=L.layer([L.file("a", b"a")]))
    assert first.returncode == 0
    kept = nsbox(store_root, "import", "-", "kept:1", input=L.layer([L.file("b", b"b")]))
    assert kept.returncode == 0
    store = os.path.join(store_root, "image")
    assert len(os.listdir(os.path.join(store, "layers"))) == 2
    result = nsbox(store_root, "image", "prune")
    assert result.returncode == 0, result.stderr
    assert first.stdout.decode().strip() in result.stdout.decode()
    assert [(row["Repository"], row["Tag"]) for row in rows(store_root)] == [("kept", "1")]
    assert len(os.listdir(os.path.join(store, "layers"))) == 1
    assert len(os.listdir(os.path.join(store, "blobs/sha256"))) == 3  # kept's manifest, config and layer


def test_a_refused_import_or_load_leaves_nothing_in_the_store(store_root, tmp_path):
    kept = nsbox(store_root, "import", "-", "kept:1", input=L.layer([L.file("b", b"b")]))
    assert kept.returncode == 0
    store = os.path.join(store_root, "image")
    before = (sorted(os.listdir(os.path.join(store, "blobs/sha256"))), sorted(os.listdir(os.path.join(store, "layers"))))
    hostile = L.layer([L.file("fine", b"x"), L.file("../../escape", b"y")])
    result = nsbox(store_root, "import", "-", "evil:1", input=hostile)
    assert result.returncode == 125 and b"'../../escape'" in result.stderr and b"climbs above" in result.stderr
    # a docker-save archive whose second layer is hostile: the first was unpacked, and goes again
    good, bad = L.layer([L.file("ok", b"ok")]), hostile
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [L.sha256(good), L.sha256(bad)]}}).encode()
    manifest = json.dumps([{"Config": "c.json", "RepoTags": ["evil:2"], "Layers": ["1.tar", "2.tar"]}]).encode()
    archive = L.layer([L.file("c.json", config), L.file("1.tar", good), L.file("2.tar", bad),
                       L.file("manifest.json", manifest)])
    result = nsbox(store_root, "load", input=archive)
    assert result.returncode == 125 and b"'../../escape'" in result.stderr
    # a gzip stream cut short fails while the new blob is being written: its temporary file goes too
    cut = gzip.compress(L.layer([L.file("big", os.urandom(1 << 20))]))[:200_000]
    result = nsbox(store_root, "import", "-", "cut:1", input=cut)
    assert result.returncode == 125
    assert os.listdir(os.path.join(store, "ingest")) == []
    after = (sorted(os.listdir(os.path.join(store, "blobs/sha256"))), sorted(os.listdir(os.path.join(store, "layers"))))
    assert after == before
    assert [(row["Repository"], row["Tag"]) for row in rows(store_root)] == [("kept", "1")]
