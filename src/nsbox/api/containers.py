"""nsbox.containers: create, run, get and list containers; a Container object for one.

A detached container runs under its own monitor process (as `nsbox run -d`), so it
outlives this Python process; everything here reads and changes the same store the
`nsbox` command uses.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

from nsbox.api import monitors
from nsbox.api.result import Result
from nsbox.engine.containers import Engine

RECHECK = 1.0  # seconds between wait_async's looks at a container whose process it cannot watch

TYPE_CHECKING = False
if TYPE_CHECKING:
    import builtins
    from typing import Any


class Container:
    """One container. Its attributes are read from the store when the object is made and
    by reload(); the methods act at once."""

    __slots__ = ("_engine", "_record")

    def __init__(self, engine: Engine, record: dict[str, Any]) -> None:
        self._engine = engine
        self._record = record  # as the store keeps it

    @property
    def attrs(self) -> dict[str, Any]:
        """What `nsbox inspect` (and docker-py's attrs) shows: Docker's keys in Docker's order."""
        from nsbox.engine.docker_shape import container_inspect
        return container_inspect(self._record, self._engine.root)

    def __repr__(self) -> str:
        return f"<Container {self.short_id} {self.name} {self.status}>"

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        """Remove the container (killing it if it runs), also when the block raised."""
        from nsbox.errors import ContainerNotFound
        try:
            self.remove(force=True)
        except ContainerNotFound:
            pass

    # -- what it is ------------------------------------------------------------------

    @property
    def id(self) -> str:
        return str(self._record["Id"])

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def name(self) -> str:
        return str(self._record.get("Name") or "").lstrip("/")

    @property
    def status(self) -> str:
        """created, running, paused, restarting, exited or dead (as of the last reload)."""
        return str(self._record["State"]["Status"])

    @property
    def pid(self) -> int:
        """The host PID of its first process (0 when it does not run)."""
        return int(self._record["State"].get("Pid") or 0)

    @property
    def image(self) -> str:
        """The image's name as given (its ID is attrs["Image"])."""
        return str(self._record["Config"].get("Image") or "")

    @property
    def labels(self) -> dict[str, str]:
        return dict(self._record["Config"].get("Labels") or {})

    def reload(self) -> None:
        self._record = self._engine.get(self.id)

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start it under a monitor (a created or exited container)."""
        monitors.reap()
        self._record = self._engine.start(self.id)
        monitors.note(self._record)

    def wait(self, timeout: float | None = None) -> dict[str, object]:
        """Wait for it to exit: {"StatusCode": code, "OOMKilled": bool} (docker-py's shape).
        After `timeout` seconds a WaitTimeout (a TimeoutError); it keeps running."""
        code = self._engine.wait(self.id, timeout)
        self.reload()
        monitors.reap()
        return {"StatusCode": code, "OOMKilled": bool(self._record["State"].get("OOMKilled")), "Error": None}

    async def wait_async(self, timeout: float | None = None) -> dict[str, object]:
        """wait() for asyncio, with no thread and no polling: the event loop watches the
        container's process (a pidfd) and reads the store again once it ends, and every
        RECHECK seconds (a container not started yet, restarted, or whose monitor vanished)."""
        import time

        from nsbox.api.exits import process_exit
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self._engine.exit_code_if_done(self.id)) is None:
            left = RECHECK if deadline is None else min(RECHECK, deadline - time.monotonic())
            if left <= 0:
                from nsbox.errors import WaitTimeout
                raise WaitTimeout(f"container {self.short_id} still runs after {timeout} s")
            await process_exit(int(self._engine.store.load(self.id)["State"].get("Pid") or 0), left)
        self.reload()
        monitors.reap()
        return {"StatusCode": code, "OOMKilled": bool(self._record["State"].get("OOMKilled")), "Error": None}

    def stop(self, timeout: int | None = None) -> None:
        """The stop signal, then SIGKILL after `timeout` seconds (default: its stop timeout)."""
        self._record = self._engine.stop(self.id, timeout)
        monitors.reap()

    def kill(self, signal: str | int = "SIGKILL") -> None:
        from nsbox.linux.signals import parse_signal
        self._engine.kill(self.id, parse_signal(signal, "signal"))
        self.reload()

    def restart(self, timeout: int | None = None) -> None:
        self._record = self._engine.restart(self.id, timeout)
        monitors.note(self._record)
        monitors.reap()

    def pause(self) -> None:
        self._record = self._engine.pause(self.id)

    def unpause(self) -> None:
        self._record = self._engine.unpause(self.id)

    def remove(self, force: bool = False, v: bool = False) -> None:
        """Remove it (a running one only with force=True); v=True also its anonymous volumes."""
        self._engine.remove(self.id, force=force, volumes=v)  # waits for its monitor to end
        monitors.reap()

    def rename(self, name: str) -> None:
        self._engine.rename(self.id, name)
        self.reload()

    def update(self, **limits: object) -> None:
        """Change limits at once: memory, memory_swap, memory_reservation, cpus, cpu_shares,
        cpuset_cpus, cpuset_mems, pids_limit, blkio_weight, restart."""
        from nsbox.api.options import PLAIN, engine_options
        options = engine_options(None, None, limits)
        options.pop("command")
        self._record = self._engine.update(self.id, {PLAIN.get(key, key): value for key, value in options.items()})

    # -- inside it -------------------------------------------------------------------

    def exec(self, command: list[str] | str, *, env: dict[str, str] | list[str] | None = None, user: str = "",
             workdir: str = "", stdin: bytes | str | None = None, timeout: float | None = None,
             text: bool = False, check: bool = False, tty: bool = False) -> Result:
        """Run another process in the running container and wait for it (docker-py's
        exec_run; `timeout` kills the process; `tty=True`: on a terminal, its output in stdout)."""
        from nsbox.api.options import _command, _pairs
        from nsbox.api.runs import run_exec
        result = run_exec(self._engine, self.id, _command(command), _pairs(env or [], "env"), user, workdir,
                          stdin.encode() if isinstance(stdin, str) else stdin or b"", timeout, text, tty)
        if check:
            result.check_returncode()
        return result

    exec_run = exec

    def logs(self, *, stdout: bool = True, stderr: bool = True, follow: bool = False, tail: int | None = None,
             since: str | None = None, timestamps: bool = False) -> Iterator[bytes]:
        """Its output, a line at a time; with follow=True, until it exits. `since`: "10m",
        a Unix time or an RFC 3339 time."""
        from nsbox.engine.logs import parse_since, read_log
        wanted = {name for name, on in (("stdout", stdout), ("stderr", stderr)) if on}

        def running() -> bool:
            return self._engine.exit_code_if_done(self.id) is None
        path = self._engine.paths.container(self.id, "container.log")
        for stamp, stream, line in read_log(path, tail, parse_since(since) if since else None,
                                            running if follow else None):
            if stream in wanted:
                yield (stamp.encode() + b" " + line) if timestamps and stamp else line

    def stats(self, stream: bool = False, interval: float = 0.5) -> dict[str, Any] | Iterator[dict[str, Any]]:
        """`nsbox stats`'s reading (CPU %, memory, network, block I/O, PIDs) plus the raw cgroup
        record under "cgroup", at once (its CPU % is the average since the container
        started, as `nsbox stats --no-stream`); with stream=True an endless iterator, one
        every `interval` seconds, each over the interval before it."""
        from nsbox.engine.checked_state import running_record
        from nsbox.engine.stats import sample, since_start, summarize
        record = running_record(self._engine, self.id)
        if not stream:
            reading = sample(self._engine, record)
            return dict(summarize(record, since_start(record, reading), reading), cgroup=reading["cgroup"])
        return self._stats_stream(record, interval)

    def _stats_stream(self, record: dict[str, Any], interval: float) -> Iterator[dict[str, Any]]:
        import time

        from nsbox.engine.stats import sample, summarize
        previous = sample(self._engine, record)
        while True:
            time.sleep(interval)
            current = sample(self._engine, record)
            yield dict(summarize(record, previous, current), cgroup=current["cgroup"])
            previous = current

    def top(self) -> list[dict[str, Any]]:
        """Its processes: host PID, PID inside, parent, user, command."""
        from nsbox.engine.checked_state import running_record
        from nsbox.engine.top import processes
        return processes(self._engine, running_record(self._engine, self.id))

    def explain(self) -> dict[str, Any]:
        """`nsbox explain`'s report of the running container: what the kernel shows of it
        (namespaces, id maps, processes, cgroups, root filesystem, network, confinement)
        beside the host's, and the equivalent manual commands under "commands"."""
        from nsbox.explain.container import explain_container
        return explain_container(self._engine, self.id)

    def get_archive(self, path: str) -> bytes:
        """A tar archive of `path` in the container (docker-py returns a stream and a stat)."""
        import io

        from nsbox.engine.file_copy import copy_from_as_tar
        out = io.BytesIO()
        copy_from_as_tar(self._engine, self.id, path, out)
        return out.getvalue()

    def put_archive(self, path: str, data: bytes) -> None:
        """Unpack the tar archive `data` into the directory `path` of the container (as safely
        as an image layer: no entry lands outside it)."""
        import io

        from nsbox.engine.file_copy import copy_to_from_tar
        copy_to_from_tar(self._engine, self.id, io.BytesIO(data), path)


class Containers:
    """The containers below one root (nsbox.containers, Client.containers)."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, image: str, command: list[str] | str | None = None, *, name: str | None = None,
               **options: object) -> Container:
        """A new container, created and not started (options as for nsbox.run)."""
        from nsbox.api.options import engine_options
        settings = engine_options(image, command, dict(options, name=name))
        return Container(self._engine, self._engine.create(settings))

    def run(self, image: str, command: list[str] | str | None = None, *, detach: bool = False,
            name: str | None = None, remove: bool = False, **options: object) -> Container | bytes:
        """docker-py's containers.run: with detach=True the started Container (under its
        monitor); else wait and return its stdout, raising RuntimeFailed if it failed."""
        if not detach:
            from nsbox.api.runs import run
            return run(self._engine, image, command, None, None, False, True, remove, name, options).stdout  # type: ignore[return-value]
        from nsbox.api.options import engine_options
        settings = engine_options(image, command, dict(options, name=name, remove=remove))
        record = self._engine.create(settings)
        monitors.reap()
        try:
            container = Container(self._engine, self._engine.start(record["Id"]))
            monitors.note(container._record)
            return container
        except BaseException:
            self._engine.remove(record["Id"], force=True, volumes=True)
            raise

    def get(self, name_or_id: str) -> Container:
        """The container with that name or ID (prefix); ContainerNotFound if none."""
        return Container(self._engine, self._engine.get(name_or_id))

    def list(self, all: bool = False, filters: dict[str, object] | None = None) -> builtins.list[Container]:  # noqa: A002
        """Running containers (all=True: every one), newest first; `filters` as `nsbox ps
        --filter`: {"status": "exited", "label": ["team=a"], "name": ..., "id": ..., "exited": 0}."""
        from nsbox.engine.filters import check, matches
        wanted: list[str] = []
        for key, value in (filters or {}).items():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                wanted.append(f"{key}={item}")
        check(wanted)
        records = self._engine.list(include_stopped=all or bool(wanted))
        return [Container(self._engine, record) for record in records if matches(record, wanted)]

    def prune(self) -> builtins.list[str]:
        """Remove every stopped container (and its anonymous volumes), as `nsbox container
        prune`; their IDs."""
        from nsbox.engine.disk_usage import prune_containers
        return prune_containers(self._engine)
