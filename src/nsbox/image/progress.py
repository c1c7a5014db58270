"""A progress bar per layer (rich) for pulls and pushes, shown only on a terminal."""
from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from rich.progress import TaskID

import sys


class LayerProgress:
    """The progress interface of pull()/push(): layer(digest, size) -> advance(n), status(digest, text)."""

    def __init__(self, title: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
        self.progress = Progress(TextColumn("{task.fields[short]}"), TextColumn("{task.fields[state]:<10}"),
                                 BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                                 console=Console(stderr=True), transient=False)
        self.tasks: dict[str, TaskID] = {}
        self.title = title

    def __enter__(self) -> LayerProgress:
        self.progress.console.print(self.title)
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _task(self, digest: str, size: int | None = None) -> TaskID:
        if digest not in self.tasks:
            self.tasks[digest] = self.progress.add_task("", total=size, short=digest[7:19], state="waiting")
        return self.tasks[digest]

    def layer(self, digest: str, size: int, state: str = "download"):
        task = self._task(digest, size)
        self.progress.update(task, state=state)

        def advance(amount: int, reset: bool = False) -> None:
            if reset:
                self.progress.reset(task)
            self.progress.advance(task, amount)
        return advance

    def status(self, digest: str, text: str) -> None:
        task = self._task(digest)
        if text in ("done", "exists", "pushed"):
            total = self.progress.tasks[task].total
            self.progress.update(task, state=text, completed=total)
        else:
            self.progress.update(task, state=text)


def for_terminal(title: str):
    """A LayerProgress when stderr is a terminal, else None (pull/push then show nothing)."""
    return LayerProgress(title) if sys.stderr.isatty() else None
