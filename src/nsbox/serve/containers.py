"""/containers/...: create, inspect, list, start, stop, kill, restart, pause, remove, prune,
top, resize. Each calls the engine in this process, as the Python API does: a start
forks the container's monitor from this threaded server, which is safe because the monitor's
first act is to close every inherited descriptor and everything it imports is imported here
first (warm_up). The streams (wait, attach, logs, stats) are in serve.streams."""
from __future__ import annotations

import json

from nsbox.serve.http import ApiError


def _engine(handler):
    from nsbox.engine.containers import Engine
    return Engine(handler.root)


def warm_up() -> None:
    """Import now what a start imports in the forked monitor: a module another thread is
    importing while this process forks would stay locked in the child for ever."""
    from nsbox.engine.monitor import import_monitor_modules
    import_monitor_modules()


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
    engine = _engine(handler)
    record = engine.get(name)
    if record["State"]["Status"] in ("running", "paused"):
        handler.send_empty(304)
        return
    from nsbox.errors import ContainerStartError
    try:
        engine.start(record["Id"])
    except ContainerStartError as error:
        if record["HostConfig"].get("AutoRemove"):  # as Docker: the client waits for the removal
            engine.remove(record["Id"], force=True, volumes=True)
        # the docker CLI exits 127 or 126 on the words "executable file not found", "permission denied"
        raise ApiError(400 if error.exit_code in (126, 127) else 500, str(error)) from None
    handler.send_empty(204)


def stop(handler, request, name: str) -> None:
    engine = _engine(handler)
    record = engine.get(name)
    if record["State"]["Status"] not in ("running", "paused"):
        handler.send_empty(304)
        return
    engine.stop(record["Id"], _timeout(request))
    handler.send_empty(204)


def _timeout(request) -> int | None:
    text = request.query.get("t") or request.query.get("timeout")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, f"t: {text!r} is not a number of seconds") from None


def kill(handler, request, name: str) -> None:
    from nsbox.linux.signals import parse_signal
    engine = _engine(handler)
    record = engine.get(name)
    if record["State"]["Status"] not in ("running", "paused"):
        raise ApiError(409, f"Container {record['Id']} is not running")
    engine.kill(record["Id"], parse_signal(request.query.get("signal") or "SIGKILL"))
    handler.send_empty(204)


def restart(handler, request, name: str) -> None:
    engine = _engine(handler)
    engine.restart(engine.get(name)["Id"], _timeout(request))
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
    engine.remove(record["Id"], force=request.flag("force"), volumes=request.flag("v"))
    handler.send_empty(204)


def prune(handler, request) -> None:
    from nsbox.engine.disk_usage import prune_containers
    handler.send_json({"ContainersDeleted": prune_containers(_engine(handler)), "SpaceReclaimed": 0})


def resize(handler, request, name: str) -> None:
    """The terminal's size of a -t container (through its monitor's attach socket)."""
    from nsbox.serve.attach_input import resize_terminal
    engine = _engine(handler)
    resize_terminal(engine, engine.get(name), _number(request, "h"), _number(request, "w"))
    handler.send_empty(200)


def _number(request, key: str) -> int:
    text = request.query.get(key) or "0"
    if not text.isdigit():
        raise ApiError(400, f"{key}: {text!r} is not a number")
    return int(text)


def top(handler, request, name: str) -> None:
    from nsbox.engine.checked_state import running_record
    from nsbox.engine.top import processes
    engine = _engine(handler)
    rows = processes(engine, running_record(engine, name))
    handler.send_json({"Titles": ["UID", "PID", "PPID", "CMD"],
                       "Processes": [[p["User"], str(p["PID"]), str(p["PPID"]), p["Command"]] for p in rows]})
