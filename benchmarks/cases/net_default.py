"""Networks. Case `net-default`: `run --rm busybox /bin/true` on each tool's default
network: nsbox's bridge (a bridge of the run's own, NSBOX_BRIDGE), podman's bridge (a
network podman makes in a private network config dir: the default's shape, bridge +
portmap + firewall + tuning, on a bridge of its own rather than the host's cni-podman0),
docker's default bridge (a private dockerd WITH its bridge, docker0; --iptables=false,
since the NAT chains dockerd writes would outlive it on this shared machine).

Case `net-plugins`: where a bridged start's time goes: one exec of each CNI plugin as
nsbox calls it, against the in-process work it replaces (lo up by ioctl)."""
from __future__ import annotations

import os
import shlex
import subprocess
import time

from benchmarks.bench import Bench, stop, which
from benchmarks.harness import Case, Contender, Skip, quiet

BRIDGE = f"nsboxb{os.getpid():x}"
DOCKER_BRIDGE = "docker0"


def _own_bridge(bench: Bench) -> None:
    """nsbox's default network on this run's own bridge, removed at the end."""
    if os.environ.get("NSBOX_BRIDGE") == BRIDGE:
        return
    os.environ["NSBOX_BRIDGE"] = BRIDGE

    def remove() -> None:
        from nsbox.network import subnets
        from nsbox.network.manage import remove_bridge
        claim = subnets.claims().get(BRIDGE)
        if claim:
            remove_bridge(BRIDGE, claim["subnet"])
    bench.on_close(remove)


def _podman_network(bench: Bench) -> list[str]:
    from benchmarks.machine import network_snapshot
    before = network_snapshot()
    base = [*bench.podman, "--network-config-dir", os.path.join(bench.work, "podman-networks")]
    os.makedirs(base[-1], exist_ok=True)
    quiet([*base, "network", "create", "nsboxbench"])
    bridge = subprocess.run([*base, "network", "inspect", "nsboxbench", "--format",
                             "{{.NetworkInterface}}"], capture_output=True, text=True).stdout.strip()

    def remove() -> None:
        subprocess.run([*base, "network", "rm", "-f", "nsboxbench"], capture_output=True)
        if bridge and os.path.exists(f"/sys/class/net/{bridge}"):
            subprocess.run(["ip", "link", "delete", bridge], capture_output=True)
        remove_cni_leftovers(before, "nsboxbench")
    bench.on_close(remove)
    return base


# the CNI firewall plugin's chains, shared by every CNI network of the host
CNI_SHARED_CHAINS = ("CNI-FORWARD", "CNI-ADMIN")


def remove_cni_leftovers(before: set[str], network: str) -> None:
    """What podman's CNI plugins made since `before` and left: its bridges (cni-podman*) with
    no port left on them, the chains that name `network` (a container's NAT chain), and the
    firewall plugin's CNI-FORWARD and CNI-ADMIN when they hold no other network's rule.
    Whatever existed before stays, and so does what another user's containers still use."""
    from benchmarks.machine import network_snapshot
    new = network_snapshot() - before
    for item in sorted(new):
        name = item[5:]
        if item.startswith("link cni-podman") and not os.listdir(f"/sys/class/net/{name}/brif"):
            subprocess.run(["ip", "link", "delete", name], capture_output=True)
    chains = {tuple(item.split()[1:3]) for item in new if item.startswith("chain ") and item.split()[2].startswith("CNI-")}
    ours = [(table, chain) for table, chain in sorted(chains)  # a container's chains its DEL left
            if chain not in CNI_SHARED_CHAINS and any(network in rule for rule in _rules(table, chain))]
    for table, chain in ours:
        _remove_chain(table, chain)
    shared = [(table, chain) for table, chain in sorted(chains) if chain in CNI_SHARED_CHAINS]
    if shared and not [rule for table, chain in shared for rule in _rules(table, chain)
                       if not rule.endswith(CNI_SHARED_CHAINS) and network not in rule]:
        for table, chain in sorted(shared, key=lambda entry: CNI_SHARED_CHAINS.index(entry[1])):
            _remove_chain(table, chain)


