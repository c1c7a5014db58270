"""nsbox info: the root, the counts of containers and images, cgroups, runtimes, networks;
with --format, those as Docker's info fields ('{{.Containers}}', '{{.DockerRootDir}}', '{{json .}}')."""
from __future__ import annotations

import sys


def facts(engine) -> dict:
    """What `info` tells, under Docker's field names."""
    import os
    import shutil
    records = engine.list(include_stopped=True)
    states = [r["State"]["Status"] for r in records]
    try:
        from nsbox.image.store import ImageStore
        images = len(ImageStore(engine.root).images())
    except Exception:  # an unreadable image store must not hide the rest
        images = 0
    cgroup_version = "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"
    uname = os.uname()
    from nsbox.cli.version import nsbox_version
    return {"Containers": len(records), "ContainersRunning": states.count("running"),
            "ContainersPaused": states.count("paused"),
            "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
            "Images": images, "Driver": "overlay", "DockerRootDir": engine.root, "RunDir": engine.paths.run,
            "CgroupDriver": "cgroupfs", "CgroupVersion": cgroup_version,
            "CgroupParent": os.environ.get("NSBOX_CGROUP_PARENT") or "/nsbox",
            "Runtimes": {name: {"path": name} for name in ["nsbox"] + [n for n in ("runc", "crun") if shutil.which(n)]},
            "DefaultRuntime": os.environ.get("NSBOX_RUNTIME") or "nsbox", "KernelVersion": uname.release,
            "OperatingSystem": _os_name(), "OSType": uname.sysname.lower(), "Architecture": uname.machine,
            "NCPU": os.cpu_count(), "Name": uname.nodename, "ServerVersion": nsbox_version(),
            **_network_facts(engine.root)}


FORWARDING = {True: "on (bridge networks route their containers' outbound traffic)",
              False: "off (the bridge plugin turns it on at the first bridged container)"}


FORWARDING6 = {True: "on (set on this host; nsbox never turns it on)",
               False: "off (nsbox never turns it on: IPv6 is for macvlan and ipvlan networks, which need none)"}


def _network_facts(root: str) -> dict:
    import os
    from nsbox.network import conflists
    from nsbox.network.cni import cni_path
    with open("/proc/sys/net/ipv4/ip_forward") as flag:
        forwarding = flag.read().strip() == "1"
    try:
        with open("/proc/sys/net/ipv6/conf/all/forwarding") as flag:
            forwarding6 = flag.read().strip() == "1"
    except FileNotFoundError:  # a kernel without IPv6
        forwarding6 = False
    return {"Networks": conflists.names(root) + ["host", "none"], "DefaultNetwork": "bridge",
            "DefaultBridge": os.environ.get("NSBOX_BRIDGE") or conflists.DEFAULT_BRIDGE,
            "CNIConfigDir": conflists.config_dir(root), "CNIPath": cni_path(), "IPForwarding": forwarding,
            "IPv6Forwarding": forwarding6}


def _os_name() -> str:
    try:
        with open("/etc/os-release") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import Command, flag, parse
    from nsbox.engine.containers import Engine
    command = Command("nsbox info [OPTIONS]", "What this nsbox and its host offer.",
                      flag("-f --format FORMAT", "json, or a Go template"))
    options, _ = parse(argv, command, stop_at_positional=False)
    shown = facts(Engine(root))
    form = options.get("format")
    if form:
        from nsbox.cli.formatting import render_each
        sys.stdout.write(render_each("{{json .}}" if form == "json" else form, [shown]))
        return 0
    hybrid = shown["CgroupVersion"] == "1" and __import__("os").path.exists("/sys/fs/cgroup/unified")
    sys.stdout.write(
        f"Containers: {shown['Containers']}\n"
        f" Running: {shown['ContainersRunning']}\n Paused: {shown['ContainersPaused']}\n"
        f" Stopped: {shown['ContainersStopped']}\n"
        f"Images: {shown['Images']}\n"
        f"Root Dir: {shown['DockerRootDir']}\n"
        f"Run Dir: {shown['RunDir']}\n"
        f"Storage Driver: overlay\n"
        f"Cgroup Version: {shown['CgroupVersion']}{' (hybrid: v1 controllers plus a cgroup2 mount)' if hybrid else ''}\n"
        f"Cgroup Parent: {shown['CgroupParent']}\n"
        f"Runtimes: {' '.join(shown['Runtimes'])}\n"
        f"Default Runtime: {shown['DefaultRuntime']}\n"
        f"Networks: {' '.join(shown['Networks'])} (and container:NAME)\n"
        f"Default Network: bridge (Linux bridge {shown['DefaultBridge']})\n"
        f"CNI Config Dir: {shown['CNIConfigDir']}\n"
        f"CNI Path: {shown['CNIPath']}\n"
        f"IP Forwarding: {FORWARDING[shown['IPForwarding']]}\n"
        f"IPv6 Forwarding: {FORWARDING6[shown['IPv6Forwarding']]}\n"
        f"Kernel Version: {shown['KernelVersion']}\n"
        f"CPUs: {shown['NCPU']}\n")
    return 0
