"""The flags of `nsbox run` and `nsbox create` (Docker's names), declared for nsbox.flags."""
from __future__ import annotations

from nsbox.flags import Command, flag, parse

RUN_FLAGS = (
    flag("-d --detach", "run in the background under a monitor; print the container ID"),
    flag("-i --interactive", "keep stdin open"),
    flag("-t --tty", "allocate a pseudo-terminal"),
    flag("--rm", "remove the container when it exits"),
    flag("--explain", "print what would be done (namespaces, cgroups, mounts, commands); run nothing"),
    flag("--name NAME", "name the container"),
    flag("-e --env NAME=VALUE...", "set an environment variable (NAME alone: the host's value)"),
    flag("--env-file FILE...", "read NAME=VALUE lines from FILE"),
    flag("-w --workdir DIR", "the working directory inside"),
    flag("-u --user UID[:GID]|NAME[:GROUP]", "the user (and group) to run as"),
    flag("--entrypoint CMD", "replace the image's entrypoint"),
    flag("-h --hostname NAME", "the container's hostname"),
    flag("-m --memory SIZE", "memory limit (e.g. 256m)"),
    flag("--memory-swap SIZE|-1", "memory+swap limit (-1: unlimited swap)"),
    flag("--memory-reservation SIZE", "soft memory limit"),
    flag("--cpus N", "CPUs the container may use (e.g. 0.5)"),
    flag("-c --cpu-shares N", "relative CPU weight (default 1024)"),
    flag("--cpuset-cpus LIST", "CPUs it may run on (e.g. 0-2,4)"),
    flag("--cpuset-mems LIST", "memory nodes it may use"),
    flag("--pids-limit N", "at most N processes"),
    flag("--blkio-weight N", "relative block I/O weight (10..1000)"),
    flag("--device-read-bps DEV:RATE...", "read at most RATE bytes/s from device DEV"),
    flag("--device-write-bps DEV:RATE...", "write at most RATE bytes/s to device DEV"),
    flag("--device-read-iops DEV:RATE...", "read at most RATE operations/s from device DEV"),
    flag("--device-write-iops DEV:RATE...", "write at most RATE operations/s to device DEV"),
    flag("--ulimit NAME=SOFT[:HARD]...", "a resource limit (e.g. nofile=1024:2048)"),
    flag("-v --volume SRC:DST[:ro]...", "bind a host path or a named volume"),
    flag("--mount type=bind|volume|tmpfs,source=,target=...", "a mount, spelled out"),
    flag("--tmpfs DST[:OPTS]...", "a tmpfs at DST"),
    flag("--read-only", "a read-only root filesystem"),
    flag("--init", "a tiny init as PID 1 that forwards signals and reaps zombies"),
    flag("--stop-signal SIG", "the signal `stop` sends first (default SIGTERM)"),
    flag("--stop-timeout SECONDS", "how long `stop` waits before SIGKILL (default 10)"),
    flag("--restart no|on-failure[:N]|always|unless-stopped", "restart policy"),
    flag("-l --label KEY=VALUE...", "a label"),
    flag("--cgroup-parent PATH", "the cgroup to put the container's cgroup below"),
    flag("--ipc host|container:NAME", "IPC namespace"),
    flag("--pid host|container:NAME", "PID namespace"),
    flag("--uts host|container:NAME", "UTS namespace (hostname)"),
    flag("--userns host|remap|auto", 'user namespace (remap/auto: root inside is the "nsbox" range of '
                                     '/etc/subuid, /etc/subgid)'),
    flag("--uidmap CONTAINER_ID:HOST_ID:SIZE...", "a range of the user namespace's user IDs"),
    flag("--gidmap CONTAINER_ID:HOST_ID:SIZE...", "a range of the user namespace's group IDs"),
    flag("--cgroupns host|private", "cgroup namespace"),
    flag("--timens", "a new time namespace"),
    flag("--network --net bridge|none|host|container:NAME|NETWORK...", "the network to join (default bridge); "
         "several user-defined ones (--ip, --network-alias, -p: the first's)"),
    flag("--ip ADDR", "the container's IPv4 address on its network"),
    flag("--ip6 ADDR", "the container's IPv6 address on its network (one with an IPv6 subnet)"),
    flag("--mac-address MAC", "the container's MAC address"),
    flag("--network-alias --net-alias NAME...", "another name for it on its network"),
    flag("--network-rate RATE", "bandwidth limit, both ways (e.g. 10mbit)"),
    flag("--sysctl KEY=VALUE...", "a kernel setting of the container's own namespaces (net.*, IPC)"),
    flag("-p --publish [HOST_IP:][HOST_PORT:]PORT[/udp]...", "publish a port on the host"),
    flag("-P --publish-all", "publish every port the image (or --expose) exposes"),
    flag("--expose PORT[-PORT][/udp]...", "expose a port (or a range): -P publishes it"),
    flag("--add-host NAME:IP|host-gateway...", "a line of /etc/hosts"),
    flag("--dns IP...", "a name server for resolv.conf"),
    flag("--dns-search DOMAIN...", "a search domain for resolv.conf"),
    flag("--dns-option --dns-opt OPT...", "an option for resolv.conf"),
    flag("--cap-add CAP...", "add a capability (ALL for every one)"),
    flag("--cap-drop CAP...", "drop a capability (ALL for every one)"),
    flag("--privileged", "every capability, no seccomp, the host's devices, writable /sys and /proc/sys"),
    flag("--security-opt seccomp=unconfined|PATH.json|no-new-privileges[=true]...", "a security option"),
    flag("--device HOST[:CONTAINER][:rwm]...", "a host device inside"),
    flag("--runtime nsbox|runc|crun|PATH", "the OCI runtime that runs it (default nsbox, in process)"),
    flag("--rootfs DIR", "a root directory instead of an image"),
    flag("--pull missing|always|never", "pull the image first: when it is not here (the default), always, never"),
    flag("--detach-keys KEYS", 'leave a `run -it` running with these keys (default ctrl-p,ctrl-q; "" for none)'),
)

RUN_USAGE = "nsbox run [OPTIONS] IMAGE [COMMAND] [ARG...]\nnsbox run [OPTIONS] --rootfs DIR COMMAND [ARG...]"
RUN = Command(RUN_USAGE, "Run a command in a new container.", *RUN_FLAGS)


def run_options(argv: list[str], command: Command = RUN) -> dict:
    """Parsed options with `image` and `command` from the positional arguments."""
    from nsbox.errors import ConfigError
    options, positional = parse(argv, command)
    if not options.get("rootfs"):
        if not positional:
            raise ConfigError("IMAGE", f"name the image to run\n{command.usage}")
        options["image"] = positional.pop(0)
    options["command"] = positional
    return options
