"""nsbox attach: back to a running container's terminal (served on its attach.sock by whoever
holds the pty) or, for a container without one, its output as it comes; leave it running
with the detach keys (default ^P^Q). Also `start -a`."""
from __future__ import annotations

import os
import sys

from nsbox.flags import Command, flag, parse

DETACH_KEYS = flag("--detach-keys KEYS", 'the keys that leave it running (default ctrl-p,ctrl-q; "" for none)')
COMMAND = Command("nsbox attach [OPTIONS] CONTAINER", "Attach to a running container's terminal or output.",
                  DETACH_KEYS,
                  flag("--no-stdin", "do not pass our stdin on"),
                  flag("--sig-proxy", "accepted for Docker compatibility"))


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("CONTAINER", f"name one container\n{COMMAND.usage}")
    return attach(Engine(root), names[0], options.get("detach_keys"), not options.get("no_stdin"))


def attach(engine, reference: str, detach_keys: str | None, with_stdin: bool, log=None, offset: int = 0) -> int:
    """Attach to the running container; its exit code when it ends, 0 when the user detached.
    With `log` (the container's log, opened by start_and_attach) its output from `offset` on,
    also if it has ended meanwhile."""
    from nsbox.linux import collector
    collector.resume()  # (`start -a`: a command of the start-up path that lives on)
    from nsbox.engine.attach_server import DEFAULT_DETACH_KEYS, SOCKET, parse_detach_keys
    from nsbox.errors import StateError
    record = engine.get(reference)
    if record["State"]["Status"] not in ("running", "paused", "restarting") and log is None:
        error = StateError("You cannot attach to a stopped container, start it first")
        error.exit_code = 1  # Docker's
        raise error
    keys = parse_detach_keys(DEFAULT_DETACH_KEYS if detach_keys is None else detach_keys)
    path = engine.paths.container(record["Id"], SOCKET)
    if record["Config"].get("Tty") and os.path.exists(path):
        return _attach_terminal(engine, record["Id"], path, keys, with_stdin)
    return _follow_output(engine, record["Id"], log, offset)


def start_and_attach(engine, reference: str, detach_keys: str | None, with_stdin: bool) -> int:
    """`start -a`: start the container and attach to it. Docker attaches first; here the
    container's log is opened and its end noted before the start, so that what a quick
    container writes (and its exit) is shown even when it ended before the attach."""
    container_id = engine.get(reference)["Id"]
    path = engine.paths.container(container_id, "container.log")
    with open(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o640), "rb") as log:
        offset = os.fstat(log.fileno()).st_size
        engine.start(container_id)
        return attach(engine, container_id, detach_keys, with_stdin, log, offset)


def _attach_terminal(engine, container_id: str, path: str, keys: bytes, with_stdin: bool) -> int:
    """Relay our terminal to the container's, served on `path`; its exit code when it ends,
    0 when the user typed the detach `keys`."""
    from nsbox.engine.attach_server import connect
    from nsbox.linux.terminal import give_back_terminal, take_terminal
    try:
        client = connect(path)
    except OSError:  # its terminal's server is gone: the container has just ended
        return engine.wait(container_id)
    saved = take_terminal(lambda: _send_size(client)) if with_stdin else None
    try:
        code = _relay_frames(client, keys, with_stdin)
    finally:
        give_back_terminal(saved)
        client.close()
    return engine.wait(container_id) if code is None else code


def _send_size(client) -> None:
    from nsbox.engine.attach_server import frame
    from nsbox.linux.terminal import window_size
    size = window_size(0)
    if size:
        try:
            client.sendall(frame(b"W", f"{size['height']} {size['width']}".encode()))
        except OSError:
            pass


def _relay_frames(client, keys: bytes, with_stdin: bool) -> int | None:
    """Our keys to the server as data frames, its data frames to our stdout, until its exit
    frame (the exit code) or the detach keys (0); None when the server went away without one."""
    import select

    from nsbox.engine.attach_server import DetachWatch, FrameReader, frame
    from nsbox.engine.launching import exit_code
    watch, reader = DetachWatch(keys), FrameReader()
    poller = select.poll()
    poller.register(client.fileno(), select.POLLIN)
    if with_stdin:
        poller.register(0, select.POLLIN)
    while True:
        for fd, _ in poller.poll():
            if fd == 0:
                data = os.read(0, 65536)
                if not data:
                    poller.unregister(0)
                    continue
                passed, detached = watch.feed(data)
                if passed:
                    client.sendall(frame(b"D", passed))
                if detached:
                    return 0
                continue
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                return None
            for kind, payload in reader.feed(data):
                if kind == b"D":
                    os.write(1, payload)
                elif kind == b"X":
                    return exit_code(int(payload))


def _follow_output(engine, container_id: str, log=None, offset: int = 0) -> int:
    """A container with no terminal: its output from now on (or in `log` from `offset`), until
    it exits; its exit code."""
    from nsbox.engine import checked_state, logs

    def running() -> bool:
        try:
            return bool(checked_state.current_state(engine.store.load(container_id))["Running"])
        except Exception:
            return False
    if log is None:
        logs.write_logs(engine.paths.container(container_id, "container.log"), 0, None, False, running, 1, 2)
    else:
        logs.write_logs(log, None, None, False, running, 1, 2, offset=offset)
    sys.stdout.flush()
    return engine.wait(container_id)
