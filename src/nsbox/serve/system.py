"""/_ping, /version, /info, /system/df, /events, and volumes."""
from __future__ import annotations

import json
import os
import time

from nsbox.serve.http import API_VERSION, MIN_API_VERSION


def ping(handler, request) -> None:
    handler.send_response(200)
    for name, value in (("Api-Version", API_VERSION), ("OSType", "linux"), ("Docker-Experimental", "false"),
                        ("Builder-Version", "1"), ("Content-Type", "text/plain; charset=utf-8"),
                        ("Cache-Control", "no-cache, no-store, must-revalidate"), ("Content-Length", "2")):
        handler.send_header(name, value)
    handler.end_headers()
    if request.method != "HEAD":
        handler.wfile.write(b"OK")


def version(handler, request) -> None:
    import platform
    from importlib.metadata import version as package_version
    uname = os.uname()
    current = package_version("nsbox")
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(uname.machine, uname.machine)
    handler.send_json({
        "Platform": {"Name": "nsbox"}, "Version": current, "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION, "GitCommit": "", "GoVersion": f"python{platform.python_version()}",
        "Os": "linux", "Arch": arch, "KernelVersion": uname.release, "BuildTime": "",
        "Components": [{"Name": "Engine", "Version": current,
                        "Details": {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "Os": "linux",
                                    "Arch": arch, "KernelVersion": uname.release}}]})


def info(handler, request) -> None:
    from nsbox.engine.containers import Engine
    from nsbox.image.store import ImageStore
    records = Engine(handler.root).list(include_stopped=True)
    states = [r["State"]["Status"] for r in records]
    uname = os.uname()
    handler.send_json({
        "ID": "nsbox", "Containers": len(records), "ContainersRunning": states.count("running"),
        "ContainersPaused": states.count("paused"), "ContainersStopped": len(records) - states.count("running")
        - states.count("paused"), "Images": len(ImageStore(handler.root).images()), "Driver": "overlay",
        "DockerRootDir": handler.root, "OperatingSystem": "nsbox (no daemon)", "OSType": "linux",
        "Architecture": uname.machine, "KernelVersion": uname.release, "NCPU": os.cpu_count(),
        "MemTotal": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "Name": uname.nodename,
        "ServerVersion": _version(), "CgroupDriver": "cgroupfs", "DefaultRuntime": "nsbox",
        "Runtimes": {"nsbox": {"path": "nsbox-runtime"}}, "SecurityOptions": ["name=seccomp,profile=default"],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"], "Log": ["json-file"]},
        "Labels": [], "Warnings": []})


def _version() -> str:
    from importlib.metadata import version as package_version
    return package_version("nsbox")


def events(handler, request) -> None:
    """The engine's event journal from now on (or from --since), one JSON object per event,
    until the client goes (or --until: what the journal holds up to then)."""
    from nsbox.engine.events import journal_path
    from nsbox.linux.inotify import Watch
    from nsbox.linux.store_files import read_whole_lines
    path = journal_path(handler.root)
    since, until = (float(request.query[key]) if request.query.get(key) else None for key in ("since", "until"))
    wanted = json.loads(request.query.get("filters") or "{}")
    handler.start_stream()
    with Watch([handler.root], {os.path.basename(path)}) as watch:  # woken when an event is written
        offset = os.path.getsize(path) if os.path.exists(path) and since is None else 0
        while True:
            complete, offset = read_whole_lines(path, offset)
            shown = [event for event in map(json.loads, complete.splitlines()) if _wanted(event, wanted)
                     and (since is None or event.get("time", 0) >= since)
                     and (until is None or event.get("time", 0) <= until)]
            handler.chunk(b"".join(json.dumps(event).encode() + b"\n" for event in shown))
            left = None if until is None else until - time.time()
            if left is not None and left <= 0:
                break
            if watch.wait(left, handler.connection.fileno()) and handler.client_gone():
                return
    handler.end_stream()


def _wanted(event: dict, filters: dict) -> bool:
    """Docker's event filters: container (ID or name), event (action), type, image, label."""
    attributes = event.get("Actor", {}).get("Attributes", {})
    values = {"container": (event.get("id", ""), attributes.get("name", "")), "event": (event.get("Action", ""),),
              "type": (event.get("Type", ""),), "image": (attributes.get("image", ""),)}
    for key, accepted in filters.items():
        accepted = list(accepted) if isinstance(accepted, (list, dict)) else [accepted]
        if key == "label":
            if not any(attributes.get(item.partition("=")[0]) == item.partition("=")[2] if "=" in item
                       else item in attributes for item in accepted):
                return False
        elif key in values and not any(value and (value == item or (key == "container" and value.startswith(item)))
                                       for item in accepted for value in values[key]):
            return False
    return True


def _volumes(handler):
    from nsbox.engine.containers import Engine
    from nsbox.engine.volumes import Volumes
    return Volumes(Engine(handler.root))


def volumes(handler, request) -> None:
    found = _volumes(handler)
    handler.send_json({"Volumes": [found.inspect(name) for name in found.names()], "Warnings": []})


def volume_create(handler, request) -> None:
    body = request.json()
    handler.send_json(_volumes(handler).create(body.get("Name") or "", body.get("Labels") or {}), 201)


def volume_inspect(handler, request, name: str) -> None:
    handler.send_json(_volumes(handler).inspect(name))


def volume_prune(handler, request) -> None:
    """Unused anonymous volumes (filter all=true: every unused one), as Docker's API 1.42+ does."""
    from nsbox.engine.disk_usage import tree_size
    filters = json.loads(request.query.get("filters") or "{}")
    every = any(str(value).lower() in ("true", "1") for value in _values(filters.get("all")))
    found = _volumes(handler)
    sizes = {name: tree_size(os.path.join(found.top, name)) for name in found.names()}
    removed = found.prune(every=every)
    handler.send_json({"VolumesDeleted": removed, "SpaceReclaimed": sum(sizes.get(name, 0) for name in removed)})


def _values(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, dict)) else [value]


def disk_usage(handler, request) -> None:
    from nsbox.engine.containers import Engine
    from nsbox.engine.disk_usage import disk_usage as usage
    handler.send_json(usage(Engine(handler.root)))


def volume_remove(handler, request, name: str) -> None:
    _volumes(handler).remove(name, force=request.flag("force"))
    handler.send_empty(204)
