"""Proof that forked children never run the garbage collector: a collection in a child writes
to the parent's objects and so copies their pages (linux.clone.fork_without_collecting)."""
import contextlib
import gc
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def collections_in_children(noted: Path) -> Iterator[None]:
    """While inside, every allocation would start a collection (threshold 1), and a callback
    that forked children inherit appends one line per collection they run to `noted`."""
    caller = os.getpid()

    def note(phase: str, info: dict) -> None:
        if os.getpid() != caller:
            with open(noted, "a") as log:
                log.write(f"{phase} in {os.getpid()}\n")

    threshold = gc.get_threshold()
    gc.callbacks.append(note)
    gc.set_threshold(1)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(note)
