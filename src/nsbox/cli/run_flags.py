"""The flags of `nsbox run` and `nsbox create` (Docker's names), for nsbox.flags."""
from __future__ import annotations

RUN_FLAGS: dict[str, str] = {
    "-d": "detach", "--detach": "detach", "-i": "interactive", "--interactive": "interactive",
    "-t": "tty", "--tty": "tty", "--rm": "rm", "--name=": "name", "--explain": "explain",
    "-e=": "env*", "--env=": "env*", "--env-file=": "env_file*", "-w=": "workdir", "--workdir=": "workdir",
    "-u=": "user", "--user=": "user", "--entrypoint=": "entrypoint", "-h=": "hostname", "--hostname=": "hostname",
    "-m=": "memory", "--memory=": "memory", "--memory-swap=": "memory_swap",
    "--memory-reservation=": "memory_reservation", "--cpus=": "cpus", "-c=": "cpu_shares",
    "--cpu-shares=": "cpu_shares", "--cpuset-cpus=": "cpuset_cpus", "--cpuset-mems=": "cpuset_mems",
    "--pids-limit=": "pids_limit", "--device-read-bps=": "device_read_bps*",
    "--device-write-bps=": "device_write_bps*", "--device-read-iops=": "device_read_iops*",
    "--device-write-iops=": "device_write_iops*", "--blkio-weight=": "blkio_weight", "--ulimit=": "ulimit*",
    "-v=": "volume*", "--volume=": "volume*", "--mount=": "mount*", "--tmpfs=": "tmpfs*",
    "--read-only": "read_only", "--init": "init", "--stop-signal=": "stop_signal",
    "--stop-timeout=": "stop_timeout", "--restart=": "restart", "-l=": "label*", "--label=": "label*",
    "--cgroup-parent=": "cgroup_parent", "--ipc=": "ipc", "--pid=": "pid", "--uts=": "uts",
    "--userns=": "userns", "--cgroupns=": "cgroupns", "--timens": "timens", "--network=": "network",
    "--net=": "network", "--privileged": "privileged", "--cap-add=": "cap_add*", "--cap-drop=": "cap_drop*",
    "--runtime=": "runtime", "--rootfs=": "rootfs", "--pull=": "pull", "--detach-keys=": "detach_keys",
    "--security-opt=": "security_opt*", "--device=": "device*", "--uidmap=": "uidmap*", "--gidmap=": "gidmap*",
    "-p=": "publish*", "--publish=": "publish*", "-P": "publish_all", "--publish-all": "publish_all",
    "--ip=": "ip", "--mac-address=": "mac_address", "--network-alias=": "network_alias*",
    "--net-alias=": "network_alias*", "--add-host=": "add_host*", "--dns=": "dns*", "--dns-search=": "dns_search*",
    "--dns-option=": "dns_option*", "--dns-opt=": "dns_option*", "--network-rate=": "network_rate",
}

RUN_USAGE = """usage: nsbox run [OPTIONS] IMAGE [COMMAND] [ARG...]
       nsbox run [OPTIONS] --rootfs DIR COMMAND [ARG...]

  -d, --detach            run in the background under a monitor; print the container ID
  -i, --interactive       keep stdin open          -t, --tty   allocate a pseudo-terminal
      --rm                remove the container when it exits
      --explain           print what would be done (namespaces, cgroups, mounts, commands); run nothing
      --name NAME         name the container       -e, --env NAME=VALUE, --env-file FILE
  -w, --workdir DIR       -u, --user UID[:GID]|NAME[:GROUP]    --entrypoint CMD   -h, --hostname NAME
  -m, --memory SIZE       --memory-swap SIZE|-1    --memory-reservation SIZE
      --cpus N            -c, --cpu-shares N       --cpuset-cpus LIST   --cpuset-mems LIST
      --pids-limit N      --blkio-weight N
      --device-read-bps, --device-write-bps, --device-read-iops, --device-write-iops DEV:RATE
      --ulimit NAME=SOFT[:HARD]
  -v, --volume SRC:DST[:ro]   --mount type=bind|volume|tmpfs,source=,target=   --tmpfs DST[:OPTS]
      --read-only         --init                   --stop-signal SIG    --stop-timeout SECONDS
      --restart no|on-failure[:N]|always|unless-stopped     -l, --label KEY=VALUE
      --cgroup-parent PATH    --ipc/--pid/--uts host|container:NAME   --cgroupns host|private
      --userns host|remap|auto  (remap/auto: root inside is the "nsbox" range of /etc/subuid, /etc/subgid)
      --uidmap/--gidmap CONTAINER_ID:HOST_ID:SIZE    --timens (a new time namespace)
      --network, --net bridge|none|host|container:NAME|NETWORK   --ip ADDR   --mac-address MAC
      --network-alias, --net-alias NAME    --network-rate RATE (e.g. 10mbit, both ways)
  -p, --publish [HOST_IP:][HOST_PORT:]PORT[/udp]   -P, --publish-all (the image's exposed ports)
      --add-host NAME:IP|host-gateway   --dns IP   --dns-search DOMAIN   --dns-option, --dns-opt OPT
      --cap-add CAP   --cap-drop CAP   (ALL for every one)
      --privileged        every capability, no seccomp, the host's devices, writable /sys and /proc/sys
      --security-opt seccomp=unconfined|PATH.json, no-new-privileges[=true]
      --device HOST[:CONTAINER][:rwm]
      --runtime nsbox|runc|crun|PATH         --rootfs DIR (a root directory instead of an image)
      --pull missing|always|never  pull the image first: when it is not here (the default), always, never
      --detach-keys KEYS  leave a `run -it` running with these keys (default ctrl-p,ctrl-q; "" for none)"""


def run_options(argv: list[str], usage: str = RUN_USAGE) -> dict:
    """Parsed options with `image` and `command` from the positional arguments."""
    from nsbox.flags import parse
    from nsbox.errors import ConfigError
    options, positional = parse(argv, RUN_FLAGS, usage)
    if not options.get("rootfs"):
        if not positional:
            raise ConfigError("IMAGE", f"name the image to run\n{usage}")
        options["image"] = positional.pop(0)
    options["command"] = positional
    return options
