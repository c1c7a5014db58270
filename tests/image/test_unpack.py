"""Layer unpacking: hostile archives stay inside the layer directory (refusals name the
entry and why), OCI whiteouts become overlayfs ones, and file metadata is kept."""
from __future__ import annotations

import io
import os
import stat
import subprocess

import pytest

from nsbox.errors import ConfigError, ImageError
from nsbox.image.store import ImageStore
from nsbox.oci import image_spec
from tests.image import layers as L


def snapshot(top: str, skip: str) -> dict:
    """Everything under `top` except `skip`: path -> (type, mode, uid, size, nlink, mtime, target/content)."""
    seen = {}
    for directory, dirnames, filenames in os.walk(top):
        if directory.startswith(skip):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            if path.startswith(skip):
                continue
            st = os.lstat(path)
            extra = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as content:
                    extra = content.read()
            seen[path] = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_uid, st.st_size, st.st_nlink, st.st_mtime_ns, extra)
    return seen


@pytest.fixture
def host(tmp_path):
    """A pretend host: tmp/outside (with a secret file) next to tmp/root (the nsbox root)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host data\n")
    (outside / "dir").mkdir()
    return {"tmp": str(tmp_path), "outside": str(outside), "root": str(tmp_path / "root")}


def unpack(host, entries) -> str:
    """Store the layer and unpack it as a pull would; return the layer directory."""
    store = ImageStore(host["root"])
    data = L.layer(entries)
    digest = store.write_blob(data)
    return store.ensure_layer(L.sha256(data), digest)


def refused(host, entries, *words: str) -> None:
    """The layer is refused with a message holding `words`; nothing outside the store changed."""
    before = snapshot(host["tmp"], host["root"])
    with pytest.raises(ImageError) as caught:
        unpack(host, entries)
    for word in words:
        assert word in str(caught.value)
    assert snapshot(host["tmp"], host["root"]) == before
    layers = ImageStore(host["root"]).layers
    assert os.listdir(layers) == [], "a refused layer left something in the store"


def contained(host, entries) -> str:
    """The layer unpacks; nothing outside the store changed; return the layer directory."""
    before = snapshot(host["tmp"], host["root"])
    directory = unpack(host, entries)
    assert snapshot(host["tmp"], host["root"]) == before
    return directory


def test_dotdot_names_are_refused_naming_the_entry(host):
    refused(host, [L.file("../escaped", b"x")], "'../escaped'", "climbs above the layer root")
    refused(host, [L.directory("a"), L.file("a/../../../outside/secret", b"overwritten")],
            "'a/../../../outside/secret'", "climbs")
    refused(host, [L.file("a/../../.wh.secret")], "climbs")
    assert not os.path.exists(os.path.join(os.path.dirname(host["tmp"]), "escaped"))


def test_absolute_names_are_relative_to_the_layer_root(host):
    outside_file = os.path.join(host["outside"], "secret")
    directory = contained(host, [L.file(outside_file, b"inside now"), L.file("/tmp/nsbox-absolute-test", b"t")])
    with open(directory + outside_file) as inside:
        assert inside.read() == "inside now"
    assert not os.path.exists("/tmp/nsbox-absolute-test")


def test_writes_through_symlinks_to_outside_stay_inside(host):
    directory = contained(host, [
        L.symlink("abs", host["outside"]),
        L.file("abs/pwned", b"through an absolute symlink"),
        L.symlink("up", "../../../../../../.."),
        L.file("up/tmp/nsbox-climb-test", b"through a climbing symlink"),
        L.symlink("tmp-link", "/tmp"),
        L.file("tmp-link/nsbox-tmp-test", b"through /tmp"),
        L.symlink("secret-link", os.path.join(host["outside"], "secret")),
        L.file("secret-link", b"replaces the link, not the target"),
    ])
    assert not os.path.exists(os.path.join(host["outside"], "pwned"))
    assert not os.path.exists("/tmp/nsbox-climb-test") and not os.path.exists("/tmp/nsbox-tmp-test")
    with open(os.path.join(directory + host["outside"], "pwned")) as written:
        assert written.read() == "through an absolute symlink"
    assert os.path.isfile(os.path.join(directory, "tmp/nsbox-climb-test"))
    assert os.path.isfile(os.path.join(directory, "tmp/nsbox-tmp-test"))
    assert os.path.isfile(os.path.join(directory, "secret-link")) and not os.path.islink(os.path.join(directory, "secret-link"))


def test_a_symlink_swapped_in_between_two_entries_is_resolved_inside(host):
    directory = contained(host, [
        L.directory("d"), L.file("d/first", b"1"),
        L.symlink("d", host["outside"] + "/dir"),
        L.file("d/second", b"2"),
    ])
    assert os.listdir(os.path.join(host["outside"], "dir")) == []
    assert os.path.islink(os.path.join(directory, "d"))
    assert os.path.isfile(os.path.join(directory + host["outside"], "dir/second"))


def test_hard_links_to_outside_are_refused(host):
    secret = os.path.join(host["outside"], "secret")
    refused(host, [L.hardlink("h", secret)], "'h'", f"hard link to {secret!r}", "not in the layer")
    refused(host, [L.hardlink("h", "../outside/secret")], "climbs")
    refused(host, [L.symlink("s", host["outside"]), L.hardlink("h", "s/secret")], "'h'", "not in the layer")
    assert os.stat(secret).st_nlink == 1


def test_hostile_overlay_xattrs_are_not_applied(host):
    directory = contained(host, [L.directory("d"), L.file("d/f", b"x", xattrs={"trusted.overlay.opaque": "y",
                                                                               "user.kept": "yes"})])
    assert os.listxattr(os.path.join(directory, "d/f")) == ["user.kept"]


def test_whiteouts_become_overlayfs_whiteouts(host):
    directory = contained(host, [L.file(".wh.gone"), L.directory("dir"), L.file("dir/.wh..wh..opq"),
                                 L.file("dir/kept", b"k"), L.file("other/.wh..wh..opq")])
    gone = os.lstat(os.path.join(directory, "gone"))
    assert stat.S_ISCHR(gone.st_mode) and os.major(gone.st_rdev) == 0 and os.minor(gone.st_rdev) == 0
    assert os.getxattr(os.path.join(directory, "dir"), "trusted.overlay.opaque") == b"y"
    assert os.getxattr(os.path.join(directory, "other"), "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(directory)) == ["dir", "gone", "other"]
    assert os.listdir(os.path.join(directory, "dir")) == ["kept"]


def test_metadata_is_kept(host):
    directory = contained(host, [
        L.directory("bin", mode=0o750, uid=1000, gid=1001, mtime=1_500_000_000),
        L.file("bin/tool", b"#!/bin/sh\n", mode=0o4755, uid=0, gid=0),
        L.file("bin/owned", b"o", mode=0o640, uid=1000, gid=1001, mtime=1_400_000_000, xattrs={"user.note": "hi"}),
        L.hardlink("bin/tool-link", "bin/tool"),
        L.symlink("bin/sym", "tool"),
        L.fifo("bin/pipe", mode=0o620),
        L.chardev("dev-null", 1, 3),
    ])
    tool = os.lstat(os.path.join(directory, "bin/tool"))
    assert stat.S_IMODE(tool.st_mode) == 0o4755 and tool.st_nlink == 2
    assert os.lstat(os.path.join(directory, "bin/tool-link")).st_ino == tool.st_ino
    owned = os.lstat(os.path.join(directory, "bin/owned"))
    assert (owned.st_uid, owned.st_gid, stat.S_IMODE(owned.st_mode), int(owned.st_mtime)) == (1000, 1001, 0o640, 1_400_000_000)
    assert os.getxattr(os.path.join(directory, "bin/owned"), "user.note") == b"hi"
    assert os.readlink(os.path.join(directory, "bin/sym")) == "tool"
    assert stat.S_ISFIFO(os.lstat(os.path.join(directory, "bin/pipe")).st_mode)
    null = os.lstat(os.path.join(directory, "dev-null"))
    assert stat.S_ISCHR(null.st_mode) and (os.major(null.st_rdev), os.minor(null.st_rdev)) == (1, 3)
    bin_dir = os.lstat(os.path.join(directory, "bin"))
    assert (bin_dir.st_uid, stat.S_IMODE(bin_dir.st_mode), int(bin_dir.st_mtime)) == (1000, 0o750, 1_500_000_000)


def test_a_layer_whose_content_does_not_match_its_diff_id_is_refused(host):
    store = ImageStore(host["root"])
    data = L.layer([L.file("f", b"x")])
    digest = store.write_blob(data)
    with pytest.raises(ImageError, match="the image config says"):
        store.ensure_layer(L.sha256(b"something else"), digest)
    assert os.listdir(store.layers) == []


def test_a_blob_whose_digest_does_not_match_is_refused_and_not_stored(host):
    store = ImageStore(host["root"])
    wrong = L.sha256(b"other")
    with pytest.raises(ImageError, match="does not match"):
        store.write_blob(b"data", wrong)
    assert not store.has_blob(wrong) and not store.has_blob(L.sha256(b"data"))
    with pytest.raises(ImageError, match="not stored"):
        with store.ingest(wrong, 4) as ingest:
            ingest.write(b"data")
    assert os.listdir(store.blobs) == [] and [n for n in os.listdir(store.ingest_dir) if n.endswith(".partial")] == []


def test_an_interrupted_ingest_resumes(host):
    store = ImageStore(host["root"])
    data = b"0123456789" * 1000
    digest = L.sha256(data)
    with pytest.raises(ConnectionError):
        with store.ingest(digest, len(data)) as ingest:
            ingest.write(data[:3000])
            raise ConnectionError("cut")
    with store.ingest(digest, len(data)) as ingest:
        assert ingest.offset == 3000
        ingest.write(data[3000:])
    assert store.read_blob(digest) == data


@pytest.mark.parametrize("document, field", [
    (b'{"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:12", "size": 1}, "layers": []}', "manifest.config.digest"),
    (b'{"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:' + b"a" * 64 + b'", "size": -1}, "layers": []}', "manifest.config.size"),
    (b'{"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:' + b"a" * 64 + b'", "size": 1}, "layers": [{"mediaType": "text/plain", "digest": "sha256:' + b"b" * 64 + b'", "size": 1}]}', "manifest.layers[0].mediaType"),
    (b'{"schemaVersion": 1}', "manifest.schemaVersion"),
    (b'not json', "manifest"),
])
def test_invalid_manifests_are_refused_naming_the_field(document, field):
    with pytest.raises(ConfigError) as caught:
        image_spec.parse_manifest(document)
    assert caught.value.field == field


@pytest.mark.needs_no_root
def test_invalid_config_is_refused_naming_the_field():
    with pytest.raises(ConfigError) as caught:
        image_spec.parse_config(b'{"rootfs": {"type": "layers", "diff_ids": ["md5:x"]}}')
    assert caught.value.field == "config.rootfs.diff_ids[0]"
    with pytest.raises(ConfigError) as caught:
        image_spec.parse_config(b'{"config": {"Cmd": "sh"}, "rootfs": {"type": "layers", "diff_ids": []}}')
    assert caught.value.field == "config.config.Cmd"


def test_gzip_layers_in_several_members_unpack_and_truncated_ones_are_refused(host):
    import gzip
    store = ImageStore(host["root"])
    data = L.layer([L.file("a", b"a" * 5000), L.file("b", b"b")])
    members = gzip.compress(data[:3000]) + gzip.compress(data[3000:])
    directory = store.ensure_layer(L.sha256(data), store.write_blob(members))
    with open(os.path.join(directory, "a")) as content:
        assert content.read() == "a" * 5000
    other = L.layer([L.file("c", os.urandom(100_000))])
    truncated = gzip.compress(other)[:-2000]
    with pytest.raises(ImageError, match="truncated|not a valid tar"):
        store.ensure_layer(L.sha256(other), store.write_blob(truncated))
    assert os.listdir(store.layers) == [os.path.basename(directory)]


def test_zstd_layers_unpack_and_damaged_ones_are_refused(host):
    import zstandard
    store = ImageStore(host["root"])
    data = L.layer([L.file("z", b"zstd layer\n" * 1000)])
    compressed = zstandard.ZstdCompressor().compress(data[:5000]) + zstandard.ZstdCompressor().compress(data[5000:])
    directory = store.ensure_layer(L.sha256(data), store.write_blob(compressed))
    with open(os.path.join(directory, "z"), "rb") as content:
        assert content.read() == b"zstd layer\n" * 1000
    other = L.layer([L.file("y", os.urandom(50_000))])
    damaged = bytearray(zstandard.ZstdCompressor().compress(other))
    damaged[100:200] = bytes(100)
    with pytest.raises(ImageError, match="zstd|tar|config says"):
        store.ensure_layer(L.sha256(other), store.write_blob(bytes(damaged)))
    assert os.listdir(store.layers) == [os.path.basename(directory)]


def test_a_gzip_bomb_is_inflated_in_bounded_chunks(host):
    # 64 MiB of zeros compress to ~64 KiB: each piece the unpacker holds stays at most 1 MiB
    import gzip

    from nsbox.image.layer_stream import layer_stream
    data = L.layer([L.file("zeros", bytes(64 << 20))])
    stream = layer_stream(io.BytesIO(gzip.compress(data, 9)))
    sizes = []
    while piece := stream.view(1 << 30):
        sizes.append(len(piece))
    assert sum(sizes) == len(data) and max(sizes) <= 1 << 20
    assert stream.digest() == L.sha256(data)


def test_an_entry_cut_short_is_refused_by_name(host):
    data = L.layer([L.file("whole", b"w" * 2000), L.file("half", os.urandom(100_000))])
    store = ImageStore(host["root"])
    with pytest.raises(ImageError, match="'half' is cut short"):
        store.ensure_layer(L.sha256(data), store.write_blob(data[:60_000]))
    assert os.listdir(store.layers) == []


def test_gnu_sparse_files_keep_their_holes_and_data(host, tmp_path):
    # GNU tar writes a sparse member (type 'S'): its data regions and holes come back as they were
    source = tmp_path / "source"
    source.mkdir()
    with open(source / "sparse", "wb") as out:
        out.seek(3 << 20)
        out.write(b"middle")
        out.seek(8 << 20)
        out.write(b"end")
    archive = tmp_path / "layer.tar"
    subprocess.run(["tar", "--sparse", "--format=gnu", "-cf", str(archive), "-C", str(source), "sparse"], check=True)
    data = archive.read_bytes()
    assert b"GNUSparseFile" in data or data[156:157] == b"S"
    store = ImageStore(host["root"])
    directory = store.ensure_layer(L.sha256(data), store.write_blob(data))
    with open(os.path.join(directory, "sparse"), "rb") as content:
        assert content.read() == (source / "sparse").read_bytes()
    unpacked = os.stat(os.path.join(directory, "sparse"))
    assert unpacked.st_size == (8 << 20) + 3
    # The holes stay holes: a few KiB of data allocated, not 8 MiB of zeros.
    assert unpacked.st_blocks * 512 <= 64 << 10, f"{unpacked.st_blocks * 512} bytes allocated: the holes were filled"
