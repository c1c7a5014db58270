"""Test-only fault injection: loaded only by processes a test starts with tests/faults on
PYTHONPATH and NSBOX_TEST_STOP_AT=<step>. nsbox then stops itself (SIGSTOP) right after
that step of `run` or `rm`, so that the test's kill -9 lands exactly there; the product
itself has no such hook. The steps:

    named           the ID and name are taken, the record is not written yet
    created         the runtime has created the container (its init waits for start)
    started         the container runs and its record says so
    exit-recorded   a `run --rm` has deleted the runtime's container and recorded the exit
                    as "removing"; its root filesystem and record are still there
    removal-marked  `rm` has marked the record "removing" (the monitor will not restart it),
                    before any of its removal steps
    after STEP      a Steps list (nsbox.engine.undo: a removal's teardown, a creation's undo)
                    has run its step named STEP ("after root filesystem")
    record-removed  `rm` (or `run --rm`) has moved the record away, the name link is still there
    reported        a detached container's monitor has reported it running, before the
                    monitor execs its loop
    relaunching     a monitor's exit helper has decided to apply the restart policy and
                    begins to start the container again
    start-returned  `start` has started the container under its monitor (`start -a` attaches next)
"""
import os
import sys

STEP = os.environ.get("NSBOX_TEST_STOP_AT")


def stop_at(step: str) -> None:
    if step == STEP:
        os.kill(os.getpid(), 19)  # SIGSTOP


def _install() -> None:
    from nsbox.engine import runtimes
    from nsbox.engine.container_store import ContainerStore

    add = ContainerStore.add

    def add_stopping_once_named(self, record, name, prepare=None, **options):
        def prepare_after_naming(record):
            stop_at("named")
            if prepare is not None:
                prepare(record)
        return add(self, record, name, prepare_after_naming, **options)

    remove_files = ContainerStore._remove_files
    name_owner = ContainerStore._name_owner
    removing = []

    def remove_files_stopping(self, container_id, name):
        removing.append(container_id)
        try:
            return remove_files(self, container_id, name)
        finally:
            removing.pop()

    def name_owner_stopping(self, name):
        if removing:  # _remove_files looks at the name link right after moving the record away
            stop_at("record-removed")
        return name_owner(self, name)

    from nsbox.engine.launching import ContainerLauncher
    record_exit = ContainerLauncher._record_exit

    def record_exit_stopping(self, *args, **kwargs):
        record = record_exit(self, *args, **kwargs)
        if kwargs.get("removing"):
            stop_at("exit-recorded")
        return record

    launch = ContainerLauncher.launch

    def launch_stopping(self, *args, **kwargs):
        if sys.argv[0].endswith("monitor_exit.py"):
            stop_at("relaunching")
        return launch(self, *args, **kwargs)

    from nsbox.engine import removal, undo
    attempt = undo.Steps._attempt

    def attempt_stopping(self, name, action):
        attempt(self, name, action)
        stop_at(f"after {name}")

    undo.Steps._attempt = attempt_stopping
    mark_removing = removal._mark_removing

    def mark_removing_stopping(engine, record):
        mark_removing(engine, record)
        stop_at("removal-marked")

    from nsbox.engine.containers import Engine
    start = Engine.start

    def start_stopping(self, *args, **kwargs):
        record = start(self, *args, **kwargs)
        stop_at("start-returned")
        return record

    Engine.start = start_stopping
    removal._mark_removing = mark_removing_stopping
    ContainerLauncher._record_exit = record_exit_stopping
    ContainerLauncher.launch = launch_stopping
    ContainerStore.add = add_stopping_once_named
    ContainerStore._remove_files = remove_files_stopping
    ContainerStore._name_owner = name_owner_stopping

    for runtime in (runtimes.NsboxRuntime, runtimes.BinaryRuntime):
        def wrap(method, step):
            def stopping(self, *args, **kwargs):
                result = method(self, *args, **kwargs)
                stop_at(step)
                return result
            return stopping
        runtime.create = wrap(runtime.create, "created")
        runtime.start = wrap(runtime.start, "started")

    execv = os.execv

    def execv_stopping(path, args):  # the monitor's exec of its loop comes right after its report
        stop_at("reported")
        execv(path, args)

    os.execv = execv_stopping


if STEP:
    _install()
