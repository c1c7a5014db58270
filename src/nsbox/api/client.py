"""Client: the containers, images, networks and volumes below one nsbox root, as Python objects.

`nsbox.run`, `nsbox.containers` and `nsbox.images` use a default client for
$NSBOX_ROOT (else /var/lib/nsbox), the root the `nsbox` command uses: both see the same
containers and images. There is no daemon and no connection: a client is a path.
"""
from __future__ import annotations

import threading

from nsbox.api.containers import Containers
from nsbox.api.images import Images
from nsbox.api.networks import Networks
from nsbox.api.result import Result
from nsbox.api.volumes import Volumes
from nsbox.api.fork_server import ApiEngine

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from typing import Any

    from nsbox.api.runs import ForegroundRun


class Client:
    """nsbox below `root` (default: $NSBOX_ROOT, else /var/lib/nsbox).

    `fork_server`: create run()'s containers through a small helper process started once
    (nsbox.api.fork_server), so that a large calling process does not pay for forking
    itself twice per container; False: fork this process, as the `nsbox` command does."""

    __slots__ = ("engine", "containers", "images", "networks", "volumes")

    def __init__(self, root: str | None = None, *, fork_server: bool = True) -> None:
        from nsbox.engine.paths import default_root
        self.engine = ApiEngine(root or default_root(), fork_server)
        self.containers = Containers(self.engine)
        self.images = Images(self.engine)
        self.networks = Networks(self.engine)
        self.volumes = Volumes(self.engine)

    @property
    def root(self) -> str:
        return self.engine.root

    def run(self, image: str, command: list[str] | str | None = None, *, stdin: bytes | str | int | None = None,
            timeout: float | None = None, text: bool = False, check: bool = False, remove: bool = True,
            name: str | None = None, **options: object) -> Result:
        """Run `command` in a new container of `image` and wait for it, like subprocess.run.

        `options` are run options (memory="128m", cpus=0.5, pids_limit=64, network="none",
        env={...}, volumes=[...], workdir, user, ... and docker-py's names, see
        docs/python-api.md). `stdin`: bytes (or str) to feed, or a file descriptor.
        `timeout`: seconds, after which the container is killed and the Result says
        timed_out. `check`: raise RuntimeFailed if it did not exit 0. `remove`: remove the
        container when it ends (else it stays, with its log, for containers.get)."""
        from nsbox.api.runs import run
        return run(self.engine, image, command, stdin, timeout, text, check, remove, name, options)

    async def arun(self, image: str, command: list[str] | str | None = None, *,
                   stdin: bytes | str | int | None = None, timeout: float | None = None, text: bool = False,
                   check: bool = False, remove: bool = True, name: str | None = None, **options: object) -> Result:
        """run() for asyncio: the blocking part runs in a worker thread that ends with it;
        cancelling the task kills the container (and still removes it)."""
        import asyncio

        from nsbox.api.runs import run_settings, stdin_bytes
        settings = run_settings(image, command, stdin, remove, name, options)
        worker = _Worker(self.engine, settings, stdin_bytes(stdin), timeout, text, asyncio.get_running_loop())
        worker.start()
        try:
            result: Result = await asyncio.shield(worker.done)
        except asyncio.CancelledError:
            worker.cancel()
            await asyncio.to_thread(worker.join)
            raise
        worker.join()
        if check:
            result.check_returncode()
        return result


class _Worker(threading.Thread):
    """arun's thread: creates and runs the container, then hands the result to the loop."""

    def __init__(self, engine: ApiEngine, settings: dict[str, Any], stdin: bytes | int | None, timeout: float | None,
                 text: bool, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(name="nsbox.arun", daemon=True)
        self.engine, self.settings, self.stdin, self.timeout, self.text = engine, settings, stdin, timeout, text
        self.loop = loop
        self.done = loop.create_future()
        self.foreground: ForegroundRun | None = None
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        if self.foreground is not None:
            self.foreground.cancel()

    def run(self) -> None:
        from nsbox.api.runs import ForegroundRun
        try:
            foreground = self.foreground = ForegroundRun(self.engine, self.settings)
            if self.cancelled:
                foreground.cancel()
            result = foreground.run(self.stdin, self.timeout, self.text)
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting task
            self.loop.call_soon_threadsafe(self._settle, None, error)
            return
        self.loop.call_soon_threadsafe(self._settle, result, None)

    def _settle(self, result: Result | None, error: BaseException | None) -> None:
        if self.done.cancelled() or self.cancelled:
            return  # the task was cancelled: nobody awaits this
        if error is not None:
            self.done.set_exception(error)
        else:
            self.done.set_result(result)


_default: Client | None = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The client for $NSBOX_ROOT (else /var/lib/nsbox), made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default
