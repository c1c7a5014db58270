"""nsbox network: create, ls, inspect, rm, prune, connect, disconnect (CNI config lists)."""
from __future__ import annotations

import sys

USAGE = """usage: nsbox network COMMAND
  create [--driver bridge] [--subnet CIDR] [--gateway IP] [--ip-range CIDR] [--internal] [--label K=V] NAME
  ls [-q]          inspect NAME...          rm NAME...          prune
  connect [--alias NAME] [--ip IP] NETWORK CONTAINER          disconnect NETWORK CONTAINER
Each network is a CNI config list in the root's networks/ directory (NSBOX_CNI_CONFIG_DIR)."""

CREATE_FLAGS = {"-d=": "driver", "--driver=": "driver", "--subnet=": "subnet", "--gateway=": "gateway",
                "--ip-range=": "ip_range", "--internal": "internal", "--label=": "label*"}


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
    options, names = parse(argv, CREATE_FLAGS, USAGE, stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("NAME", f"name one network\n{USAGE}")
    driver = options.get("driver") or "bridge"
    if driver != "bridge":
        raise ConfigError("--driver", f"{driver!r} is not supported yet: use bridge")
    labels = {}
    for item in options.get("label") or []:
        key, _, value = item.partition("=")
        labels[key] = value
    conflist = manage.create_bridge(root, names[0], options.get("subnet") or "", options.get("gateway") or "",
                                    options.get("ip_range") or "", bool(options.get("internal")), labels)
    print(conflist["nsbox"]["id"])
    return 0


def _ls(_command: str, argv: list[str], root: str) -> int:
    from nsbox.cli.formatting import table
    from nsbox.flags import parse
    from nsbox.network import conflists
    options, _ = parse(argv, {"-q": "quiet", "--quiet": "quiet"}, USAGE)
    lists = [conflists.load(root, name) for name in conflists.names(root)]
    if options.get("quiet"):
        sys.stdout.write("".join(conflists.meta(c).get("id", "")[:12] + "\n" for c in lists))
        return 0
    rows = [[conflists.meta(c).get("id", "")[:12], c["name"], conflists.meta(c).get("driver", ""),
             conflists.ipam_range(c).get("subnet", ""), conflists.bridge_name(c)] for c in lists]
    rows += [["", "host", "host", "", ""], ["", "none", "null", "", ""]]
    sys.stdout.write(table(["NETWORK ID", "NAME", "DRIVER", "SUBNET", "BRIDGE"], rows))
    return 0


def _inspect(_command: str, argv: list[str], root: str) -> int:
    from nsbox.cli.formatting import print_json
    from nsbox.engine.containers import Engine
    from nsbox.engine.networking import docker_network, network_users
    from nsbox.network import conflists
    engine = Engine(root)
    print_json([docker_network(conflists.load(root, name), network_users(engine, name)) for name in argv])
    return 0


def _rm(_command: str, argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.networking import network_users
    from nsbox.network import manage
    engine = Engine(root)
    for name in argv:
        manage.remove(root, name, network_users(engine, name))
        print(name)
    return 0


def _prune(_command: str, argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.networking import network_users
    from nsbox.network import conflists, manage
    engine = Engine(root)
    for name in conflists.names(root):
        if name not in conflists.PREDEFINED and not network_users(engine, name):
            manage.remove(root, name, [])
            print(f"Deleted network {name}")
    return 0


def _connect(command: str, argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.networking import set_networks
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    options, names = parse(argv, {"--alias=": "alias*", "--ip=": "ip"}, USAGE, stop_at_positional=False)
    if len(names) != 2:
        raise ConfigError("NETWORK CONTAINER", f"name a network and a container\n{USAGE}")
    set_networks(Engine(root), names[1], names[0], command == "connect", list(options.get("alias") or []),
                 options.get("ip") or "")
    return 0
