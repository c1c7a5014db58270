"""nsbox network: create, ls, inspect, rm, prune, connect, disconnect (CNI config lists)."""
from __future__ import annotations

import sys

USAGE = """usage: nsbox network COMMAND
  create [--driver bridge|macvlan|ipvlan] [-o parent=IF] [-o macvlan_mode=M|ipvlan_mode=M] [--subnet CIDR]
         [--ipv6 --subnet IPV6-CIDR] [--gateway IP] [--ip-range CIDR] [--internal] [--label K=V] NAME
  ls [-q] [-f KEY=VALUE] [--format FORMAT] [--no-trunc]          inspect [-f FORMAT] NETWORK...
  rm [-f] NETWORK...          prune [-f] [--filter until=TIME|label=K[=V]|label!=K[=V]]
  connect [--alias NAME] [--ip IP] [--ip6 IP] NETWORK CONTAINER          disconnect [-f] NETWORK CONTAINER
Each network is a CNI config list in the root's networks/ directory (NSBOX_CNI_CONFIG_DIR)."""

CREATE = ("nsbox network create [OPTIONS] NAME", "Make a network.",
          ("-d --driver bridge|macvlan|ipvlan", "the driver (default bridge)"),
          ("--subnet CIDR...", "its addresses (IPv4; and IPv6 with --ipv6)"),
          ("--ipv6", "IPv6 addresses too, from an IPv6 --subnet (macvlan and ipvlan networks)"),
          ("--gateway IP...", "the gateway's address (IPv6: the subnet's first)"),
          ("--ip-range CIDR...", "where containers' IPv4 addresses come from"),
          ("--internal", "no way out of the network"), ("--label K=V...", "a label"),
          ("--attachable", "containers may join it (every nsbox network: accepted for Docker's scripts)"),
          ("--ipam-driver default", "the address manager (host-local; only default is taken)"),
          ("-o --opt KEY=VALUE...", "a driver option: parent=IF, macvlan_mode=MODE, ipvlan_mode=MODE"))
LS = ("nsbox network ls [OPTIONS]", "List networks.", ("-q --quiet", "only their IDs"),
      ("-f --filter KEY=VALUE...", "only the matching networks: name=, id=, driver=, label=K[=V], "
                                   "type=custom|builtin, dangling=true|false"),
      ("--format FORMAT", "table (the default), json, or a Go template"), ("--no-trunc", "whole IDs"))
INSPECT = ("nsbox network inspect [OPTIONS] NETWORK [NETWORK...]", "Networks as JSON (by name or ID).",
           ("-f --format FORMAT", "a Go template, or json"))
CONNECT = ("nsbox network connect [OPTIONS] NETWORK CONTAINER", "Connect a container to a network.",
           ("--alias NAME...", "another name for it on the network"), ("--ip IP", "its address on the network"),
           ("--ip6 IP", "its IPv6 address on the network"))
DISCONNECT = ("nsbox network disconnect [OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network.",
              ("-f --force", "no error if the container is gone or not connected; a plugin's failed DEL is "
                             "dropped"))
RM = ("nsbox network rm [OPTIONS] NETWORK [NETWORK...]", "Remove networks (by name or ID).",
      ("-f --force", "no error for a network that does not exist"))
PRUNE = ("nsbox network prune [OPTIONS]", "Remove every user-defined network no container uses.",
         ("-f --force", "do not ask (nsbox never asks)"),
         ("--filter KEY=VALUE...", "only those: until=TIME|DURATION (made before), label=K[=V], label!=K[=V]"))


def _flags_of(declared: tuple):
    """The nsbox.flags.Command of a subcommand declared above."""
    from nsbox.flags import Command, flag
    usage, summary, *flags = declared
    return Command(usage, summary, *(flag(*item) for item in flags))


LS_DEFAULT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
HEADINGS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv6": "IPV6",
            "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}


def _row(network_id: str, name: str, driver: str, internal: bool, labels: dict, ipv6: bool = False):
    """A network as Docker's `network ls` templates see it (its networkContext)."""
    from nsbox.cli.gostruct import Struct
    return Struct("*formatter.networkContext", {
        "ID": network_id, "Name": name, "Driver": driver, "Scope": "local", "IPv6": str(ipv6).lower(),
        "Internal": str(internal).lower(), "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Label": lambda key: labels.get(key, ""), "CreatedAt": ""})


def main(argv: list[str], root: str) -> int:
    from nsbox.errors import ConfigError
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE + "\n")
        return 0 if argv else 125
    command, rest = argv[0], argv[1:]
    handlers = {"create": _create, "ls": _ls, "list": _ls, "inspect": _inspect, "rm": _rm, "remove": _rm,
                "prune": _prune, "connect": _connect, "disconnect": _connect}
    if command not in handlers:
        raise ConfigError("network", f"unknown command {command!r}\n{USAGE}")
    return handlers[command](command, rest, root)


