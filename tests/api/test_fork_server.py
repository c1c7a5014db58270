"""The fork server: nsbox.run's containers are created by a small helper process, not by
forking the caller; the helper says how each init ended, survives nothing of its caller,
and is replaced when it dies."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

import nsbox
from nsbox.api import fork_server


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("PPid:")).split()[1])


def state_of(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def command_of(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return cmdline.read().replace(b"\0", b" ").decode()


def with_a_ready_fork_server(client: nsbox.Client) -> None:
    """Run containers until a fork server has started up (the first runs do not wait for one)."""
    for _ in range(100):
        client.run("busybox", ["true"], network="none")
        if any(server.ready for server in fork_server.pool().servers):
            return
        threading.Event().wait(0.1)
    raise AssertionError("no fork server started up")


def test_the_first_run_does_not_wait_for_a_fork_server(root):
    script = (f"import os, nsbox; from nsbox.api import fork_server; "
              f"r = nsbox.Client({root!r}).run('busybox', ['sh', '-c', 'echo $PPID'], network='none'); "
              f"print(r.exit_code, *[s.pid for s in fork_server.pool().servers if not s.ready])")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(nsbox.__file__))))
    assert done.returncode == 0, done.stderr
    code, *helpers = done.stdout.split()
    assert code == "0" and len(helpers) == 1  # started for the next runs, not waited for (not seen ready)
    assert not os.path.exists(f"/proc/{helpers[0]}")  # and ended with its caller


def test_the_init_is_the_fork_servers_child_not_the_callers(client):
    with_a_ready_fork_server(client)
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as detached:
        assert parent_of(detached.pid) != os.getpid()  # a monitor's, as before: untouched
    found: dict[str, int] = {}

    def look() -> None:  # while the run below is running
        while not client.containers.list():
            threading.Event().wait(0.02)
        found["pid"] = client.containers.list()[0].pid
        found["parent"] = parent_of(found["pid"])
    watcher = threading.Thread(target=look)
    watcher.start()
    result = client.run("busybox", ["sh", "-c", "sleep 1; exit 5"], network="none")
    watcher.join()
    assert result.exit_code == 5  # the helper's wait status came back
    assert found["parent"] != os.getpid() and parent_of(found["parent"]) == os.getpid()
    assert "nsbox.api.fork_server_loop" in command_of(found["parent"])
    assert found["parent"] in [server.pid for server in fork_server.pool().servers]


def test_an_exec_is_started_by_the_fork_server_too(client):
    with_a_ready_fork_server(client)
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as container:
        found: dict[str, int] = {}

        def look() -> None:  # while the exec below runs
            for _ in range(500):
                execs = [p for p in container.top() if p["Command"] == "sleep 2"]
                if execs:
                    found["parent"] = parent_of(execs[0]["PID"])
                    return
                threading.Event().wait(0.02)
        watcher = threading.Thread(target=look)
        watcher.start()
        result = container.exec(["sh", "-c", "exec sleep 2"])
        assert container.exec(["sh", "-c", "echo out; exit 4"]).exit_code == 4  # its status came back
        watcher.join()
    assert result.exit_code == 0
    assert found["parent"] in [server.pid for server in fork_server.pool().servers]


def test_without_a_fork_server_the_caller_is_the_parent(root):
    client = nsbox.Client(root, fork_server=False)
    result = client.run("busybox", ["sh", "-c", "grep PPid /proc/self/status; echo $PPID"], network="none")
    assert result.exit_code == 0  # (inside, its parent is outside its PID namespace: 0)
    assert "fork_server" not in type(client.engine.runtime({"HostConfig": {}})).__name__.lower()


def test_errors_of_the_create_come_back_as_nsboxs_own(client):
    with_a_ready_fork_server(client)
    with pytest.raises(nsbox.RuntimeFailed) as raised:
        client.run("busybox", ["/no/such/program"], network="none")
    assert raised.value.exit_code == 127 and "/no/such/program" in str(raised.value)
    error = fork_server.rebuilt_error("nsbox.errors", "InvalidOption", ("--x: no",),
                                      {"option": "--x", "reason": "no"})
    assert isinstance(error, nsbox.InvalidOption) and (error.option, error.reason) == ("--x", "no")
    assert isinstance(fork_server.rebuilt_error("builtins", "FileNotFoundError", (2, "gone"), {}), FileNotFoundError)


def test_a_killed_fork_server_is_replaced(client):
    with_a_ready_fork_server(client)
    servers = [server.pid for server in fork_server.pool().servers]
    for pid in servers:
        os.kill(pid, 9)
    for pid in servers:
        while state_of(pid) != "Z":  # exited, not reaped yet
            threading.Event().wait(0.01)
    assert client.run("busybox", ["echo", "again"], network="none").stdout == b"again\n"
    with_a_ready_fork_server(client)
    assert not set(servers) & {server.pid for server in fork_server.pool().servers}
    for pid in servers:
        assert not os.path.exists(f"/proc/{pid}")  # reaped, not a zombie
