"""The machine a run measured: cores, kernel, cgroup layout, load, each tool's version;
the anchors installed from Debian when missing; and what a run left behind."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess

ANCHORS = {"runc": "runc", "crun": "crun", "podman": "podman", "containerd": "containerd", "dockerd": "docker.io",
           "skopeo": "skopeo", "docker-registry": "docker-registry"}
VERSION_COMMANDS = {"runc": ["runc", "--version"], "crun": ["crun", "--version"], "podman": ["podman", "--version"],
                    "containerd": ["containerd", "--version"], "dockerd": ["dockerd", "--version"],
                    "docker": ["docker", "--version"], "skopeo": ["skopeo", "--version"]}
CGROUP_ROOT = "/sys/fs/cgroup"


def install_anchors(log=print) -> None:
    """apt-get install the Debian packages of the tools compared against, when missing."""
    missing = sorted({package for tool, package in ANCHORS.items() if not shutil.which(tool)})
    if missing:
        log(f"installing {' '.join(missing)} from Debian ...")
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), capture_output=True)


def install_bench_extra(log=print) -> None:
    """pip install the `bench` extra (matplotlib for the chart, what cases compare against)
    into this venv when one of its packages is missing."""
    import importlib.metadata
    import sys
    import tomllib
    repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(repository, "pyproject.toml"), "rb") as project:  # the venv's metadata may be older
        wanted = tomllib.load(project)["project"]["optional-dependencies"].get("bench", [])
    missing = []
    for requirement in wanted:
        name = requirement.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip()
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        log(f"installing the bench extra ({', '.join(missing)}) ...")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", f"{repository}[bench]"], capture_output=True)
        # pip wrote its own launchers for nsbox (site, import re): nsbox's go back
        subprocess.run(["bash", os.path.join(repository, "scripts", "launchers.sh")], check=True)


def nsbox_launchers(log=print) -> None:
    """Put nsbox's own launchers back if a `pip install -e .` replaced them with pip's, which
    run site and import re (~7 ms more per nsbox command): the figures are nsbox's as
    scripts/setup.sh installs it, never a slower launcher's."""
    repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    replaced = pip_launchers(os.path.join(repository, ".venv", "bin"))
    if replaced:
        log(f"{', '.join(replaced)}: pip's launchers: putting nsbox's back (scripts/launchers.sh)")
        subprocess.run(["bash", os.path.join(repository, "scripts", "launchers.sh")], check=True)


def pip_launchers(bin_directory: str) -> list[str]:
    """Which of nsbox's launchers in `bin_directory` are not nsbox's own (`python -S`)."""
    found = []
    for name in ("nsbox", "nsbox-runtime"):
        try:
            with open(os.path.join(bin_directory, name)) as launcher:
                first = launcher.readline()
        except OSError:
            continue
        if not first.rstrip().endswith(" -S"):
            found.append(name)
    return found


def cgroup_layout() -> str:
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
        return "v2"
    return "hybrid (v1 controllers + cgroup2 at unified)" if os.path.isdir(os.path.join(CGROUP_ROOT, "unified")) else "v1"


def description() -> dict:
    """What the figures were measured on, with every tool's version."""
    versions = {}
    for tool, argv in VERSION_COMMANDS.items():
        if shutil.which(argv[0]):
            output = subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()
            line = output[0] if output else "?"
            versions[tool] = line.removeprefix(argv[0] + " ").removeprefix("version ").removeprefix("Docker version ")
    import sys
    versions["python"] = sys.version.split()[0]
    return {"cores": os.cpu_count(), "kernel": platform.release(), "cgroups": cgroup_layout(), "versions": versions}


def own_cgroups() -> dict[str, str]:
    """hierarchy directory -> this process's cgroup in it."""
    found = {}
    with open("/proc/self/cgroup") as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            name = "unified" if controllers == "" else controllers.replace("name=", "")
            if os.path.isdir(os.path.join(CGROUP_ROOT, name)):
                found[name] = path
    return found


def cgroup_snapshot() -> set[str]:
    """The cgroup directories at each hierarchy's root and right below this process's own
    cgroup: where a tool's leftovers would show."""
    found = set()
    for hierarchy, own in own_cgroups().items():
        for top in {os.path.join(CGROUP_ROOT, hierarchy), os.path.join(CGROUP_ROOT, hierarchy, own.lstrip("/"))}:
            try:
                found.update(entry.path for entry in os.scandir(top) if entry.is_dir())
            except OSError:
                continue
    return found


