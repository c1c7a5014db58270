"""nsbox inspect: containers' records as Docker-shaped JSON (State, Config, HostConfig, Mounts)."""
from __future__ import annotations

USAGE = "usage: nsbox inspect [--format json] CONTAINER [CONTAINER...]"


def docker_shape(record: dict) -> dict:
    """The record as `docker inspect` shows it (nsbox's bookkeeping fields left out)."""
    shown = {key: value for key, value in record.items() if key not in ("InitStart", "Monitor", "ManualStop")}
    shown["Name"] = "/" + (record.get("Name") or "")
    shown["State"] = dict(record["State"], MonitorPid=(record.get("Monitor") or {}).get("Pid", 0))
    network = (record.get("HostConfig") or {}).get("NetworkMode", "none")
    shown["NetworkSettings"] = {"Networks": {network: {}}, "Ports": {}, "IPAddress": "", "Gateway": "",
                                "SandboxKey": f"/proc/{record['State'].get('Pid')}/ns/net"
                                if record["State"].get("Pid") else ""}
    return shown


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.cli.show import print_json
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    options, names = parse(argv, {"-f=": "format", "--format=": "format"}, USAGE, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{USAGE}")
    if options.get("format") not in (None, "json"):
        raise ConfigError("--format", "only json is supported")
    engine = Engine(root)
    print_json([docker_shape(engine.get(name)) for name in names])
    return 0
