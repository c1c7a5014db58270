"""The manual commands, in the terms of util-linux and iproute2, that would build a container
like this one by hand (`build`) and that enter the running one (`enter`).

They are a working recipe, not a transcript of nsbox's syscalls: nsbox does the same with
unshare/setns, mount and pivot_root directly, in one process tree."""
from __future__ import annotations

import os
import shlex

# OCI namespace type -> the flag of unshare(1) and of nsenter(1)
UNSHARE_FLAGS = {"pid": "--pid", "network": "--net", "mount": "--mount", "uts": "--uts", "ipc": "--ipc",
                 "user": "--user", "cgroup": "--cgroup", "time": "--time"}
NSENTER_FLAGS = {"mount": "-m", "uts": "-u", "ipc": "-i", "network": "-n", "pid": "-p", "user": "-U",
                 "cgroup": "-C", "time": "-T"}


def commands(report: dict, spec: dict) -> dict:
    """{"build": [shell lines], "enter": [shell lines]} for a report of container.py or plan.py."""
    return {"build": build(report, spec), "enter": enter(report)}


def isolated_types(report: dict) -> list[str]:
    return [row["type"] for row in report["namespaces"] if row["isolated"]]


def enter(report: dict) -> list[str]:
    """nsenter into the running container's namespaces: a shell, and one-shot examples."""
    pid = report["container"].get("host_pid")
    if not pid:
        return []
    flags = " ".join(NSENTER_FLAGS[kind] for kind in ("mount", "uts", "ipc", "network", "pid", "user", "cgroup")
                     if kind in isolated_types(report))
    return [f"nsenter -t {pid} {flags} sh",
            f"nsenter -t {pid} -u hostname",
            f"nsenter -t {pid} -p -m ps",
            f"cat /proc/{pid}/status | grep -E '^(NSpid|Cap|Seccomp|NoNewPrivs)'"]


def build(report: dict, spec: dict) -> list[str]:
    """bash lines: variables, cgroups (mkdir, echo limits), the root filesystem, the network,
    then a subshell that joins the cgroups and unshares into the namespaces."""
    container_id = report["container"].get("id") or ""
    root = report["rootfs"]["root"]
    short = _shortener(container_id)
    cgroup_dirs = [short(d["directory"]) for d in report["cgroups"]["directories"]]
    new_id = "$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)"
    lines = [f"export ID={container_id or new_id}", f"export ROOTFS={short(root.get('host_path') or '')}",
             f'export CGROUPS="{" ".join(cgroup_dirs)}"', "mkdir -p $CGROUPS"]
    lines += _cpuset_lines(report, spec, short) + _delegation_lines(report, spec, short)
    for limit in report["cgroups"]["limits"]:
        lines.append(f"echo {shlex.quote(limit['wrote'])} > {short(limit['file'])}")
    overlay = root.get("overlay")
    if overlay:
        lines.append(f"mkdir -p {short(overlay['upperdir'])} {short(overlay['workdir'])} $ROOTFS")
        lines.append(f"mount -t overlay overlay -o lowerdir={':'.join(overlay['lowerdir'])},"
                     f"upperdir={short(overlay['upperdir'])},workdir={short(overlay['workdir'])} $ROOTFS")
    kinds = isolated_types(report)
    network_lines = _network_lines(report, kinds)
    lines.extend(network_lines)
    flags = [UNSHARE_FLAGS[kind] for kind in ("pid", "network", "mount", "uts", "ipc", "user", "cgroup", "time")
             if kind in kinds and not (kind == "network" and network_lines)]
    if "user" in kinds:
        flags.append("--map-root-user")
    if "pid" in kinds:
        flags += ["--fork", "--mount-proc=$ROOTFS/proc"]
    inside = []
    hostname = spec.get("hostname")
    if hostname and "uts" in kinds:
        # a planned container's hostname is its ID's first 12 characters, known only at create
        inside.append("hostname " + ("$(echo $ID | cut -c1-12)" if hostname == "$ID" else shlex.quote(hostname))
                      + " && ")
    inside.append("exec chroot \"$ROOTFS\" " + shlex.join(spec.get("process", {}).get("args") or []))
    prefix = "ip netns exec NS " if network_lines else ""
    # a subshell joins the cgroups first, so that everything unshare forks is counted there
    lines += ["(for dir in $CGROUPS; do echo $BASHPID > $dir/cgroup.procs; done",
              f" exec {prefix}unshare {' '.join(flags)} \\",
              "    sh -c " + shlex.quote("".join(inside)) + ")"]
    return lines


def _cpuset_lines(report: dict, spec: dict, short) -> list[str]:
    """A new v1 cpuset cgroup has no CPUs and memory nodes and refuses processes until it is given
    its parent's: each level nsbox makes (those of linux.cgroupsPath) copies them, top down."""
    depth = len([part for part in spec.get("linux", {}).get("cgroupsPath", "").split("/") if part])
    lines = []
    for directory in report["cgroups"]["directories"]:
        if directory["hierarchy"] == "unified" or "cpuset" not in directory["controllers"]:
            continue
        levels = [directory["directory"]]
        for _ in range(depth - 1):
            levels.insert(0, levels[0].rsplit("/", 1)[0])
        lines.append(f"for d in {' '.join(short(level) for level in levels)}; do "
                     "cat $d/../cpuset.cpus > $d/cpuset.cpus; cat $d/../cpuset.mems > $d/cpuset.mems; done")
    return lines


def _delegation_lines(report: dict, spec: dict, short) -> list[str]:
    """On cgroup v2 a controller's files exist in a cgroup only when its parent delegates the
    controller (cgroup.subtree_control): each level nsbox makes hands down the ones the limits use."""
    if report["cgroups"]["layout"] != "v2":
        return []
    wanted = sorted({os.path.basename(limit["file"]).split(".")[0] for limit in report["cgroups"]["limits"]})
    leaf = next((d["directory"] for d in report["cgroups"]["directories"] if d["hierarchy"] == "unified"), None)
    depth = len([part for part in spec.get("linux", {}).get("cgroupsPath", "").split("/") if part])
    if not wanted or leaf is None:
        return []
    levels = [leaf.rsplit("/", step)[0] for step in range(depth, 0, -1)]
    controllers = " ".join("+" + name for name in wanted)
    return [f"for d in {' '.join(short(level) for level in levels)}; do echo '{controllers}' > $d/cgroup.subtree_control; done"]


def _shortener(container_id: str):
    """Paths with the container's ID written as $ID, so that the lines stay readable."""
    def short(path: str) -> str:
        return path.replace(container_id, "$ID") if container_id else path
    return short


def _network_lines(report: dict, kinds: list[str]) -> list[str]:
    """ip commands for a veth pair into a named network namespace, as the bridge network made it."""
    network = report.get("network") or {}
    lines = []
    for interface in network.get("interfaces", []):
        peer = interface.get("host_peer")
        if not peer or "network" not in kinds:
            continue
        lines.append("ip netns add NS")
        lines.append(f"ip link add {peer} type veth peer name {interface['name']} netns NS")
        if interface.get("host_bridge"):
            lines.append(f"ip link set {peer} master {interface['host_bridge']} up")
        for address in interface.get("addresses", []):
            if not address.startswith("fe80:"):  # the kernel gives the link-local address itself
                lines.append(f"ip -n NS address add {address} dev {interface['name']}")
        lines.append(f"ip -n NS link set {interface['name']} up; ip -n NS link set lo up")
        if network.get("gateway"):
            lines.append(f"ip -n NS route add default via {network['gateway']}")
    return lines
