"""The lane's own tools, on the host: the vmlinux extractor, the cpio writer, module order."""
from __future__ import annotations

import lzma
import os
import stat
import subprocess
import zlib

import pytest

from tests.vm import LaneError
from tests.vm.initramfs import Archive, load_order
from tests.vm.kernel import extract_vmlinux

ELF = b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 64


@pytest.mark.needs_no_root
def test_extract_vmlinux_skips_false_magic_and_returns_the_elf_kernel():
    xz = lzma.compress(ELF, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    # A setup header, a stray copy of the magic that starts no valid stream, then the payload.
    bzimage = b"\x00" * 512 + b"HdrS" + xz[:6] + b"garbage" + xz + b"\x00\x10\x00\x00"
    assert extract_vmlinux(bzimage) == ELF


@pytest.mark.needs_no_root
def test_extract_vmlinux_reads_gzip_kernels_too():
    packer = zlib.compressobj(wbits=31)
    assert extract_vmlinux(b"setup" + packer.compress(ELF) + packer.flush()) == ELF


@pytest.mark.needs_no_root
def test_extract_vmlinux_says_when_no_kernel_is_inside():
    not_elf = lzma.compress(b"not a kernel", format=lzma.FORMAT_XZ)
    with pytest.raises(LaneError, match="no compressed ELF kernel"):
        extract_vmlinux(b"\x00" * 64 + not_elf)


def test_archive_unpacks_with_cpio_into_the_files_modes_and_links_written(tmp_path):
    archive = Archive()
    archive.directory("bin")
    archive.file("bin/tool", b"#!/bin/sh\necho hi\n", 0o755)
    archive.file("notes", b"odd length")
    archive.symlink("bin/alias", "tool")
    archive.char_device("console", 5, 1)
    (tmp_path / "initramfs.cpio").write_bytes(archive.finish())
    out = tmp_path / "out"
    out.mkdir()
    with open(tmp_path / "initramfs.cpio", "rb") as data:
        subprocess.run(["busybox", "cpio", "-i", "-d"], stdin=data, cwd=out, check=True, capture_output=True)
    assert (out / "bin/tool").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert stat.S_IMODE((out / "bin/tool").stat().st_mode) == 0o755
    assert (out / "notes").read_bytes() == b"odd length"
    assert os.readlink(out / "bin/alias") == "tool"
    console = (out / "console").lstat()
    assert stat.S_ISCHR(console.st_mode) and (os.major(console.st_rdev), os.minor(console.st_rdev)) == (5, 1)


@pytest.mark.needs_no_root
def test_load_order_puts_dependencies_first_once(tmp_path):
    (tmp_path / "modules.dep").write_text(
        "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko\n"
        "kernel/net/9p/9pnet_virtio.ko: kernel/drivers/virtio/virtio.ko kernel/net/9p/9pnet.ko\n"
        "kernel/net/9p/9pnet.ko:\n"
        "kernel/fs/netfs/netfs.ko:\n"
        "kernel/drivers/virtio/virtio.ko:\n"
        "kernel/fs/overlayfs/overlay.ko:\n")
    assert load_order(str(tmp_path), ("9pnet_virtio", "9p", "overlay")) == [
        "kernel/drivers/virtio/virtio.ko", "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko",
        "kernel/fs/netfs/netfs.ko", "kernel/fs/9p/9p.ko", "kernel/fs/overlayfs/overlay.ko"]
    with pytest.raises(LaneError, match="module vfat is not in"):
        load_order(str(tmp_path), ("vfat",))
