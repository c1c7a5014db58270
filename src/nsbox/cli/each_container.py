"""Commands that do one thing to each container named: start, stop, restart, pause, unpause, wait."""
from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from nsbox.flags import Command

TIME = ("-t --time SECONDS", "seconds to wait for the stop signal before SIGKILL (default: the container's own, 10)")


def for_each_container(argv: list[str], root: str, command: Command, act: str, show_result: bool = False,
                       arguments: object = None) -> int:
    """Parse `nsbox COMMAND [FLAGS] CONTAINER...`, call Engine.<act>(name, *arguments(options))
    for each, print the name (or, with show_result, what the call returned, e.g. an exit code)."""
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError, NsboxError
    from nsbox.flags import parse
    options, names = parse(argv, command, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{command.usage}")
    extra = arguments(options) if arguments is not None else ()  # type: ignore[operator]
    action = getattr(Engine(root), act)
    failed = 0
    for name in names:  # as Docker does: each failure is reported and the rest go on
        try:
            result = action(name, *extra)
        except NsboxError as error:
            if len(names) == 1:
                raise
            sys.stderr.write(f"nsbox: {error}\n")
            failed = failed or error.exit_code
            continue
        print(result if show_result else name, flush=True)
    return failed


def stop_timeout(options: dict) -> tuple[int | None]:
    """-t/--time SECONDS of stop and restart (None: the container's own stop timeout)."""
    from nsbox.engine.quantities import SECONDS_MAX, parse_int
    return (parse_int(options["time"], "--time", -1, SECONDS_MAX) if "time" in options else None,)
