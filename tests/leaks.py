"""What a test may leave behind, snapshotted before and compared after each test.

The suite's promise: no stray mount, cgroup, process or state file after any test.
"""
from __future__ import annotations

import os

CGROUP_ROOT = "/sys/fs/cgroup"


def host_mounts() -> set[str]:
    """Mount points of the host's mount namespace (the test runner's)."""
    with open("/proc/self/mountinfo") as info:
        return {line.split()[4] for line in info}


def cgroup_dirs(parent: str) -> set[str]:
    """Every cgroup directory below the tests' relative cgroup parent, in every hierarchy,
    and below the same name at each hierarchy's root (where a tool that reads the
    parent as absolute would put it: the machine's own cgroups must stay untouched)."""
    found: set[str] = set()
    for hierarchy, base in own_cgroup_bases().items():
        for top in {os.path.join(CGROUP_ROOT, hierarchy, base.lstrip("/"), parent),
                    os.path.join(CGROUP_ROOT, hierarchy, parent)}:
            if top != os.path.join(CGROUP_ROOT, hierarchy, base.lstrip("/"), parent) and os.path.isdir(top):
                found.add(top)
            for dirpath, dirnames, _ in os.walk(top):
                for name in dirnames:
                    found.add(os.path.join(dirpath, name))
    return found


def own_cgroup_bases() -> dict[str, str]:
    """hierarchy directory under /sys/fs/cgroup -> this process's cgroup path in it."""
    bases: dict[str, str] = {}
    with open("/proc/self/cgroup") as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers == "":
                name = "unified" if os.path.isdir(os.path.join(CGROUP_ROOT, "unified")) else ""
            else:
                name = controllers.replace("name=", "")
                if not os.path.isdir(os.path.join(CGROUP_ROOT, name)):
                    continue
            bases[name] = path
    return bases


def processes_below(directory: str) -> set[int]:
    """PIDs whose root or cwd is inside `directory` (containers started from test bundles)."""
    pids: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        for link in ("root", "cwd", "exe"):
            try:
                target = os.readlink(f"/proc/{entry}/{link}")
            except OSError:
                continue
            if target.startswith(directory):
                pids.add(int(entry))
    return pids


def remove_cgroup_tree(relative: str) -> None:
    """Remove an (empty) cgroup directory tree below this process's cgroup, in every hierarchy."""
    for hierarchy, base in own_cgroup_bases().items():
        top = os.path.join(CGROUP_ROOT, hierarchy, base.lstrip("/"), relative)
        for dirpath, _, _ in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


# The interop tests' daemons keep state and sockets in /run/<this prefix>...: one per test
# session, so that a check sees only its own (other sessions may run the same tests).
DAEMON_STATE_PREFIX = f"nsbox-test-{os.getpid()}-"
# cgroups a daemon makes at a hierarchy's root when it reads a parent as absolute
DAEMON_CGROUP_NAMES = ("docker", "conmon", "libpod_parent", "podman", "containerd", "k8s.io", "moby", "default",
                       "kubepods", "system.slice", "machine.slice")


def daemon_state_dirs() -> set[str]:
    return {os.path.join("/run", name) for name in os.listdir("/run") if name.startswith(DAEMON_STATE_PREFIX)}


def root_cgroups(names: tuple[str, ...] = DAEMON_CGROUP_NAMES) -> set[str]:
    """Directories with these names at the root of each cgroup hierarchy."""
    found = set()
    for hierarchy in os.listdir(CGROUP_ROOT):
        for name in names:
            path = os.path.join(CGROUP_ROOT, hierarchy, name)
            if os.path.isdir(path):
                found.add(path)
    return found


def processes_naming(paths: set[str]) -> set[int]:
    """PIDs whose command line names one of `paths` (a daemon or shim started for them)."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                text = cmdline.read().decode(errors="replace")
        except OSError:
            continue
        if any(path in text for path in paths):
            pids.add(int(entry))
    return pids


def subordinate_ids() -> tuple[bytes, bytes]:
    """The host's /etc/subuid and /etc/subgid, which only `--userns remap` outside tests writes."""
    contents = []
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            with open(path, "rb") as f:
                contents.append(f.read())
        except FileNotFoundError:
            contents.append(b"")
    return contents[0], contents[1]


