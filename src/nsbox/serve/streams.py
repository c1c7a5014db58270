"""The answers that last as long as a container does: wait, attach, logs (follow) and stats.

Each waits for the change itself, not on a clock: an inotify watch on the container's
directory (its log growing) and on the store's root (the event journal, where the exit is
recorded), and the client's socket, so that a client that goes away ends its stream at once.
"""
from __future__ import annotations

import json
import os
import time

from nsbox.engine.events import JOURNAL
from nsbox.linux.inotify import Watch
from nsbox.serve.http import ApiError, frame

LIVE = ("running", "paused", "restarting", "created")
RECHECK = 2.0  # seconds: a change inotify cannot see (a record in another store) is still noticed


def _engine(handler):
    from nsbox.engine.containers import Engine
    return Engine(handler.root)


def wait(handler, request, name: str) -> None:
    """not-running (default): the exit code once it is not running; next-exit: of the next exit;
    removed: once it is gone — read from the engine's event journal, so that a container removed
    right after its exit (--rm) still gives its code. The headers go first, as Docker's do: the
    docker CLI starts the container only once its wait is answered."""
    condition = request.query.get("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise ApiError(400, f"condition: {condition!r} is not one of not-running, next-exit, removed")
    engine = _engine(handler)
    record = engine.get(name)
    from nsbox.engine.events import journal_path
    path = journal_path(handler.root)
    with Watch([handler.root], {JOURNAL}) as watch:
        offset = os.path.getsize(path) if os.path.exists(path) else 0
        handler.start_stream()
        code = _wait_for(handler, watch, engine, record, condition, path, offset)
        if code is None:  # the client went away
            return
        handler.chunk(json.dumps({"StatusCode": code, "Error": None}).encode() + b"\n")
        handler.end_stream()


def _wait_for(handler, watch: Watch, engine, record: dict, condition: str, path: str, offset: int) -> int | None:
    from nsbox.errors import NotFound
    from nsbox.linux.store_files import read_whole_lines
    if condition == "not-running" and record["State"]["Status"] not in LIVE[:3]:
        return record["State"].get("ExitCode", 0)
    code = None
    while True:
        complete, offset = read_whole_lines(path, offset)
        for line in complete.splitlines():
            event = json.loads(line)
            if event.get("id") != record["Id"]:
                continue
            if event["Action"] == "die":
                code = int(event["Actor"]["Attributes"].get("exitCode", "0"))
                if condition != "removed":
                    return code
            elif event["Action"] == "destroy" and condition == "removed":
                return code or 0
        if condition == "removed":
            try:
                engine.get(record["Id"])
            except NotFound:
                return code or 0
        if watch.wait(RECHECK, handler.connection.fileno()) and handler.client_gone():
            return None


def logs(handler, request, name: str) -> None:
    record = _engine(handler).get(name)
    tail = request.query.get("tail")
    handler.start_stream("application/vnd.docker.raw-stream" if record["Config"].get("Tty")
                         else "application/vnd.docker.multiplexed-stream")
    _stream_log(handler, record, LogOptions(request, int(tail) if tail and tail != "all" else None), chunked=True)
    handler.end_stream()


def attach(handler, request, name: str) -> None:
    """The container's output as it comes (from its log) until it exits, and the client's
    input (stdin=1): to its terminal, or without one to its stdin when attached before the start."""
    from nsbox.serve.attach_input import InputForwarder, PipeInput
    record = _engine(handler).get(name)
    tty = bool(record["Config"].get("Tty"))
    wants_input = request.flag("stdin") and bool(record["Config"].get("OpenStdin"))
    forwarder: InputForwarder | PipeInput | None = None
    if wants_input and not tty and record["State"]["Status"] == "created":
        forwarder = PipeInput(handler, _engine(handler), record["Id"])  # made before the start can come
    handler.hijack(tty)
    options = LogOptions(request, None, follow=True, from_end=not request.flag("logs"))
    if isinstance(forwarder, PipeInput):
        forwarder.start()
    elif wants_input and tty:
        forwarder = InputForwarder(handler, _engine(handler), record["Id"])
    options.drain_input = forwarder is None  # input nobody takes is read and dropped (see _client_left)
    try:
        _stream_log(handler, record, options, chunked=False)
    finally:
        if forwarder is not None:
            forwarder.stop()
        while _discard_input(handler.connection):  # unread input would reset the connection at its close,
            pass  # and the client would fail its read of the output


class LogOptions:
    __slots__ = ("follow", "tail", "from_end", "stdout", "stderr", "timestamps", "since", "drain_input")

    def __init__(self, request, tail: int | None, follow: bool | None = None, from_end: bool = False) -> None:
        self.follow = request.flag("follow") if follow is None else follow
        self.tail, self.from_end = tail, from_end
        self.stdout, self.stderr = request.flag("stdout", True), request.flag("stderr", True)
        self.timestamps = request.flag("timestamps")
        self.since = float(request.query.get("since") or 0)
        self.drain_input = False


def _stream_log(handler, record: dict, options: LogOptions, chunked: bool) -> None:
    """The log's lines, framed unless on a terminal; with follow until the container has
    exited. The log stays open once found, so lines written just before a --rm are still read."""
    from nsbox.linux.store_files import read_whole_lines
    engine = _engine(handler)
    directory = engine.paths.container(record["Id"])
    path = os.path.join(directory, "container.log")
    first = True
    with Watch([directory, handler.root], {"container.log", JOURNAL}) as watch:
        log = _open(path)  # before it exists (attach before start) everything it will hold is new
        offset = os.fstat(log.fileno()).st_size if log is not None and options.from_end else 0
        while True:
            running = _running(engine, record["Id"])
            if log is None:
                log = _open(path)
            complete, offset = read_whole_lines(log, offset) if log is not None else (b"", offset)
            out = _framed(complete, record, options, first)
            first = False
            if chunked:
                handler.chunk(out)
            elif out:
                handler.wfile.write(out)
                handler.wfile.flush()
            if not options.follow or not running:
                break
            if _client_left(handler, watch, chunked, options):
                break
    if log is not None:
        log.close()


def _client_left(handler, watch: Watch, chunked: bool, options: LogOptions) -> bool:
    """Wait for a change of the log or the journal; whether the client has gone meanwhile."""
    connection = handler.connection.fileno()
    if chunked:
        return bool(watch.wait(RECHECK, connection)) and handler.client_gone()
    if options.drain_input:  # no terminal takes this client's input: read it and let it go
        if watch.wait(RECHECK, connection) and not _discard_input(handler.connection):
            options.drain_input = False  # it closed its side (or all of it: the next wait sees the hang-up)
        return False
    # a hijacked client may half-close its side (no stdin): it is gone when it hangs up
    return bool(watch.wait(RECHECK, hangup=(connection,)))


def _discard_input(connection) -> bool:
    """Read and drop what the client sent; False at its end of input, when nothing is left to
    read, or when the connection broke (also a TLS one: no recv flags there)."""
    connection.setblocking(False)
    try:
        return bool(connection.recv(65536))
    except OSError:  # EAGAIN, an incomplete TLS record, a reset
        return False
    finally:
        connection.setblocking(True)


def _open(path: str):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def _framed(complete: bytes, record: dict, options: LogOptions, first: bool) -> bytes:
    from nsbox.engine.logs import entries
    from nsbox.oci.timestamps import parse_rfc3339
    lines = [(stamp, stream, text) for stamp, stream, text in entries(complete)
             if (options.stdout if stream != "stderr" else options.stderr)
             and (not options.since or parse_rfc3339(stamp) >= options.since)]
    if first and options.tail is not None:
        lines = lines[-options.tail:] if options.tail > 0 else []
    tty = bool(record["Config"].get("Tty"))
    return b"".join((stamp.encode() + b" " if options.timestamps else b"") + text if tty else
                    frame(2 if stream == "stderr" else 1,
                          (stamp.encode() + b" " if options.timestamps else b"") + text)
                    for stamp, stream, text in lines)


def _running(engine, container_id: str) -> bool:
    from nsbox.errors import NotFound
    try:
        record = engine.get(container_id)
    except NotFound:
        return False
    return record["State"]["Status"] in LIVE


def stats(handler, request, name: str) -> None:
    """Docker's stats object (cpu_stats with precpu_stats a moment before, so a client computes
    CPU %), once (stream=false) or every second until the client goes or the container stops."""
    from nsbox.engine.checked_state import running_record
    from nsbox.engine.stats import sample
    engine = _engine(handler)
    record = running_record(engine, name)
    stream = request.flag("stream", True) and not request.flag("one-shot")
    before = sample(engine, record)
    if not stream:
        time.sleep(0.5)
        handler.send_json(_docker_stats(record, before, sample(engine, record)))
        return
    handler.start_stream()
    while not handler.client_gone(1.0):
        if not _running(engine, record["Id"]):
            break
        after = sample(engine, record)
        handler.chunk(json.dumps(_docker_stats(record, before, after)).encode() + b"\n")
        before = after
    else:
        return
    handler.end_stream()


def _docker_stats(record: dict, before: dict, after: dict) -> dict:
    from nsbox.oci.timestamps import rfc3339_now

    def cpu(reading: dict) -> dict:
        usage = reading["cgroup"].get("cpu", {}).get("usage", {})
        return {"cpu_usage": {"total_usage": usage.get("total", 0), "usage_in_kernelmode": usage.get("kernel", 0),
                              "usage_in_usermode": usage.get("user", 0)},
                "system_cpu_usage": int(reading["time"] * 1e9) * (os.cpu_count() or 1),
                "online_cpus": os.cpu_count() or 1, "throttling_data": {}}
    memory = after["cgroup"].get("memory", {})
    host_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = memory.get("usage", {}).get("limit", 0)  # none set: v1 says 2^63, Docker shows the host's memory
    return {"read": rfc3339_now(), "preread": rfc3339_now(), "id": record["Id"], "name": "/" + (record.get("Name") or ""),
            "cpu_stats": cpu(after), "precpu_stats": cpu(before),
            "memory_stats": {"usage": memory.get("usage", {}).get("usage", 0),
                             "limit": limit if 0 < limit < host_memory else host_memory, "stats": memory.get("raw", {})},
            "pids_stats": {"current": after["cgroup"].get("pids", {}).get("current", 0)},
            "blkio_stats": {"io_service_bytes_recursive": after["cgroup"].get("blkio", {}).get("ioServiceBytesRecursive")},
            "networks": {"eth0": {"rx_bytes": after["net"][0], "tx_bytes": after["net"][1]}}}
