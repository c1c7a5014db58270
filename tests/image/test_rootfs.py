"""Container root filesystems: overlayfs over the image's layers, nothing copied, removal
leaves no mount (the suite's autouse leak check also compares host mounts)."""
from __future__ import annotations

import os

import pytest

from nsbox.errors import AlreadyExists, NotFound, StateError
from nsbox.image.archive import import_rootfs
from nsbox.image.manage import remove_image
from nsbox.image.rootfs import containers_using, image_config, prepare_rootfs, remove_rootfs
from nsbox.image.store import ImageStore
from tests.image import layers as L


@pytest.fixture
def image(store_root, tmp_path):
    tarball = tmp_path / "rootfs.tar"
    tarball.write_bytes(L.layer([L.directory("etc"), L.file("etc/hostname", b"image\n"), L.directory("srv"),
                                 L.file("srv/data", b"lower\n")]))
    return import_rootfs(store_root, str(tarball), "example.com/app:1", ['CMD ["/bin/app", "--serve"]',
                                                                           "ENV MODE=test", "WORKDIR /srv",
                                                                           "USER 1000", "EXPOSE 8080"])


def mounted(path: str) -> bool:
    with open("/proc/self/mountinfo") as info:
        return any(line.split()[4] == path for line in info)


def test_writes_go_to_the_container_and_the_layer_is_untouched(store_root, image):
    merged = prepare_rootfs(store_root, "example.com/app:1", "c1")
    try:
        assert mounted(merged)
        with open(os.path.join(merged, "srv/data"), "w") as data:
            data.write("changed by the container\n")
        os.unlink(os.path.join(merged, "etc/hostname"))
        os.mkdir(os.path.join(merged, "new"))
        layer = image.layer_dirs()[0]
        with open(os.path.join(layer, "srv/data")) as lower:
            assert lower.read() == "lower\n"
        assert os.path.exists(os.path.join(layer, "etc/hostname"))
        assert not os.path.exists(os.path.join(layer, "new"))
        second = prepare_rootfs(store_root, image.id, "c2")
        with open(os.path.join(second, "srv/data")) as fresh:
            assert fresh.read() == "lower\n"
        remove_rootfs(store_root, "c2")
    finally:
        remove_rootfs(store_root, "c1")
    assert not mounted(merged)
    assert os.listdir(ImageStore(store_root).rootfs_dir) == []
    assert os.path.exists(os.path.join(image.layer_dirs()[0], "srv/data"))


def test_image_config_gives_the_engine_what_to_run(store_root, image):
    config = image_config(store_root, "example.com/app:1")
    assert config.cmd == ["/bin/app", "--serve"] and config.entrypoint == []
    assert "MODE=test" in config.env and config.working_dir == "/srv" and config.user == "1000"
    assert config.exposed_ports == ["8080/tcp"]


def test_rmi_refuses_an_image_a_container_uses(store_root, image):
    prepare_rootfs(store_root, "example.com/app:1", "c1")
    try:
        assert containers_using(store_root, ImageStore(store_root).resolve(image.id)) == ["c1"]
        with pytest.raises(StateError, match="c1"):
            remove_image(store_root, "example.com/app:1")
        remove_image(store_root, "example.com/app:1", force=True)  # only the name goes
        assert os.path.isdir(image.layer_dirs()[0])
    finally:
        remove_rootfs(store_root, "c1")


def test_errors_name_the_container_and_leave_nothing(store_root, image):
    prepare_rootfs(store_root, "example.com/app:1", "c1")
    try:
        with pytest.raises(AlreadyExists, match="c1"):
            prepare_rootfs(store_root, "example.com/app:1", "c1")
    finally:
        remove_rootfs(store_root, "c1")
    with pytest.raises(NotFound, match="nothere"):
        prepare_rootfs(store_root, "nothere:latest", "c3")
    with pytest.raises(NotFound, match="c9"):
        remove_rootfs(store_root, "c9")
    assert os.listdir(ImageStore(store_root).rootfs_dir) == []
