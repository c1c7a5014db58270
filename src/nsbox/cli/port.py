"""nsbox port: a container's published ports (80/tcp -> 127.0.0.1:8080)."""
from __future__ import annotations

import sys


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError, NotFound
    from nsbox.flags import Command, parse
    command = Command("nsbox port CONTAINER [PORT[/PROTO]]", "A container's published ports.")
    _, argv = parse(argv, command, stop_at_positional=False)
    if not argv or len(argv) > 2:
        raise ConfigError("CONTAINER", f"name the container (and a port)\n{command.usage}")
    record = Engine(root).get(argv[0])
    ports = (record.get("NetworkSettings") or {}).get("Ports") or {}
    wanted = argv[1] if len(argv) == 2 else ""
    if wanted and "/" not in wanted:
        wanted += "/tcp"
    lines = []
    for key, entries in sorted(ports.items()):
        if wanted and key != wanted:
            continue
        for entry in entries or []:
            lines.append(f"{entry['HostIp']}:{entry['HostPort']}" if wanted else f"{key} -> {entry['HostIp']}:{entry['HostPort']}")
    if wanted and not lines:
        raise NotFound(f"no public port {wanted!r} published for {record['Name']}")
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0
