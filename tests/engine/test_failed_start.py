"""A kept (not --rm) container whose start fails, for real causes: a missing or unexecutable
program, a CNI plugin that fails, a program gone from a container that ran before. As
Docker leaves it: the container stays ("created" if it never ran, else "exited"), the
error in State.Error, State.ExitCode and the CLI's exit 127 / 126 / 125 by cause; and
nothing of the failed start is held (no process, runtime state, cgroup, network
namespace, veth, address lease or port rule: only its root filesystem, mounted from
create to rm like every container's). `start` again and `rm` (no -f needed) work."""
from __future__ import annotations

import json
import os

import pytest

from tests import leaks
from tests.conftest import SESSION_BRIDGE
from tests.engine.test_crash import working_in
from tests.engine.test_damaged_records import cgroup_dirs_named, mounts_containing
from tests.network.test_bridge import free_port

NEVER_STARTED = "0001-01-01T00:00:00Z"


def held_by(nsbox, container_id: str) -> list[str]:
    """What the kernel and nsbox's run directory still hold for the container, beyond its record
    and its root filesystem's one overlay mount."""
    held = [f"cgroup {path}" for path in cgroup_dirs_named(container_id)]
    for part in ("run/runtime", "run/runc", "run/netns"):
        if os.path.exists(os.path.join(nsbox.root, part, container_id)):
            held.append(f"{part}/{container_id[:12]}")
    held += [f"mount {path}" for path in mounts_containing(container_id)
             if path != os.path.join(nsbox.root, "image", "rootfs", container_id, "merged")]
    held += [f"process {pid}" for pid in working_in(os.path.join(nsbox.root, "containers", container_id))]
    held += [f"veth {name}" for name in leaks.settled_bridge_ports(SESSION_BRIDGE)]
    held += [f"address lease {path}" for path in leaks.ipam_reservations(SESSION_BRIDGE)]
    return held


def failed_as_docker_says(nsbox, name: str, code: int, words: str, status: str = "created") -> dict:
    shown = nsbox.inspect(name)
    state = shown["State"]
    assert (state["Status"], state["Running"], state["Pid"], state["ExitCode"]) == (status, False, 0, code), state
    assert words in state["Error"], state
    assert held_by(nsbox, shown["Id"]) == []
    return shown


@pytest.mark.parametrize("detach", [[], ["-d"]])
@pytest.mark.parametrize("program, code", [("no-such-program", 127), ("/etc/passwd", 126)])
def test_a_program_that_cannot_run_leaves_the_container_created_with_its_error(nsbox, detach, program, code):
    result = nsbox("run", *detach, "--name", "broken", "--dns", "127.0.0.1", "busybox", program, check=False)
    assert result.returncode == code and program in result.stderr, result.stderr
    shown = failed_as_docker_says(nsbox, "broken", code, program)
    assert shown["State"]["StartedAt"] == NEVER_STARTED
    assert nsbox.out("ps", "-a", "--filter", "status=created", "-q") == shown["Id"][:12] + "\n"
    again = nsbox("start", "broken", check=False)  # the same cause, the same answer, nothing more held
    assert again.returncode == code and program in again.stderr, again.stderr
    failed_as_docker_says(nsbox, "broken", code, program)
    nsbox("rm", "broken")  # not running: no -f needed
    assert nsbox.out("ps", "-a", "-q") == ""


def test_a_failing_cni_plugin_leaves_no_namespace_veth_lease_or_port_rule(nsbox, tmp_path, monkeypatch):
    """The real plugins (bridge, host-local: a veth and a lease made for real) with a portmap
    that refuses its ADD, found first on NSBOX_CNI_PATH; then the real portmap: start works."""
    from nsbox.network.cni import cni_path
    plugins = tmp_path / "cni"
    plugins.mkdir()
    for directory in cni_path().split(":"):
        for name in os.listdir(directory) if os.path.isdir(directory) else []:
            if name != "portmap" and not (plugins / name).exists():
                (plugins / name).symlink_to(os.path.join(directory, name))
    (plugins / "portmap").write_text('#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] || exit 0\n'
                                     'echo \'{"cniVersion": "1.0.0", "code": 11, "msg": "portmap refuses"}\'\n'
                                     'exit 1\n')
    (plugins / "portmap").chmod(0o755)
    port = free_port()
    monkeypatch.setenv("NSBOX_CNI_PATH", str(plugins))
    result = nsbox("run", "-d", "--name", "unlucky", "--dns", "127.0.0.1", "-p", f"127.0.0.1:{port}:80",
                   "busybox", "sleep", "300", check=False)
    assert result.returncode == 125 and "portmap refuses" in result.stderr, result.stderr
    failed_as_docker_says(nsbox, "unlucky", 125, "portmap refuses")
    assert not leaks.firewall_rules({f"dport {port} "})
    assert nsbox.inspect("unlucky")["NetworkSettings"]["SandboxKey"] == ""
    monkeypatch.delenv("NSBOX_CNI_PATH")
    nsbox("start", "unlucky")
    state = nsbox.state("unlucky")
    assert state["Running"] and state["ExitCode"] == 0 and state["Error"] == "", state
    assert nsbox.out("port", "unlucky", "80").strip() == f"127.0.0.1:{port}"
    nsbox("rm", "-f", "unlucky")


