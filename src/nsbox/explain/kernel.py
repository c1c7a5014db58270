"""Readers of what the kernel says about a process: its namespaces, its PIDs and users as
seen inside and outside, its mounts, its confinement and its network interfaces."""
from __future__ import annotations

import os

from nsbox.linux import proc

# /proc/PID/ns name -> the OCI namespace type, in the order people usually list them
NAMESPACE_TYPES = {"pid": "pid", "net": "network", "mnt": "mount", "uts": "uts", "ipc": "ipc",
                   "user": "user", "cgroup": "cgroup", "time": "time"}
# the namespace a process's children get: pid and time apply to children only
FOR_CHILDREN = {"pid": "pid_for_children", "time": "time_for_children"}


def namespaces(pid: int) -> list[dict]:
    """Each namespace type: the container's identity, the host's (this process's), and whether they differ."""
    rows = []
    for name, kind in NAMESPACE_TYPES.items():
        try:
            inside = os.readlink(f"/proc/{pid}/ns/{name}")
        except FileNotFoundError:
            continue  # a kernel without this namespace type
        host = os.readlink(f"/proc/self/ns/{name}")
        rows.append({"type": kind, "proc_name": name, "container": inside, "host": host,
                     "isolated": inside != host})
    return rows


def id_map(pid: int, kind: str) -> list[tuple[int, int, int]]:
    """/proc/PID/uid_map or gid_map: (first id inside, first id outside, count) ranges."""
    with open(f"/proc/{pid}/{kind}_map") as lines:
        return [(int(a), int(b), int(c)) for a, b, c in (line.split() for line in lines)]


def outside_id(inside: int, ranges: list[tuple[int, int, int]]) -> int | None:
    for first_inside, first_outside, count in ranges:
        if first_inside <= inside < first_inside + count:
            return first_outside + inside - first_inside
    return None


def process(pid: int) -> dict | None:
    """One process: host PID, PID in its own namespace, parent, users inside and on the host, command."""
    try:
        status = proc.status(pid)
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            command = cmdline.read().rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
        uid_ranges = id_map(pid, "uid")
    except OSError:
        return None  # exited meanwhile
    host_uid = int(status.get("Uid", "0").split()[0])
    # /proc/PID/status shows ids as the reader's user namespace sees them (the host's here);
    # the id inside is the one that maps to it.
    inside_uid = next((first_inside + host_uid - first_outside for first_inside, first_outside, count in uid_ranges
                       if first_outside <= host_uid < first_outside + count), None)
    return {"host_pid": pid, "container_pid": int(status.get("NSpid", str(pid)).split()[-1]),
            "ppid": int(status.get("PPid", "0")), "uid_inside": inside_uid, "uid_host": host_uid,
            "command": command or f"[{status.get('Name', '?')}]"}


def mountinfo(pid: int) -> list[dict]:
    """The process's mounts as its own mount namespace lists them."""
    mounts = []
    with open(f"/proc/{pid}/mountinfo") as lines:
        for line in lines:
            fields = line.split()
            sep = fields.index("-")
            mounts.append({"target": _unescape(fields[4]), "root": _unescape(fields[3]),
                           "options": fields[5], "type": fields[sep + 1], "source": _unescape(fields[sep + 2]),
                           "super_options": fields[sep + 3] if len(fields) > sep + 3 else ""})
    return mounts


def _unescape(text: str) -> str:
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def confinement(pid: int) -> dict:
    """Capability sets, seccomp mode and no_new_privs from /proc/PID/status."""
    from nsbox.linux.capabilities import names
    status = proc.status(pid)
    seccomp = {"0": "disabled", "1": "strict", "2": "filter"}.get(status.get("Seccomp", ""), "unknown")
    return {"capabilities": {kind: names(int(status.get(field, "0"), 16))
                             for kind, field in (("effective", "CapEff"), ("permitted", "CapPrm"),
                                                 ("bounding", "CapBnd"), ("inheritable", "CapInh"),
                                                 ("ambient", "CapAmb"))},
            "seccomp": seccomp, "seccomp_filters": int(status.get("Seccomp_filters", "0") or 0),
            "no_new_privs": status.get("NoNewPrivs") == "1"}


def interfaces(pid: int) -> list[dict]:
    """The interfaces of the process's network namespace with their addresses (ip -j, run
    inside that namespace by nsenter), and for a veth the host-side peer and its bridge."""
    inside = _ip_json(["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-j", "address", "show"])
    host_links = {link["ifindex"]: link for link in _ip_json(["ip", "-j", "link", "show"])}
    same_netns = os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net")
    rows = []
    for link in inside:
        row = {"name": link["ifname"], "state": link.get("operstate", ""), "mac": link.get("address", ""),
               "addresses": [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", [])]}
        peer_index = link.get("link_index")
        if peer_index is not None and not same_netns and link.get("link_netnsid") is not None:
            peer = host_links.get(peer_index)
            if peer is not None:
                row["host_peer"] = peer["ifname"]
                row["host_bridge"] = peer.get("master", "")
        rows.append(row)
    return rows


def _ip_json(command: list[str]) -> list[dict]:
    import json
    import subprocess
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return []
    return json.loads(result.stdout or "[]")
