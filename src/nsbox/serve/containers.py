"""/containers/...: create, start, attach, wait, logs, inspect, list, stop, kill, remove, ..."""
from __future__ import annotations

import json
import os
import time

from nsbox.serve.http import ApiError, frame


def _engine(handler):
    from nsbox.engine.containers import Engine
    return Engine(handler.root)


def nsbox_program() -> list[str]:
    """The `nsbox` command beside this interpreter (its launcher starts faster than -m)."""
    import sys
    launcher = os.path.join(os.path.dirname(sys.executable), "nsbox")
    return [launcher] if os.access(launcher, os.X_OK) else [sys.executable, "-m", "nsbox.cli.main"]


def nsbox_command(handler, *args: str) -> None:
    """Run `nsbox --root R ARGS` (steps that fork a monitor or an exec'd process run in a child,
    not in this threaded server); its error becomes the answer's."""
    import subprocess
    result = subprocess.run([*nsbox_program(), "--root", handler.root, *args],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        message = result.stderr.strip().removeprefix("nsbox: ").splitlines()[0] if result.stderr.strip() else \
            f"nsbox {args[0]} exited {result.returncode}"
        status = 404 if "No such" in message or "no such" in message else 500
        raise ApiError(status, message)


def create(handler, request) -> None:
    from nsbox.errors import ImageNotFound
    from nsbox.serve.container_body import run_options
    options = run_options(request.json(), request.query.get("name"))
    try:
        record = _engine(handler).create(options)
    except ImageNotFound:
        raise ApiError(404, f"No such image: {options['image']}") from None
    handler.send_json({"Id": record["Id"], "Warnings": []}, 201)


def inspect(handler, request, name: str) -> None:
    from nsbox.engine.docker_shape import container_inspect
    handler.send_json(container_inspect(_engine(handler).get(name), handler.root))


def list_(handler, request) -> None:
    from nsbox.engine.docker_shape import container_summary
    from nsbox.engine.filters import check, from_api, matches
    filters = from_api(json.loads(request.query.get("filters") or "{}"))
    check(filters)
    records = _engine(handler).list(include_stopped=request.flag("all"))
    handler.send_json([container_summary(record) for record in records if matches(record, filters)])


def start(handler, request, name: str) -> None:
    record = _engine(handler).get(name)
    if record["State"]["Status"] in ("running", "paused"):
        handler.send_empty(304)
        return
    nsbox_command(handler, "start", record["Id"])
    handler.send_empty(204)


def stop(handler, request, name: str) -> None:
    record = _engine(handler).get(name)
    if record["State"]["Status"] not in ("running", "paused"):
        handler.send_empty(304)
        return
    timeout = request.query.get("t") or request.query.get("timeout")
    nsbox_command(handler, "stop", *(["-t", timeout] if timeout else []), record["Id"])
    handler.send_empty(204)


def kill(handler, request, name: str) -> None:
    signal = request.query.get("signal") or "KILL"
    nsbox_command(handler, "kill", "-s", signal, _engine(handler).get(name)["Id"])
    handler.send_empty(204)


def restart(handler, request, name: str) -> None:
    timeout = request.query.get("t")
    nsbox_command(handler, "restart", *(["-t", timeout] if timeout else []), _engine(handler).get(name)["Id"])
    handler.send_empty(204)


def pause(handler, request, name: str) -> None:
    _engine(handler).pause(name)
    handler.send_empty(204)


def unpause(handler, request, name: str) -> None:
    _engine(handler).unpause(name)
    handler.send_empty(204)


def remove(handler, request, name: str) -> None:
    engine = _engine(handler)
    record = engine.get(name)
    if record["State"]["Status"] in ("running", "paused") and not request.flag("force"):
        raise ApiError(409, f"You cannot remove a running container {record['Id']}. Stop the container before "
                       "attempting removal or force remove")
    nsbox_command(handler, "rm", *(["-f"] if request.flag("force") else []),
                  *(["-v"] if request.flag("v") else []), record["Id"])
    handler.send_empty(204)


def resize(handler, request, name: str) -> None:
    handler.send_empty(200)


def wait(handler, request, name: str) -> None:
    """not-running (default): the exit code once it is not running; next-exit: of the next exit;
    removed: once it is gone — read from the engine's event journal, so that a container removed
    right after its exit (--rm) still gives its code. The headers go first, as Docker's do: the
    docker CLI starts the container only once its wait is answered."""
    engine = _engine(handler)
    record = engine.get(name)
    handler.start_stream()
    code = _wait_for(handler, engine, record, request.query.get("condition") or "not-running")
    handler.chunk(json.dumps({"StatusCode": code, "Error": None}).encode() + b"\n")
    handler.end_stream()


def _wait_for(handler, engine, record: dict, condition: str) -> int:
    from nsbox.engine.events import journal_path
    from nsbox.errors import NotFound
    path = journal_path(handler.root)
    offset = os.path.getsize(path) if os.path.exists(path) else 0
    if condition == "not-running" and record["State"]["Status"] not in ("running", "paused", "restarting"):
        return record["State"].get("ExitCode", 0)
    code = None
    while True:
        offset, events = _new_events(path, offset, record["Id"])
        for event in events:
            if event["Action"] == "die":
                code = int(event["Actor"]["Attributes"].get("exitCode", "0"))
                if condition != "removed":
                    return code
            if event["Action"] == "destroy" and condition == "removed":
                return code if code is not None else 0
        if condition == "removed":
            try:
                engine.get(record["Id"])
            except NotFound:
                return code if code is not None else 0
        time.sleep(0.05)


def _new_events(path: str, offset: int, container_id: str) -> tuple[int, list[dict]]:
    from nsbox.linux.store_files import read_whole_lines
    complete, offset = read_whole_lines(path, offset)
    events = [json.loads(line) for line in complete.splitlines() if line.strip()]
    return offset, [e for e in events if e.get("id") == container_id]


def logs(handler, request, name: str) -> None:
    record = _engine(handler).get(name)
    follow = request.flag("follow")
    tail = request.query.get("tail")
    handler.start_stream("application/vnd.docker.raw-stream" if record["Config"].get("Tty")
                         else "application/vnd.docker.multiplexed-stream")
    _stream_log(handler, record, follow, int(tail) if tail and tail != "all" else None, from_end=False,
                chunked=True, stdout=request.flag("stdout", True), stderr=request.flag("stderr", True))
    handler.end_stream()


def attach(handler, request, name: str) -> None:
    """The container's output as it comes (from its log), until it exits."""
    record = _engine(handler).get(name)
    tty = bool(record["Config"].get("Tty"))
    handler.hijack(tty)
    _stream_log(handler, record, True, None, from_end=not request.flag("logs"), chunked=False,
                stdout=request.flag("stdout", True), stderr=request.flag("stderr", True))


def _stream_log(handler, record: dict, follow: bool, tail: int | None, from_end: bool, chunked: bool,
                stdout: bool, stderr: bool) -> None:
    from nsbox.engine.logs import entries
    from nsbox.linux.store_files import read_whole_lines
    path = _engine(handler).paths.container(record["Id"], "container.log")
    tty = bool(record["Config"].get("Tty"))
    offset = os.path.getsize(path) if from_end and os.path.exists(path) else 0
    first = True
    while True:
        running = _running(handler, record["Id"])
        complete, offset = read_whole_lines(path, offset)
        lines = list(entries(complete))
        if first and tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        first = False
        out = b"".join(text if tty else frame(2 if stream == "stderr" else 1, text)
                       for _, stream, text in lines if (stdout if stream != "stderr" else stderr))
        if chunked:
            handler.chunk(out)
        elif out:
            handler.wfile.write(out)
            handler.wfile.flush()
        # a hijacked client may half-close its side (no stdin): only a failed write ends attach
        if not follow or not running or (handler.client_gone(0.05) if chunked else _pause(0.05)):
            return


def _pause(seconds: float) -> bool:
    time.sleep(seconds)
    return False


def _running(handler, container_id: str) -> bool:
    from nsbox.errors import NotFound
    try:
        record = _engine(handler).get(container_id)
    except NotFound:
        return False
    return record["State"]["Status"] in ("running", "paused", "restarting", "created")


def top(handler, request, name: str) -> None:
    from nsbox.engine.checked_state import running_record
    from nsbox.engine.top import processes
    engine = _engine(handler)
    rows = processes(engine, running_record(engine, name))
    handler.send_json({"Titles": ["UID", "PID", "PPID", "CMD"],
                       "Processes": [[p["User"], str(p["PID"]), str(p["PPID"]), p["Command"]] for p in rows]})


def stats(handler, request, name: str) -> None:
    """Docker's stats object (cpu_stats with precpu_stats a moment before, so a client computes
    CPU %), once (stream=false) or every second."""
    from nsbox.engine.checked_state import running_record
    from nsbox.engine.stats import sample
    engine = _engine(handler)
    record = running_record(engine, name)
    stream = request.flag("stream", True) and not request.flag("one-shot")
    before = sample(engine, record)
    if stream:
        handler.start_stream()
    while True:
        if stream and handler.client_gone(1.0):
            return
        if not stream:
            time.sleep(0.5)
        after = sample(engine, record)
        body = json.dumps(_docker_stats(record, before, after)).encode() + b"\n"
        if not stream:
            handler.send_json(json.loads(body))
            return
        handler.chunk(body)
        before = after


def _docker_stats(record: dict, before: dict, after: dict) -> dict:
    from nsbox.oci.timestamps import rfc3339_now
    def cpu(reading: dict) -> dict:
        usage = reading["cgroup"].get("cpu", {}).get("usage", {})
        return {"cpu_usage": {"total_usage": usage.get("total", 0), "usage_in_kernelmode": usage.get("kernel", 0),
                              "usage_in_usermode": usage.get("user", 0)},
                "system_cpu_usage": int(reading["time"] * 1e9) * (os.cpu_count() or 1),
                "online_cpus": os.cpu_count() or 1, "throttling_data": {}}
    memory = after["cgroup"].get("memory", {})
    return {"read": rfc3339_now(), "preread": rfc3339_now(), "id": record["Id"], "name": "/" + (record.get("Name") or ""),
            "cpu_stats": cpu(after), "precpu_stats": cpu(before),
            "memory_stats": {"usage": memory.get("usage", {}).get("usage", 0),
                             "limit": memory.get("usage", {}).get("limit", 0) or os.sysconf("SC_PAGE_SIZE")
                             * os.sysconf("SC_PHYS_PAGES"), "stats": memory.get("raw", {})},
            "pids_stats": {"current": after["cgroup"].get("pids", {}).get("current", 0)},
            "blkio_stats": {"io_service_bytes_recursive": after["cgroup"].get("blkio", {}).get("ioServiceBytesRecursive")},
            "networks": {"eth0": {"rx_bytes": after["net"][0], "tx_bytes": after["net"][1]}}}


def _path_stat(handler, name: str, path: str) -> tuple[str, str]:
    """(host path, the X-Docker-Container-Path-Stat header: base64 JSON with Go's FileMode bits)."""
    import base64
    import stat as stat_module
    from nsbox.engine.file_copy import container_root, inside
    from nsbox.errors import NotFound
    found = inside(container_root(_engine(handler), name), path)
    try:
        info = os.stat(found) if os.path.normpath(path) == "/" else os.lstat(found)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {path} in container {name}") from None
    mode = stat_module.S_IMODE(info.st_mode)
    if stat_module.S_ISDIR(info.st_mode):
        mode |= 1 << 31
    elif stat_module.S_ISLNK(info.st_mode):
        mode |= 1 << 27
    from nsbox.oci.timestamps import rfc3339
    described = {"name": os.path.basename(path.rstrip("/")) or "/", "size": info.st_size, "mode": mode,
                 "mtime": rfc3339(int(info.st_mtime * 1e9)),
                 "linkTarget": os.readlink(found) if stat_module.S_ISLNK(info.st_mode) else ""}
    return found, base64.b64encode(json.dumps(described).encode()).decode()


def archive_head(handler, request, name: str) -> None:
    _, header = _path_stat(handler, name, request.query.get("path") or "/")
    handler.send_response(200)
    handler.send_header("X-Docker-Container-Path-Stat", header)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def archive_get(handler, request, name: str) -> None:
    """`docker cp CONTAINER:PATH ...`: the path as a tar stream."""
    from nsbox.engine.file_copy import copy_from_as_tar
    path = request.query.get("path") or "/"
    _, header = _path_stat(handler, name, path)
    handler.send_response(200)
    handler.send_header("Content-Type", "application/x-tar")
    handler.send_header("X-Docker-Container-Path-Stat", header)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()

    class Chunks:
        def write(self, data: bytes) -> int:
            handler.chunk(bytes(data))
            return len(data)
    copy_from_as_tar(_engine(handler), name, path, Chunks())
    handler.end_stream()


def archive_put(handler, request, name: str) -> None:
    """`docker cp ... CONTAINER:DIR`: a tar stream unpacked into the directory."""
    import io

    from nsbox.engine.file_copy import copy_to_from_tar
    data = request.body()  # read first: an error answer must not leave the body in the connection
    copy_to_from_tar(_engine(handler), name, io.BytesIO(data), request.query.get("path") or "/")
    handler.send_empty(200)