def _remove_chain(table: str, chain: str) -> None:
    """Every rule that jumps to `chain`, then the chain itself."""
    for rule in _rules(table, None):
        if rule.split()[-1] == chain:
            subprocess.run(["iptables", "-w", "-t", table, "-D", *shlex.split(rule)[1:]], capture_output=True)
    subprocess.run(["iptables", "-w", "-t", table, "-F", chain], capture_output=True)
    subprocess.run(["iptables", "-w", "-t", table, "-X", chain], capture_output=True)


def _rules(table: str, chain: str | None) -> list[str]:
    """`iptables -S` rules (-A lines) of one chain, or of every chain of `table`."""
    listing = subprocess.run(["iptables", "-w", "-t", table, "-S", *([chain] if chain else [])],
                             capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if line.startswith("-A ")]


def _bridged_dockerd(bench: Bench) -> list[str]:
    """A private dockerd with its default bridge (docker0, made and removed here)."""
    which("dockerd")
    if os.path.exists(f"/sys/class/net/{DOCKER_BRIDGE}"):
        raise Skip(f"{DOCKER_BRIDGE} exists already on this host: another dockerd owns it")
    work = os.path.join(bench.work, "dockerd-bridged")
    os.makedirs(work, exist_ok=True)
    socket = os.path.join(work, "docker.sock")
    log = open(os.path.join(work, "dockerd.log"), "w")
    daemon = subprocess.Popen(
        ["dockerd", "--data-root", os.path.join(work, "data"), "--exec-root", os.path.join(work, "exec"),
         "-H", f"unix://{socket}", "--pidfile", os.path.join(work, "docker.pid"), "--bip", "172.31.254.1/24",
         "--iptables=false", "--ip6tables=false", "--storage-driver", "overlay2",
         "--cgroup-parent", f"{bench.parent}/docker-bridged", "--containerd-namespace", f"{bench.parent}-bridged",
         "--containerd-plugins-namespace", f"{bench.parent}-bridged-plugins"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    base = ["docker", "-H", f"unix://{socket}"]

    def close() -> None:
        ids = subprocess.run([*base, "ps", "-aq"], capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run([*base, "rm", "-f", *ids], capture_output=True)
        stop(daemon)
        log.close()
        from benchmarks.harness import pids_matching
        for pid in pids_matching("containerd", os.path.join(work, "exec")):
            os.kill(pid, 9)
        if os.path.exists(f"/sys/class/net/{DOCKER_BRIDGE}"):
            subprocess.run(["ip", "link", "delete", DOCKER_BRIDGE], capture_output=True)
    bench.on_close(close)
    deadline = time.monotonic() + 90
    while subprocess.run([*base, "version"], capture_output=True).returncode != 0:
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise Skip(f"dockerd did not start (see {work}/dockerd.log)")
        time.sleep(0.2)
    quiet([*base, "import", bench.rootfs_tar, "busybox:bench"])
    return base


def default_network(bench: Bench) -> list[Contender]:
    _own_bridge(bench)
    found = [Contender("nsbox", argv=[*bench.nsbox, "run", "--rm", "busybox", "/bin/true"])]
    try:
        podman = _podman_network(bench)
        found.append(Contender("podman", argv=[*podman, "run", "--rm", "--network", "nsboxbench",
                                               *bench.podman_run_flags, "localhost/busybox", "/bin/true"]))
    except (Skip, RuntimeError) as why:
        bench.log(f"    podman: {why}")
    try:
        docker = _bridged_dockerd(bench)
        found.append(Contender("docker", argv=[*docker, "run", "--rm", "busybox:bench", "/bin/true"]))
    except (Skip, RuntimeError) as why:
        bench.log(f"    docker: {why}")
    found.append(Contender("nsbox --network none", argv=[*bench.nsbox, "run", "--rm", "--network", "none",
                                                          "busybox", "/bin/true"]))
    return found


def remove_unused_portmap_chains() -> None:
    from nsbox.network.ports import remove_unused_portmap_chains as remove
    remove()


def plugin_costs(bench: Bench) -> list[Contender]:
    """Each plugin as nsbox calls it, in a namespace made untimed before each sample."""
    from nsbox.linux import libc
    from nsbox.linux.namespaces import CLONE_NEWNET
    from nsbox.linux.netdev import set_up
    from nsbox.network import cni, conflists, netns
    _own_bridge(bench)
    conflist = conflists.load(os.path.join(bench.work, "nsbox"), "bridge") if bench.nsbox else {}
    bridge, portmap, bandwidth = conflist["plugins"]
    sandbox = os.path.join(bench.work, "netns-plugins")
    call = cni.Call("f" * 64, sandbox, "eth0", runtime_config={
        "portMappings": [{"hostPort": 47999, "containerPort": 80, "protocol": "tcp", "hostIP": "127.0.0.1"}]})

    def fresh(_index: int) -> None:
        netns.remove(sandbox)
        os.close(os.open(sandbox, os.O_CREAT | os.O_RDONLY, 0o444))
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        libc.unshare(CLONE_NEWNET)
        libc.mount("/proc/thread-self/ns/net", sandbox, None, netns.MS_BIND)
        libc.setns(home, CLONE_NEWNET)
        os.close(home)

    def lo_ioctl(_index: int) -> float:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(sandbox, os.O_RDONLY)
        started = time.perf_counter()
        libc.setns(target, CLONE_NEWNET)
        set_up("lo")
        libc.setns(home, CLONE_NEWNET)
        took = time.perf_counter() - started
        os.close(home)
        os.close(target)
        return took

    def plugin(config: dict, command: str = "ADD", setup=None):
        def step(_index: int) -> float:
            previous = setup() if setup else None
            started = time.perf_counter()
            cni.run_plugin(command, cni.plugin_config(conflist, config, call, previous), call)
            return time.perf_counter() - started
        return step

    def bridge_added() -> dict:
        return cni.run_plugin("ADD", cni.plugin_config(conflist, bridge, call, None), call)

    def cleanup(_index: int) -> None:
        cni.delete(conflist, call, None)
        netns.remove(sandbox)

    def del_namespace_gone(_index: int) -> float:
        """DEL as nsbox calls it when no process is left in the namespace: unmounted first
        (untimed: the kernel deletes the veth in the background), CNI_NETNS empty."""
        added = bridge_added()
        netns.remove(sandbox)
        gone = cni.Call(call.container_id, "", call.ifname)
        started = time.perf_counter()
        cni.run_plugin("DEL", cni.plugin_config(conflist, bridge, gone, added), gone)
        return time.perf_counter() - started

    loopback = {"type": "loopback"}
    return [Contender("lo up: ioctl in process", step=lo_ioctl, before=fresh, after=cleanup),
            Contender("loopback plugin ADD", step=plugin(loopback), before=fresh, after=cleanup),
            Contender("bridge ADD (+host-local)", step=plugin(bridge), before=fresh, after=cleanup),
            Contender("bridge DEL (+host-local)", step=plugin(bridge, "DEL", bridge_added), before=fresh,
                      after=cleanup),
            Contender("bridge DEL, namespace gone (nsbox's)", step=del_namespace_gone, before=fresh, after=cleanup),
            Contender("portmap ADD (one port)", step=plugin(portmap, "ADD", bridge_added), before=fresh,
                      after=cleanup, teardown=remove_unused_portmap_chains),  # (the plugin never removes them)
            Contender("bandwidth ADD (no cap)", step=plugin(bandwidth, "ADD", bridge_added), before=fresh,
                      after=cleanup),
            Contender("any plugin exec: VERSION", step=plugin(bridge, "VERSION"), before=fresh, after=cleanup)]


CASES = [Case("net-default", "run --rm busybox /bin/true on each tool's default network", default_network,
              order=30, runs=15, budget=30),
         Case("net-plugins", "one CNI plugin exec each, as nsbox calls them (and lo up in process)", plugin_costs,
              order=31, baseline="lo up: ioctl in process", runs=10, budget=10)]
