"""The guest's initramfs: busybox, the modules that reach the host's root, and stage1-init.sh.

It is a "newc" cpio archive (the format the kernel unpacks into its first tmpfs),
written here directly so that no cpio tool and no root-owned staging tree are needed.
"""
from __future__ import annotations

import hashlib
import os
import stat

from tests.vm import LaneError
from tests.vm.kernel import Kernel

BUSYBOX = "/bin/busybox"
STAGE1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stage1-init.sh")
# What stage 1 needs: the host's root over virtio-9p on PCI, and overlayfs on top of it.
MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")


class Archive:
    """Entries of a newc cpio archive, in the order they are added."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.inode = 0

    def add(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        self.inode += 1
        encoded = name.encode() + b"\0"
        fields = (self.inode, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
        header = b"070701" + b"".join(b"%08X" % value for value in fields)
        self.chunks += [header, encoded, padding(len(header) + len(encoded)), data, padding(len(data))]

    def directory(self, name: str) -> None:
        self.add(name, stat.S_IFDIR | 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.add(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self.add(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name: str, major: int, minor: int) -> None:
        self.add(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self) -> bytes:
        self.add("TRAILER!!!", 0)
        return b"".join(self.chunks)


def padding(length: int) -> bytes:
    return b"\0" * (-length % 4)


def load_order(modules_dir: str, wanted: tuple[str, ...]) -> list[str]:
    """Module files (relative to `modules_dir`) for `wanted` and their dependencies, dependencies first."""
    depends: dict[str, list[str]] = {}
    with open(os.path.join(modules_dir, "modules.dep")) as dep:
        for line in dep:
            module, _, needs = line.partition(":")
            depends[module] = needs.split()
    by_name = {os.path.basename(path).removesuffix(".ko").replace("-", "_"): path for path in depends}
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        for needed in depends[path]:
            visit(needed)
        order.append(path)

    for name in wanted:
        if name not in by_name:
            raise LaneError(f"module {name} is not in {modules_dir}/modules.dep")
        visit(by_name[name])
    return order


def build(kernel: Kernel) -> bytes:
    """The initramfs for `kernel`, as bytes."""
    archive = Archive()
    for name in ("bin", "dev", "proc", "sys", "lib", "newroot", "rw", "lower"):
        archive.directory(name)
    archive.char_device("dev/console", 5, 1)
    with open(BUSYBOX, "rb") as busybox:
        archive.file("bin/busybox", busybox.read(), 0o755)
    archive.symlink("bin/sh", "busybox")
    modules = load_order(kernel.modules, MODULES)
    archive.directory("lib/modules")
    for index, path in enumerate(modules):
        with open(os.path.join(kernel.modules, path), "rb") as module:
            archive.file(f"lib/modules/{index:02d}-{os.path.basename(path)}", module.read())
    with open(STAGE1, "rb") as init:
        archive.file("init", init.read(), 0o755)
    return archive.finish()


def ensure_initramfs(kernel: Kernel, cache: str) -> str:
    """The initramfs for `kernel` in `cache`, rebuilt when busybox or stage1-init.sh change."""
    data = build(kernel)
    path = os.path.join(cache, f"initramfs-{kernel.version}-{hashlib.sha256(data).hexdigest()[:16]}.cpio")
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}"
        with open(temporary, "wb") as out:
            out.write(data)
        os.rename(temporary, path)
        for name in os.listdir(cache):
            if name.startswith("initramfs-") and name.endswith(".cpio") and name != os.path.basename(path):
                os.unlink(os.path.join(cache, name))
    return path
