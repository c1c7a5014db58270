"""network/netns.release_unused: a container's namespace file is unmounted (so that DEL can
run without it) only when no process is in the namespace, also when a process joins it through
the file at the very moment of the release."""
from __future__ import annotations

import os
import subprocess
import sys

from nsbox.linux import libc
from nsbox.network import netns

# opens the namespace file, says so, joins it when told, says so, stays until told
JOINER = """import os, sys
from nsbox.linux import libc
from nsbox.linux.namespaces import CLONE_NEWNET
fd = os.open(sys.argv[1], os.O_RDONLY)
print("opened", flush=True)
sys.stdin.readline()
libc.setns(fd, CLONE_NEWNET, sys.argv[1])
print("joined", flush=True)
sys.stdin.readline()
"""


def _joiner(path: str) -> subprocess.Popen:
    joiner = subprocess.Popen([sys.executable, "-c", JOINER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    assert joiner.stdout is not None and joiner.stdout.readline() == "opened\n"
    return joiner


def _tell(joiner: subprocess.Popen, expected: str) -> None:
    assert joiner.stdin is not None and joiner.stdout is not None
    joiner.stdin.write("\n")
    joiner.stdin.flush()
    assert joiner.stdout.readline() == expected


def test_a_namespace_in_use_stays_mounted_and_an_unused_one_goes(tmp_path):
    path = str(tmp_path / "ns")
    netns.create(path)
    joiner = _joiner(path)
    try:
        _tell(joiner, "joined\n")
        inode = netns.bound(path).st_ino
        assert netns.release_unused(path) is False
        assert netns.bound(path).st_ino == inode == os.stat(f"/proc/{joiner.pid}/ns/net").st_ino
    finally:
        joiner.kill()
        joiner.wait()
    try:
        assert netns.release_unused(path) is True and netns.bound(path) is None
        assert netns.release_unused(path) is False  # nothing mounted there any more
    finally:
        netns.remove(path)


def test_a_process_joining_during_the_release_keeps_the_namespace_mounted(tmp_path, monkeypatch):
    """The join lands right after the unmount: the scan that follows sees it and mounts the
    namespace back (a scan before the unmount would have missed it)."""
    path = str(tmp_path / "ns")
    netns.create(path)
    joiner = _joiner(path)
    unmount = libc.umount2

    def unmount_and_let_it_join(target: str, flags: int = 0) -> None:
        unmount(target, flags)
        monkeypatch.setattr(libc, "umount2", unmount)
        _tell(joiner, "joined\n")

    try:
        inode = netns.bound(path).st_ino
        monkeypatch.setattr(libc, "umount2", unmount_and_let_it_join)
        assert netns.release_unused(path) is False
        assert netns.bound(path).st_ino == inode == os.stat(f"/proc/{joiner.pid}/ns/net").st_ino
    finally:
        joiner.kill()
        joiner.wait()
        netns.remove(path)
