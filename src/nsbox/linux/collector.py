"""The garbage collector on the start-up path: off while a command starts, back on when
the process settles into a long wait.

What a starting command allocates (its modules' code, classes and functions, the
container's records) lives until it exits, so the cyclic collector finds nothing there,
yet its ~10 collections during `nsbox run --rm`'s imports and work cost ~2 ms of CPU
(measured: 3-4% of the run). A process that then lives on (a foreground run relaying its
container's output, an attach, a pull) collects again, with what start-up made moved
out of the collector's sight (gc.freeze), so that later collections only look at new
objects.
"""
from __future__ import annotations

import gc


def pause() -> None:
    """No collections from here: for a command process on the start-up path (not for a
    library caller's process, whose objects are its own business)."""
    gc.disable()


def resume() -> None:
    """Collect again (if pause() stopped it), never looking at what exists now."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