def _create(_command: str, argv: list[str], root: str) -> int:
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    from nsbox.network import manage
    options, names = parse(argv, _flags_of(CREATE), stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("NAME", f"name one network\n{USAGE}")
    labels, opts = {}, {}
    for item in options.get("label") or []:
        key, _, value = item.partition("=")
        labels[key] = value
    for item in options.get("opt") or []:
        key, separator, value = item.partition("=")
        if not separator:
            raise ConfigError("--opt", f"must be KEY=VALUE (as parent=eth0), got {item!r}")
        opts[key] = value
    driver = options.get("driver") or "bridge"
    if (options.get("ipam_driver") or "default") != "default":
        raise ConfigError("--ipam-driver", f"{options['ipam_driver']}: nsbox's networks take addresses from "
                                           "host-local only (use default)")
    configs = manage.ipam_configs(options.get("subnet") or [], options.get("gateway") or [],
                                  options.get("ip_range") or [])
    subnet, gateway, ip_range, subnet6 = manage.from_ipam(driver, configs, bool(options.get("ipv6")))
    conflist = manage.create(root, names[0], driver, subnet, gateway, ip_range, bool(options.get("internal")),
                             labels, opts, subnet6)
    print(conflist["nsbox"]["id"])
    return 0


def _ls(_command: str, argv: list[str], root: str) -> int:
    from nsbox.cli.formatting import table
    from nsbox.engine.containers import Engine
    from nsbox.engine.network_filters import from_flags, listing
    from nsbox.flags import parse
    options, _ = parse(argv, _flags_of(LS))
    shapes = listing(Engine(root), from_flags(options.get("filter") or []))
    width = None if options.get("no_trunc") else 12
    if options.get("quiet"):
        sys.stdout.write("".join(shape["Id"][:width] + "\n" for shape in shapes))
        return 0
    if options.get("format"):
        from nsbox.cli.formatting import render
        rows = [_row(shape["Id"][:width], shape["Name"], shape["Driver"], shape["Internal"], shape["Labels"],
                     shape["EnableIPv6"]) for shape in shapes]
        sys.stdout.write(render(str(options["format"]), rows, HEADINGS, LS_DEFAULT))
        return 0
    rows = [[shape["Id"][:width], shape["Name"], shape["Driver"],
             " ".join(config["Subnet"] for config in shape["IPAM"]["Config"] if config.get("Subnet")),
             shape["Options"].get("com.docker.network.bridge.name", "")] for shape in shapes]
    sys.stdout.write(table(["NETWORK ID", "NAME", "DRIVER", "SUBNET", "BRIDGE"], rows))
    return 0


def _inspect(_command: str, argv: list[str], root: str) -> int:
    from nsbox.cli.formatting import print_json
    from nsbox.engine.containers import Engine
    from nsbox.engine.networking import docker_network, find_network, network_users
    from nsbox.flags import parse
    options, references = parse(argv, _flags_of(INSPECT), stop_at_positional=False)
    engine = Engine(root)
    from nsbox.engine.network_filters import MODES, mode_shape

    def shape(reference: str) -> dict:
        if reference in dict(MODES):
            return mode_shape(reference)
        conflist = find_network(engine, reference)
        return docker_network(conflist, network_users(engine, conflist["name"]))
    shown = [shape(reference) for reference in references]
    if options.get("format") and options["format"] != "json":
        from nsbox.cli.formatting import render_each
        sys.stdout.write(render_each(str(options["format"]), shown))
        return 0
    print_json(shown)
    return 0


def _rm(_command: str, argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.networking import find_network, network_users
    from nsbox.errors import ConfigError, NetworkNotFound, NsboxError
    from nsbox.flags import parse
    from nsbox.network import conflists, manage
    options, references = parse(argv, _flags_of(RM), stop_at_positional=False)
    if not references:
        raise ConfigError("NETWORK", f"name at least one network\n{USAGE}")
    engine = Engine(root)
    failed = 0
    for reference in references:  # as Docker: a failure is reported and the rest go on
        try:
            name = reference if reference in conflists.PREDEFINED else find_network(engine, reference)["name"]
            manage.remove(root, name, network_users(engine, name))
        except NsboxError as error:
            if not (options.get("force") and isinstance(error, NetworkNotFound)):  # -f: a missing one is fine
                sys.stderr.write(f"nsbox: {error}\n")
                failed = failed or error.exit_code
            continue
        print(reference, flush=True)
    return failed


def _prune(_command: str, argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.network_filters import from_flags
    from nsbox.engine.networking import prune_networks
    from nsbox.flags import parse
    options, _ = parse(argv, _flags_of(PRUNE))
    for name in prune_networks(Engine(root), from_flags(options.get("filter") or [])):
        print(f"Deleted network {name}")
    return 0


def _connect(command: str, argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    options, names = parse(argv, _flags_of(CONNECT if command == "connect" else DISCONNECT), stop_at_positional=False)
    if len(names) != 2:
        raise ConfigError("NETWORK CONTAINER", f"name a network and a container\n{USAGE}")
    if command == "disconnect":
        from nsbox.engine.network_connect import disconnect
        disconnect(Engine(root), names[1], names[0], bool(options.get("force")))
        return 0
    from nsbox.engine.networking import set_networks
    set_networks(Engine(root), names[1], names[0], True, list(options.get("alias") or []), options.get("ip") or "",
                 options.get("ip6") or "")
    return 0
