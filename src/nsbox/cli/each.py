"""Commands that do one thing to each container named: start, pause, unpause, wait."""
from __future__ import annotations


def for_each_container(argv: list[str], root: str, command: str, act: str, show_result: bool = False) -> int:
    """Parse `nsbox COMMAND CONTAINER...`, call Engine.<act>(name) for each, print the name
    (or, with show_result, what the call returned, e.g. an exit code)."""
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    usage = f"usage: nsbox {command} CONTAINER [CONTAINER...]"
    _, names = parse(argv, {}, usage, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{usage}")
    action = getattr(Engine(root), act)
    for name in names:
        result = action(name)
        print(result if show_result else name, flush=True)
    return 0
