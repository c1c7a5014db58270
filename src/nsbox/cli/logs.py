"""nsbox logs: a container's output (stdout and stderr kept apart), -f, --tail, -t, --since."""
from __future__ import annotations

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox logs [OPTIONS] CONTAINER", "A container's output (stdout and stderr kept apart).",
                  flag("-f --follow", "keep printing what it writes"),
                  flag("-n --tail N|all", "only the last N lines"),
                  flag("-t --timestamps", "each line's time"),
                  flag("--since TIME|DURATION", "lines from then on"),
                  flag("--until TIME|DURATION", "lines up to then"))


def main(argv: list[str], root: str) -> int:
    from nsbox.engine import checked_state, logs
    from nsbox.engine.containers import Engine
    from nsbox.engine.quantities import parse_int
    from nsbox.errors import ConfigError
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("CONTAINER", f"name one container\n{COMMAND.usage}")
    engine = Engine(root)
    container_id = engine.store.lookup(names[0])
    tail_text = options.get("tail")
    tail = None if tail_text in (None, "all") else parse_int(tail_text, "--tail", 0)
    since = logs.parse_since(options["since"]) if options.get("since") else None
    until = logs.parse_since(options["until"]) if options.get("until") else None

    def still_running() -> bool:
        try:
            record = engine.store.load(container_id)
        except Exception:
            return False
        state = checked_state.current_state(record)
        return bool(state["Running"] or state.get("Restarting")) or (
            checked_state.monitor_alive(record) and record["State"].get("Running"))

    follow = still_running if options.get("follow") else None
    if until is not None and follow is not None:  # following ends at --until, as Docker's does
        def follow() -> bool:
            from nsbox.oci.timestamps import rfc3339_now
            return still_running() and rfc3339_now() <= until
    logs.write_logs(engine.paths.container(container_id, "container.log"), tail, since,
                    bool(options.get("timestamps")), follow, 1, 2, until=until)
    return 0
