"""The work `nsbox run` does besides the runtime's, checked structurally (which files it
writes, syncs and looks at), not by timing: the benchmarks measure the time.

- a start rewrites no container configuration (its /etc file paths are recorded at creation);
- a --rm container's record is never fsynced (it lives no longer than the process), while a
  kept container's is;
- removing a --network none container scans no network's address leases.
"""
from __future__ import annotations

import os
import subprocess



def traced(nsbox, tmp_path, *args: str) -> list[str]:
    """The syscalls (fsync, file opens and stats) of `nsbox ARGS` and every process it starts."""
    log = tmp_path / "strace.log"
    result = subprocess.run(["strace", "-f", "-qq", "-o", str(log), "-e",
                             "trace=fsync,fdatasync,openat,newfstatat,statx,stat", *nsbox.command(*args)],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def test_a_start_rewrites_no_configuration(nsbox):
    nsbox("create", "--name", "quiet", "--network", "none", "busybox", "true")
    record = os.path.join(nsbox.root, "containers", nsbox.inspect("quiet")["Id"], "container.json")
    before = os.stat(record)
    nsbox("start", "-a", "quiet")
    after = os.stat(record)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not replaced, not written
    assert nsbox.inspect("quiet")["HostsPath"].endswith("/hosts")
    nsbox("rm", "quiet")


def test_a_rm_run_syncs_nothing_and_scans_no_leases(nsbox, tmp_path):
    calls = traced(nsbox, tmp_path, "run", "--rm", "--network", "none", "busybox", "true")
    assert [call for call in calls if "fsync(" in call or "fdatasync(" in call] == []
    assert [call for call in calls if "/ipam" in call] == []
    assert nsbox.out("ps", "-aq") == ""


def test_a_rm_run_reads_its_record_seldom_and_its_config_never(nsbox, tmp_path):
    """run --rm passes the record down instead of reading it at each step: container.json is
    read at the launch and the finish, and by the two updates (running, then exited and
    removing); the removal uses the record the last update wrote (it was read 10 times). The
    in-process runtime gets the config it was made from (config.json is written, for `exec`
    and other runtimes, and never read back)."""
    calls = traced(nsbox, tmp_path, "run", "--rm", "--network", "none", "busybox", "true")
    reads = [call for call in calls if call.split('"')[1:2] and call.split('"')[1].endswith("/container.json")
             and "O_RDONLY" in call]
    assert len(reads) == 4, reads
    written = [call for call in calls if "/config.json.tmp-" in call]
    assert written and not [call for call in calls if '/config.json"' in call], calls
    assert nsbox.out("ps", "-aq") == ""


def test_a_rm_run_writes_its_live_state_when_it_starts_and_when_it_ends(nsbox, tmp_path):
    """A new container's live state (/run) is its configuration's State: it is first written
    at the start ("running"), then once at the exit ("removing"); not at the creation too."""
    log = tmp_path / "strace.log"
    result = subprocess.run(["strace", "-f", "-qq", "-o", str(log), "-e", "trace=rename",
                             *nsbox.command("run", "--rm", "--network", "none", "busybox", "true")],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    live = os.path.join(nsbox.root, "run", "containers")
    writes = [line for line in log.read_text().splitlines() if f'"{live}/' in line and "/state.json.tmp-" in line]
    assert len(writes) == 2, writes
    assert nsbox.out("ps", "-aq") == ""


def test_a_created_container_shows_its_state_before_it_ever_ran(nsbox):
    nsbox("create", "--name", "fresh", "--network", "none", "busybox", "true")
    assert nsbox.state("fresh")["Status"] == "created"
    assert "fresh" in nsbox.out("ps", "-a", "--filter", "status=created")
    nsbox("start", "-a", "fresh")
    assert nsbox.state("fresh")["Status"] == "exited"
    nsbox("rm", "fresh")


def test_a_rm_run_makes_only_the_directories_it_needs(nsbox, tmp_path):
    """Each directory a run makes below the root it also removes, and on a disk mounted with
    `discard` (this machine's ext4) each rmdir waits for the disk: the container's own
    directory is its bundle (no bundle/ inside it). What the kernel makes itself (overlayfs's
    work/work) and what the init makes on its own tmpfs mounts inside merged/ are not counted."""
    nsbox("run", "--rm", "--network", "none", "busybox", "true")  # the first run makes the store's directories
    log = tmp_path / "strace.log"
    result = subprocess.run(["strace", "-f", "-qq", "-o", str(log), "-e", "trace=mkdir,mkdirat",
                             *nsbox.command("run", "--rm", "--network", "none", "busybox", "true")],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    made = []
    for line in log.read_text().splitlines():
        path = line.split('"')[1] if '"' in line else ""
        if line.rstrip().endswith("= 0") and path.startswith(nsbox.root + "/") and "/merged/" not in path:
            parts = path[len(nsbox.root) + 1:].split("/")
            made.append("/".join("ID" if len(part) == 64 else part for part in parts))
    assert sorted(made) == ["containers/ID", "image/rootfs/ID", "image/rootfs/ID/merged", "image/rootfs/ID/upper",
                            "image/rootfs/ID/work", "run/containers/ID", "run/runtime/ID"], made
    assert nsbox.out("ps", "-aq") == ""


def test_a_run_collects_no_garbage_until_its_container_runs(nsbox, tmp_path):
    """Start-up allocates what lives until the exit (modules, records): linux.collector keeps
    the garbage collector off until the container has started; the foreground run, which
    then relays for as long as the container runs, collects again from there."""
    from tests.collections_probe import noted_collections
    nsbox("run", "--rm", "--network", "none", "busybox", "true")  # (the first run compiles the seccomp profile)
    noted = noted_collections(nsbox.command("run", "--rm", "--network", "none", "busybox", "true"), tmp_path)
    assert "resumed" in noted and noted.index("resumed") == 0, noted
    assert nsbox.out("ps", "-aq") == ""


def test_the_exit_steps_load_while_the_init_builds_its_root(nsbox, tmp_path):
    """The foreground run imports what its start, finish and removal use while the runtime
    waits for the container's init (launch's while_waiting): after the init is cloned, before
    the start opens exec.fifo; not once the program has ended."""
    log = tmp_path / "strace.log"
    result = subprocess.run(["strace", "-f", "-qq", "-o", str(log), "-e", "trace=openat,clone,clone3",
                             *nsbox.command("run", "--rm", "--network", "none", "busybox", "true")],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    lines = log.read_text().splitlines()
    cli = lines[0].split()[0]
    calls = [line.split(None, 1)[1] for line in lines if line.split()[0] == cli]
    cloned = next(index for index, call in enumerate(calls) if call.startswith("clone"))  # (the init)
    started = next(index for index, call in enumerate(calls) if "/exec.fifo" in call and "O_PATH" not in call)
    imported = next(index for index, call in enumerate(calls) if "/engine/__pycache__/removal." in call)
    assert cloned < imported < started, (cloned, imported, started)


def test_a_kept_container_record_is_synced(nsbox, tmp_path):
    calls = traced(nsbox, tmp_path, "create", "--name", "kept", "--network", "none", "busybox", "true")
    assert [call for call in calls if "fsync(" in call]  # its record survives a power loss
    nsbox("rm", "kept")


def test_output_is_whole_though_the_cli_skips_the_interpreter_teardown(nsbox):
    """run, create, start, rm and ps end with os._exit: what they printed is flushed first
    (with Python's output buffered, as it is unless PYTHONUNBUFFERED is set)."""
    buffered = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    created = nsbox.out("create", "--name", "flushed", "busybox", "true", env=buffered).strip()
    assert len(created) == 64
    listed = nsbox.out("ps", "-a", "--no-trunc", env=buffered).splitlines()
    assert listed[0].startswith("CONTAINER ID") and created in listed[1]
    assert nsbox.out("rm", "flushed", env=buffered).strip() == "flushed"


def test_a_detached_run_syncs_its_record_while_the_monitor_launches(nsbox, tmp_path):
    """run -d writes the record without waiting for the disk and fsyncs it in the CLI
    after forking the monitor, so that the sync overlaps the container's launch."""
    log = tmp_path / "strace.log"
    # -b execve: let go of each process at its exec (the monitor becomes its loop and lives on)
    result = subprocess.run(["strace", "-f", "-b", "execve", "-qq", "-o", str(log), "-e", "trace=fsync,clone,clone3",
                             *nsbox.command("run", "-d", "--name", "synced", "--network", "none", "busybox",
                                            "sleep", "100")], capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    lines = log.read_text().splitlines()
    cli = lines[0].split()[0]
    calls = [line.split(None, 1)[1] for line in lines if line.split()[0] == cli]
    forked = next(index for index, call in enumerate(calls) if call.startswith("clone"))
    assert any(call.startswith("fsync(") for call in calls[forked:]), calls
    assert not any(call.startswith("fsync(") for call in calls[:forked]), calls
    assert nsbox.state("synced")["Running"]
    # the CLI exits at once, so it forks the monitor itself (once) instead of through a
    # child that orphans it: one fork of the engine fewer before the container starts
    children = [int(call.rsplit("=", 1)[1].split()[0]) for call in calls if call.startswith("clone")]
    assert children == [nsbox.state("synced")["MonitorPid"]], (children, calls)
    nsbox("rm", "-f", "synced")
