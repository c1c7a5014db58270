"""A tiny root filesystem (and OCI bundle) built from the host's Debian busybox-static.

Used by the set-up demo, the tests and the benchmarks, and by the image set-up where no
registry is in reach.

    python -m nsbox.busybox BUNDLE_DIR [ARGS...]   writes BUNDLE_DIR/rootfs and config.json
"""
from __future__ import annotations

import os
import shutil
import sys

BUSYBOX = "/bin/busybox"
DIRECTORIES = ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home",
               "var", "run", "mnt")


def make_rootfs(rootfs: str, busybox: str = BUSYBOX) -> str:
    """Fill `rootfs` with busybox, a symlink per applet, and minimal /etc files."""
    if not os.path.exists(busybox):
        from nsbox.errors import NotFound
        raise NotFound(f"{busybox} is missing: install Debian's busybox-static (apt-get install busybox-static)")
    for name in DIRECTORIES:
        os.makedirs(os.path.join(rootfs, name), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    shutil.copy2(busybox, os.path.join(rootfs, "bin/busybox"))
    import subprocess
    applets = subprocess.run([busybox, "--list-full"], check=True, capture_output=True, text=True).stdout.split()
    for applet in applets:
        link = os.path.join(rootfs, applet)
        if not os.path.lexists(link):
            os.symlink("/bin/busybox", link)
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
        "etc/group": "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
        "etc/hosts": "127.0.0.1\tlocalhost\n",
        "etc/resolv.conf": "nameserver 127.0.0.1\n",
    }
    for name, text in files.items():
        with open(os.path.join(rootfs, name), "w") as out:
            out.write(text)
    return rootfs


def make_bundle(bundle: str, args: list[str], terminal: bool = False) -> str:
    """An OCI bundle: rootfs/ from busybox and the default config.json running `args`."""
    import json

    from nsbox.oci.default_spec import default_spec
    make_rootfs(os.path.join(bundle, "rootfs"))
    spec = default_spec(args=args)
    spec["process"]["terminal"] = terminal
    spec["linux"]["cgroupsPath"] = os.environ.get("NSBOX_CGROUP_PARENT", "nsbox") + "/" + os.path.basename(bundle.rstrip("/"))
    with open(os.path.join(bundle, "config.json"), "w") as out:
        json.dump(spec, out, indent=2)
    return bundle


if __name__ == "__main__":
    make_bundle(sys.argv[1], sys.argv[2:] or ["sh"])
