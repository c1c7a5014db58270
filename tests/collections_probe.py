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


# A sitecustomize for a command's process (run as `python LAUNCHER ...`: the launcher's own
# `python -S` loads none): it notes each collection the process itself runs (not its
# children's) and each time linux.collector resumes collecting, one line each, in order.
NOTING_SITECUSTOMIZE = '''
import gc, os
_process = os.getpid()
_log = os.environ["NSBOX_TEST_COLLECTIONS"]

def _note(line):
    if os.getpid() == _process:
        with open(_log, "a") as log:
            log.write(line + "\\n")

gc.callbacks.append(lambda phase, info: phase == "start" and _note(f"collection {info['generation']}"))
from nsbox.linux import collector
_resume = collector.resume
def _resuming():
    _note("resumed")
    _resume()
collector.resume = _resuming
'''


def noted_collections(argv: list[str], directory: Path) -> list[str]:
    """Run the command line `argv` (a launcher and its arguments) with NOTING_SITECUSTOMIZE;
    the lines it noted."""
    import subprocess
    import sys
    (directory / "sitecustomize.py").write_text(NOTING_SITECUSTOMIZE)
    noted = directory / "collections.log"
    environment = dict(os.environ, PYTHONPATH=str(directory), NSBOX_TEST_COLLECTIONS=str(noted))
    result = subprocess.run([sys.executable, *argv], env=environment, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return noted.read_text().splitlines() if noted.exists() else []
