"""nsbox run: create a container from an image and run it (foreground, or -d under a monitor)."""
from __future__ import annotations

import os


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.run_flags import run_options
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError, ImageNotFound
    options = run_options(argv)
    if not options.get("detach") and (options.get("restart") or "no") != "no":
        raise ConfigError("--restart", "needs -d: the restart policy is applied by the detached container's monitor")
    if options.get("tty") and options.get("interactive") and not options.get("detach") and not os.isatty(0):
        from nsbox.errors import ContainerStartError
        raise ContainerStartError("the input device is not a TTY: drop -t (or -i), or run from a terminal", 1)
    engine = Engine(root)
    if options.get("explain"):
        from nsbox.cli.explain import show_plan
        return show_plan(engine, options)
    if options.get("pull"):
        from nsbox.cli.pull import create_pulling
        record = create_pulling(engine, options)
    else:
        try:  # -d: the record goes to the disk (fsync) while the monitor launches the container
            record = engine.create(options, sync=not options.get("detach"))
        except ImageNotFound:  # pulled as Docker pulls it (--pull missing), off the start-up path
            from nsbox.cli.pull import create_pulling
            record = create_pulling(engine, options)
    container_id = record["Id"]
    if options.get("detach"):
        from nsbox.engine.monitor import spawn_monitor
        try:
            spawn_monitor(engine, container_id, lambda: sync_record(engine, container_id), caller_exits=True)
        except BaseException:
            if record["HostConfig"].get("AutoRemove"):
                engine.remove(container_id, force=True)
            raise
        os.write(1, (container_id + "\n").encode())
        return 0
    from nsbox.engine.foreground import run_foreground
    try:
        keys = b""
        if options.get("tty") and options.get("interactive"):
            from nsbox.engine.attach_server import DEFAULT_DETACH_KEYS, parse_detach_keys
            given = options.get("detach_keys")
            keys = parse_detach_keys(DEFAULT_DETACH_KEYS if given is None else given)
        return run_foreground(engine, container_id, bool(options.get("interactive")), bool(options.get("tty")), keys)
    except BaseException:
        if record["HostConfig"].get("AutoRemove"):
            engine.remove(container_id, force=True, volumes=True)
        raise


def sync_record(engine, container_id: str) -> None:
    """fsync the new container's record; a disk that fails it gets a warning, not an error:
    the container is starting already."""
    try:
        engine.store.sync(container_id)
    except OSError as error:
        os.write(2, f"nsbox: warning: the record of {container_id[:12]} may not survive a crash: {error}\n".encode())
