"""nsbox info: the root, the counts of containers and images, cgroups, runtimes, networks."""
from __future__ import annotations

import sys


def main(argv: list[str], root: str) -> int:
    import os
    import shutil

    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    parse(argv, {}, "usage: nsbox info", stop_at_positional=False)
    engine = Engine(root)
    records = engine.list(include_stopped=True)
    states = [r["State"]["Status"] for r in records]
    try:
        from nsbox.image.store import ImageStore
        images = len(ImageStore(engine.root).images())
    except Exception:  # an unreadable image store must not hide the rest
        images = 0
    cgroup_version = "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"
    if cgroup_version == "1" and os.path.exists("/sys/fs/cgroup/unified"):
        cgroup_version = "1 (hybrid: v1 controllers plus a cgroup2 mount)"
    runtimes = ["nsbox"] + [name for name in ("runc", "crun") if shutil.which(name)]
    uname = os.uname()
    sys.stdout.write(
        f"Containers: {len(records)}\n"
        f" Running: {states.count('running')}\n Paused: {states.count('paused')}\n"
        f" Stopped: {len(states) - states.count('running') - states.count('paused')}\n"
        f"Images: {images}\n"
        f"Root Dir: {engine.root}\n"
        f"Run Dir: {engine.paths.run}\n"
        f"Storage Driver: overlay\n"
        f"Cgroup Version: {cgroup_version}\n"
        f"Cgroup Parent: {os.environ.get('NSBOX_CGROUP_PARENT') or '/nsbox'}\n"
        f"Runtimes: {' '.join(runtimes)}\n"
        f"Default Runtime: {os.environ.get('NSBOX_RUNTIME') or 'nsbox'}\n"
        f"Networks: none (the default until bridge networks come), host, container:NAME\n"
        f"Default Network: none\n"
        f"Kernel Version: {uname.release}\n"
        f"CPUs: {os.cpu_count()}\n")
    return 0