# Networks. Every test session has its own default bridge (NSBOX_BRIDGE, set by
# tests/conftest.py) and thus its own subnet, so what other suites running beside this
# one make never counts here.
NETWORK_STATE = "/run/nsbox-network"


# Links a test makes on the host itself (a veth pair as a macvlan parent): this session's prefix.
TEST_LINK_PREFIX = f"nsbx{os.getpid():x}"


def test_links() -> set[str]:
    """This session's test-made host links still there (and macvlan/ipvlan links on them)."""
    return {name for name in os.listdir("/sys/class/net") if name.startswith(TEST_LINK_PREFIX)}


def bridge_ports(bridge: str) -> set[str]:
    """veth ends still attached to `bridge` (a container's left-over host side)."""
    try:
        return set(os.listdir(f"/sys/class/net/{bridge}/brif"))
    except FileNotFoundError:
        return set()


def settled_bridge_ports(bridge: str, timeout: float = 5.0) -> set[str]:
    """bridge_ports once the namespaces that ended have taken their veths along: nsbox
    unmounts an unused namespace and lets the kernel delete its interfaces, which it does in
    the background some ms later (`timeout` bounds the wait, for a veth that really stays)."""
    import time
    deadline = time.monotonic() + timeout
    while bridge_ports(bridge) and time.monotonic() < deadline:
        time.sleep(0.02)
    return bridge_ports(bridge)


def ipam_reservations(bridge: str) -> set[str]:
    """Addresses host-local still holds on `bridge` (one file per address)."""
    found: set[str] = set()
    top = os.path.join(NETWORK_STATE, "ipam", bridge)
    for directory, _, files in os.walk(top):
        found |= {os.path.join(directory, name) for name in files if name[0].isdigit()}
    return found


def network_claims(owner_part: str) -> set[str]:
    """Bridges claimed host-wide by networks of roots below `owner_part` (user networks not removed)."""
    import json
    found: set[str] = set()
    directory = os.path.join(NETWORK_STATE, "bridges")
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        try:
            with open(os.path.join(directory, name)) as claim:
                if owner_part in json.load(claim).get("owner", ""):
                    found.add(name)
        except (OSError, ValueError):
            continue
    return found


def bridge_subnet(bridge: str) -> str:
    """The subnet claimed for `bridge` ("" if none is)."""
    import json
    try:
        with open(os.path.join(NETWORK_STATE, "bridges", bridge)) as claim:
            return json.load(claim)["subnet"]
    except (OSError, ValueError, KeyError):
        return ""


def firewall_rules(words: set[str]) -> set[str]:
    """iptables rules (any table) that name one of `words` (a subnet's addresses, a bridge)."""
    import subprocess
    if not words:
        return set()
    completed = subprocess.run(["iptables-save"], capture_output=True, text=True)
    return {line for line in completed.stdout.splitlines() if any(word in line for word in words)}


def unclaimed_chains() -> set[str]:
    """nsbox's per-bridge firewall chains (NSBOX-<bridge>, any table) whose bridge has no
    host-wide claim: a network removed without its chains (a claim outlives its chains both
    when a network is made and when it is removed)."""
    import subprocess
    directory = os.path.join(NETWORK_STATE, "bridges")
    claimed = set(os.listdir(directory)) if os.path.isdir(directory) else set()
    listing = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    return {line[1:].split()[0] for line in listing.splitlines()
            if line.startswith(":NSBOX-") and line[1:].split()[0][len("NSBOX-"):] not in claimed}


def netns_files(directory: str) -> set[str]:
    """Network namespace files (bind mounts of nsfs) below `directory`."""
    with open("/proc/self/mountinfo") as info:
        return {line.split()[4] for line in info
                if line.split()[4].startswith(directory) and " nsfs " in line}
