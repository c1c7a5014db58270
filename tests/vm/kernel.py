"""The guest's kernel: Debian's linux-image-amd64, unpacked into the lane's cache.

The package is downloaded and unpacked, not installed, so that the host's /boot and
/lib/modules stay as they are. The bzImage is turned into the uncompressed vmlinux
once, because decompressing the kernel under TCG costs seconds at every boot; QEMU boots
the ELF vmlinux through its PVH entry point.
"""
from __future__ import annotations

import bz2
import lzma
import os
import shutil
import subprocess
import tempfile
import zlib

from tests.vm import LaneError

KERNEL_PACKAGE = "linux-image-amd64"
ELF_MAGIC = b"\x7fELF"

# Compressed-kernel formats the standard library can open: stream magic -> decompressor.
DECOMPRESSORS = {
    b"\xfd7zXZ\x00": lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ),
    b"\x1f\x8b\x08": lambda: zlib.decompressobj(wbits=31),
    b"BZh": bz2.BZ2Decompressor,
}


def extract_vmlinux(bzimage: bytes) -> bytes:
    """The ELF kernel compressed inside a bzImage.

    Like the kernel's scripts/extract-vmlinux: try each place where a compressed
    stream's magic appears, and keep the first one that decompresses to an ELF file.
    """
    for magic, decompressor in DECOMPRESSORS.items():
        offset = bzimage.find(magic)
        while offset != -1:
            try:
                data = decompressor().decompress(bzimage[offset:])
            except (lzma.LZMAError, zlib.error, OSError, EOFError):
                data = b""
            if data.startswith(ELF_MAGIC):
                return data
            offset = bzimage.find(magic, offset + 1)
    raise LaneError("no compressed ELF kernel (xz, gzip or bzip2) found in the bzImage")


class Kernel:
    """A kernel unpacked in the cache: its version, its vmlinux and its modules tree."""

    def __init__(self, directory: str, version: str):
        self.directory = directory
        self.version = version
        self.vmlinux = os.path.join(directory, "vmlinux")
        self.modules = os.path.join(directory, "lib", "modules", version)


def kernel_version(package: str = KERNEL_PACKAGE) -> str | None:
    """The version (e.g. 6.1.0-56-amd64) that Debian's linux-image-amd64 points to in apt's lists."""
    listing = subprocess.run(["apt-cache", "depends", package], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        kind, _, name = line.strip().partition(": ")
        if kind == "Depends" and name.startswith("linux-image-"):
            return name.removeprefix("linux-image-")
    return None


def ensure_kernel(cache: str, free_bytes_needed: int = 1 << 30) -> Kernel:
    """The current Debian kernel, unpacked into `cache` (an existing directory) on first use.

    Other kernels unpacked there before are removed when a new one comes in.
    """
    version = kernel_version()
    if version is None or not os.path.exists(os.path.join(cache, f"kernel-{version}", "vmlinux")):
        # Debian removes superseded kernel packages from its mirrors: download from fresh lists.
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        version = kernel_version()
    if version is None:
        raise LaneError(f"apt-cache depends {KERNEL_PACKAGE} names no linux-image-<version> package; "
                        "is a Debian package source configured?")
    kernel = Kernel(os.path.join(cache, f"kernel-{version}"), version)
    if not os.path.exists(kernel.vmlinux):
        free = shutil.disk_usage(cache).free
        if free < free_bytes_needed:
            raise LaneError(f"{cache} has {free >> 20} MiB free; the guest kernel needs about "
                            f"{free_bytes_needed >> 20} MiB (set NSBOX_VM_CACHE to a roomier place)")
        unpack(version, kernel.directory)
        for name in os.listdir(cache):
            if name.startswith("kernel-") and name != os.path.basename(kernel.directory):
                shutil.rmtree(os.path.join(cache, name))
    return kernel


def unpack(version: str, directory: str) -> None:
    """Download linux-image-`version`, unpack it into `directory`, and add modules.dep and vmlinux."""
    staging = tempfile.mkdtemp(prefix=".unpacking-", dir=os.path.dirname(directory))
    try:
        subprocess.run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", f"linux-image-{version}"],
                       cwd=staging, check=True, stdout=subprocess.DEVNULL)
        (deb,) = [name for name in os.listdir(staging) if name.endswith(".deb")]
        unpacked = os.path.join(staging, "root")
        subprocess.run(["dpkg-deb", "-x", os.path.join(staging, deb), unpacked], check=True)
        os.unlink(os.path.join(staging, deb))
        # The package ships no modules.dep (depmod makes it at install time).
        subprocess.run(["busybox", "depmod", "-b", unpacked, version], check=True)
        with open(os.path.join(unpacked, "boot", f"vmlinuz-{version}"), "rb") as bzimage:
            vmlinux = extract_vmlinux(bzimage.read())
        with open(os.path.join(unpacked, "vmlinux"), "wb") as out:
            out.write(vmlinux)
        os.rename(unpacked, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