def remove_cgroup_tree(name: str) -> list[str]:
    """rmdir every cgroup directory called `name` (and below it) at each hierarchy's root and
    below this process's own cgroup, deepest first; a process still in one (the run's own:
    every tool's containers go there) is killed first. Returns what it killed."""
    import signal
    killed = []
    for hierarchy, own in own_cgroups().items():
        for top in {os.path.join(CGROUP_ROOT, hierarchy, name), os.path.join(CGROUP_ROOT, hierarchy, own.lstrip("/"), name)}:
            for directory, _, _ in os.walk(top):
                try:
                    with open(os.path.join(directory, "cgroup.procs")) as procs:
                        pids = [int(pid) for pid in procs.read().split()]
                except OSError:
                    continue
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(f"process {pid} in {directory}")
                    except ProcessLookupError:
                        pass
    if killed:
        import time
        time.sleep(0.5)
    for hierarchy, own in own_cgroups().items():
        for top in {os.path.join(CGROUP_ROOT, hierarchy, name), os.path.join(CGROUP_ROOT, hierarchy, own.lstrip("/"), name)}:
            for directory, _, _ in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
                try:
                    os.rmdir(directory)
                except OSError:
                    pass
    return killed


# where the tools compared put cgroups when told nothing (or when they read a relative
# parent as absolute): podman's conmon, docker, containerd's namespaces, nsbox's default
TOOL_CGROUP_NAMES = ("libpod_parent", "machine.slice", "system.slice", "docker", "moby", "default", "k8s.io",
                     "nsbox", "podman")


# network interfaces and firewall chains the compared tools make (podman's CNI bridge,
# dockerd's, the CNI plugins' chains, nsbox's own bridges and chains)
TOOL_LINK_PREFIXES = ("cni-podman", "podman", "docker", "br-", "nsboxb")
TOOL_CHAIN_PREFIXES = ("CNI-", "DOCKER", "NETAVARK", "NSBOX-nsboxb", "NSBOX-nsbox0")  # (not the test suites' nsboxt*)


def network_snapshot() -> set[str]:
    """The host's network interfaces and iptables chains (filter, nat, mangle), as
    "link NAME" and "chain TABLE NAME": where a tool's network leftovers would show."""
    import subprocess
    found = {f"link {name}" for name in os.listdir("/sys/class/net")}
    for table in ("filter", "nat", "mangle"):
        try:
            text = subprocess.run(["iptables-save", "-t", table], capture_output=True, text=True).stdout
        except OSError:  # no iptables here: no chains to leave
            break
        found.update(f"chain {table} {line[1:].split()[0]}" for line in text.splitlines() if line.startswith(":"))
    return found


def snapshot() -> set[str]:
    """Everything `leftovers` compares: cgroups, network interfaces, firewall chains."""
    return cgroup_snapshot() | network_snapshot()


def leftovers(before: set[str], work: str, parent: str) -> list[str]:
    """What the run left behind: new cgroups named after the run or a compared tool at a
    hierarchy's root or below this process's own cgroup, new network interfaces and
    iptables chains of the kinds the tools make (other new ones belong to whoever else uses
    the machine meanwhile: not reported; a chain of the CNI plugins another user's container
    still holds at the end may be reported, and says so), mounts under the work directory,
    processes of the tools started from it."""
    names = (parent, *TOOL_CGROUP_NAMES)
    new = sorted(snapshot() - before)
    found = [f"cgroup {path}" for path in new if path.startswith("/") and os.path.basename(path) in names]
    found += [f"network interface {item[5:]}" for item in new
              if item.startswith("link ") and item[5:].startswith(TOOL_LINK_PREFIXES)]
    found += [f"iptables {item[6:]} (or another user's on this shared machine)" for item in new
              if item.startswith("chain ") and item.split()[2].startswith(TOOL_CHAIN_PREFIXES)]
    with open("/proc/self/mountinfo") as info:
        found += [f"mount {line.split()[4]}" for line in info if line.split()[4].startswith(work)]
    from benchmarks.harness import pids_matching
    found += [f"process {pid}" for pid in pids_matching(work)]
    return found
