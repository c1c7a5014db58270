"""`nsbox explain --host`: what this host offers containers, and for each missing piece
why it matters and how to add it (in the spirit of Docker's check-config.sh)."""
from __future__ import annotations

import os

from nsbox.explain.kernel import NAMESPACE_TYPES

CNI_PLUGINS = ("bridge", "host-local", "portmap", "bandwidth", "firewall", "loopback")
WANTED_CONTROLLERS = ("cpu", "memory", "pids", "io", "cpuset")  # v2 names; v1 blkio stands for io
V1_NAMES = {"io": "blkio"}


def host_report(root: str) -> dict:
    uname = os.uname()
    checks = [_cgroups(), *_namespaces(), _user_namespaces(), _overlayfs(), _seccomp(), _cni(), _forwarding()]
    return {"kernel": uname.release, "machine": uname.machine, "hostname": uname.nodename, "root": root,
            "cgroup_layout": _layout(), "checks": checks}


def _check(name: str, ok: bool, detail: str, fix: str = "", required: bool = True) -> dict:
    status = "ok" if ok else ("missing" if required else "warning")
    return {"name": name, "status": status, "detail": detail, "fix": "" if ok else fix}


def _layout() -> dict:
    from nsbox.cgroups import host
    v1, unified = host.mounts()
    layout: dict = {"mode": "v2" if not v1 else ("hybrid" if unified else "v1"),
              "v1": {controller: mount[0] for controller, mount in sorted(v1.items())},
              "v2_mount": unified[0] if unified else None, "v2_controllers": []}
    if unified:
        layout["v2_controllers"] = _read(os.path.join(unified[0], "cgroup.controllers")).split()
    return layout


def _cgroups() -> dict:
    layout = _layout()
    missing = [c for c in WANTED_CONTROLLERS
               if V1_NAMES.get(c, c) not in layout["v1"] and c not in layout["v2_controllers"]]
    detail = f"{layout['mode']}: " + (f"v1 controllers {', '.join(layout['v1'])}" if layout["v1"] else "") \
        + (f"; cgroup2 at {layout['v2_mount']} with {', '.join(layout['v2_controllers']) or 'no controllers'}"
           if layout["v2_mount"] else "")
    return _check("cgroups", not missing, detail + (f"; missing: {', '.join(missing)}" if missing else ""),
                  "limits need these controllers: on cgroup v2 enable them with "
                  "'echo +memory +cpu +pids +io > /sys/fs/cgroup/cgroup.subtree_control' (no systemd) or "
                  "Delegate=yes in a systemd unit; on v1 mount each hierarchy")


def _namespaces() -> list[dict]:
    rows = []
    for name, kind in NAMESPACE_TYPES.items():
        present = os.path.exists(f"/proc/self/ns/{name}")
        fix = "time namespaces need Linux 5.6 or later" if kind == "time" else \
            f"rebuild the kernel with CONFIG_{name.upper()}_NS"
        rows.append(_check(f"namespace {kind}", present, "available" if present else "this kernel has none",
                           fix, required=kind not in ("time", "cgroup")))
    return rows


def _user_namespaces() -> dict:
    limit = _read("/proc/sys/user/max_user_namespaces")
    unprivileged = _read("/proc/sys/kernel/unprivileged_userns_clone")
    detail = f"max_user_namespaces={limit or '?'}" + (f", unprivileged_userns_clone={unprivileged}"
                                                      if unprivileged else "")
    return _check("user namespaces", limit not in ("", "0"), detail,
                  "sysctl -w user.max_user_namespaces=15000 (needed for --userns remap and rootless)",
                  required=False)


def _overlayfs() -> dict:
    present = "\toverlay\n" in _read("/proc/filesystems") + "\n" or os.path.isdir("/sys/module/overlay")
    return _check("overlayfs", present, "image root filesystems are overlay mounts" if present else "not loaded",
                  "modprobe overlay")


def _seccomp() -> dict:
    actions = _read("/proc/sys/kernel/seccomp/actions_avail")
    from ctypes.util import find_library
    library = find_library("seccomp")
    ok = bool(actions) and library is not None
    detail = f"kernel actions: {actions or 'none'}; libseccomp: {library or 'not found'}"
    return _check("seccomp", ok, detail, "apt-get install libseccomp2 (and a kernel with CONFIG_SECCOMP_FILTER)")


def _cni() -> dict:
    from nsbox.network.cni import cni_path
    search = cni_path().split(":")
    directory = next((d for d in search if os.path.isdir(d)), search[0])
    missing = [p for p in CNI_PLUGINS if not os.access(os.path.join(directory, p), os.X_OK)]
    return _check("CNI plugins", not missing,
                  f"{directory}: " + ("all of " + ", ".join(CNI_PLUGINS) if not missing
                                      else "missing " + ", ".join(missing)),
                  "apt-get install containernetworking-plugins, or set NSBOX_CNI_PATH (bridge networks, the "
                  "default, need them; --network none and host work without)")


def _forwarding() -> dict:
    value = _read("/proc/sys/net/ipv4/ip_forward")
    return _check("IPv4 forwarding", value == "1", f"net.ipv4.ip_forward={value or '?'}",
                  "a bridge network turns it on when it first needs outbound traffic", required=False)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""