def test_a_container_that_ran_before_stays_exited_with_the_new_error(nsbox):
    """Its program deleted itself (busybox's rm is a link): the next start finds no program."""
    nsbox("run", "--name", "once", "--network", "none", "busybox", "/bin/rm", "/bin/rm")
    first = nsbox.state("once")
    assert first["Status"] == "exited" and first["ExitCode"] == 0
    result = nsbox("start", "once", check=False)
    assert result.returncode == 127 and "/bin/rm" in result.stderr, result.stderr
    state = failed_as_docker_says(nsbox, "once", 127, "/bin/rm", status="exited")["State"]
    assert (state["StartedAt"], state["FinishedAt"]) == (first["StartedAt"], first["FinishedAt"])
    assert "Exited (127)" in nsbox.out("ps", "-a")
    nsbox("rm", "once")


@pytest.mark.parametrize("detach", [[], ["-d"]])
def test_an_init_killed_between_create_and_start_leaves_nothing_held(nsbox, detach):
    """The runtime has created the container (its init waits for the start, its network is
    being ADDed) when the init is killed (tests/faults stops nsbox right there): the start
    fails, and what the launch had made by then, the runtime's container and the network's
    namespace, veth and lease, is released; the container stays created, and starts later."""
    import signal
    from tests.engine.test_crash import stopped_process, wait_stopped
    process = stopped_process(nsbox.command("run", *detach, "--name", "victim", "--dns", "127.0.0.1", "busybox",
                                            "sleep", "300"), "created")
    launcher = wait_stopped(lambda: [process.pid] + working_in(os.path.join(nsbox.root, "containers")))
    runtime_states = os.path.join(nsbox.root, "run", "runtime")
    (container_id,) = [name for name in os.listdir(runtime_states) if len(name) == 64]
    with open(os.path.join(runtime_states, container_id, "state.json")) as state:
        os.kill(json.load(state)["pid"], signal.SIGKILL)
    os.kill(launcher, signal.SIGCONT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 125 and b"start" in error, error
    failed_as_docker_says(nsbox, "victim", 125, "start")
    nsbox("start", "victim")
    assert nsbox.state("victim")["Running"]
    nsbox("rm", "-f", "victim")


def test_a_restart_policy_s_relaunch_that_fails_leaves_it_exited_with_the_error(nsbox):
    """--restart always: the first run deletes its own program, the relaunch cannot start it;
    the monitor gives up, and the container is exited with the relaunch's error and code."""
    nsbox("run", "-d", "--name", "once", "--restart", "always", "--dns", "127.0.0.1", "busybox", "/bin/rm", "/bin/rm")
    nsbox.wait_for(lambda: nsbox.state("once")["Error"], what="the relaunch's error")
    shown = failed_as_docker_says(nsbox, "once", 127, "/bin/rm", status="exited")
    assert shown["RestartCount"] == 1 and shown["State"]["StartedAt"] != NEVER_STARTED
    monitor = shown["State"]["MonitorPid"]
    nsbox.wait_for(lambda: not os.path.exists(f"/proc/{monitor}/cmdline") or
                   open(f"/proc/{monitor}/cmdline").read() == "", what="the monitor's end")
    nsbox("rm", "once")


def test_ctrl_c_while_run_creates_leaves_the_container_created_and_nothing_held(nsbox):
    """^C (SIGINT) reaches a foreground `run` while the runtime has created the container
    (its init waits, its network is being ADDed): the CLI exits 130, as after any ^C, and the
    container stays created with nothing of the launch held."""
    import signal
    from tests.engine.test_crash import stopped_process, wait_stopped
    process = stopped_process(nsbox.command("run", "--name", "interrupted", "--dns", "127.0.0.1", "busybox",
                                            "sleep", "300"), "created")
    wait_stopped(lambda: [process.pid])
    os.kill(process.pid, signal.SIGINT)
    os.kill(process.pid, signal.SIGCONT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    failed_as_docker_says(nsbox, "interrupted", 130, "interrupted")
    nsbox("rm", "interrupted")
