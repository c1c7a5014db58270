"""nsbox serve's build, export, diff, system df and prune endpoints, attach with stdin and
terminal sizes, and streams whose clients die — driven by the real docker CLI and docker-py,
each checked against nsbox's own store so that no other daemon could pass them."""
from __future__ import annotations

import io
import json
import os
import pty
import signal
import subprocess
import tarfile

import pytest

from tests import leaks
from tests.engine.test_serve import DOCKER, served  # noqa: F401 - the served fixture

pytestmark = pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")


def test_build_through_the_classic_builder_and_docker_py(served, tmp_path):
    context = tmp_path / "context"
    (context / "sub").mkdir(parents=True)
    (context / "sub" / "Containerfile").write_text("FROM busybox\nARG WORD=none\nCOPY note /note\n"
                                                   "RUN echo built-$WORD > /made\nLABEL team=a\n")
    (context / "note").write_text("from the context\n")
    env = dict(served.env, DOCKER_BUILDKIT="0")  # no buildx here: the CLI's classic builder sends a tar context
    built = subprocess.run([DOCKER, "build", "-t", "made:1", "-f", str(context / "sub" / "Containerfile"), "--build-arg", "WORD=cli",
                            str(context)], env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert "Successfully tagged made:1" in built.stdout
    assert served.nsbox.out("run", "--rm", "made:1", "cat", "/made", "/note") == "built-cli\nfrom the context\n"
    assert served.nsbox.out("image", "inspect", "-f", "{{.Config.Labels.team}}", "made:1") == "a\n"
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=f"unix://{served.socket}", version="auto")
    image, _ = client.images.build(fileobj=io.BytesIO(_tar({"Dockerfile": b"FROM busybox\nRUN echo py > /made\n"})),
                                   custom_context=True, tag="made:py")
    assert image.id == served.nsbox.out("image", "inspect", "-f", "{{.Id}}", "made:py").strip()
    assert served.nsbox.out("run", "--rm", "made:py", "cat", "/made") == "py\n"
    with pytest.raises(docker.errors.BuildError):
        client.images.build(fileobj=io.BytesIO(_tar({"Dockerfile": b"FROM busybox\nRUN exit 7\n"})),
                            custom_context=True, tag="broken")
    client.close()
    served.docker("rmi", "made:1", "made:py")


def _tar(files: dict[str, bytes]) -> bytes:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


def test_export_diff_system_df_and_prunes(served, tmp_path):
    served.docker("run", "--name", "changed", "busybox", "sh", "-c", "echo x > /new; rm /etc/passwd")
    diff = served.docker("diff", "changed").stdout
    assert diff == served.nsbox.out("diff", "changed") and "A /new\n" in diff and "D /etc/passwd\n" in diff
    exported = str(tmp_path / "rootfs.tar")
    served.docker("export", "-o", exported, "changed")
    with tarfile.open(exported) as tar:
        assert tar.extractfile("new").read() == b"x\n" and "etc/passwd" not in tar.getnames()
    served.docker("run", "-d", "--name", "alive", "busybox", "sleep", "1000")
    served.docker("volume", "create", "unused")
    df = served.docker("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}").stdout.splitlines()
    assert df[:3] == ["Images 1 1", "Containers 2 1", "Local Volumes 1 0"]
    pruned = served.docker("container", "prune", "-f").stdout
    assert served.nsbox.out("inspect", "-f", "{{.Id}}", "changed", check=False) == ""  # gone from nsbox's store
    assert served.nsbox.out("ps", "-a", "--format", "{{.Names}}") == "alive\n" and "Deleted Containers" in pruned
    served.docker("volume", "prune", "-f")  # API 1.42+: only anonymous volumes without --all
    assert "unused" in served.nsbox.out("volume", "ls")
    served.docker("volume", "prune", "-a", "-f")
    assert "unused" not in served.nsbox.out("volume", "ls")
    served.docker("rm", "-f", "alive")


def _on_terminal(served, argv: list[str], rows: int, columns: int) -> tuple[int, int]:
    """The docker CLI on a real pseudo-terminal of the given size: (pid, master fd)."""
    pid, fd = pty.fork()
    if pid == 0:
        import fcntl
        import struct
        import termios
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        os.execve(DOCKER, [DOCKER, *argv], served.env)
    return pid, fd


def _read_until(fd: int, wanted: bytes, nsbox, what: str) -> bytes:
    seen = b""

    def more() -> bool:
        nonlocal seen
        import select
        if select.select([fd], [], [], 0.2)[0]:
            seen += os.read(fd, 4096)
        return wanted in seen
    nsbox.wait_for(more, timeout=60, what=what)
    return seen


def test_run_it_takes_stdin_and_the_terminal_size_and_exec_it_too(served):
    pid, fd = _on_terminal(served, ["run", "-it", "--name", "shell", "busybox", "sh", "-c",
                                    "echo ready; while read line; do [ $line = end ] && exit 3; "
                                    "echo got-$line; stty size; done"], 33, 101)
    _read_until(fd, b"ready", served.nsbox, "the shell to start")
    os.write(fd, b"one\n")
    _read_until(fd, b"got-one", served.nsbox, "the line typed into the attached terminal")
    # the size the docker CLI sent (POST /containers/ID/resize) is the container's terminal's
    answers = []
    for attempt in range(20):
        os.write(fd, f"t{attempt}\n".encode())
        answers.append(_read_until(fd, f"got-t{attempt}".encode(), served.nsbox, "an answer"))
        if b"33 101" in b"".join(answers):
            break
    assert b"33 101" in b"".join(answers), answers
    os.write(fd, b"end\n")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3
    assert served.nsbox.out("inspect", "-f", "{{.State.ExitCode}} {{.Config.Tty}}", "shell") == "3 true\n"
    served.docker("run", "-d", "--name", "term", "busybox", "sleep", "1000")
    pid, fd = _on_terminal(served, ["exec", "-it", "term", "sh", "-c", "stty size; read line; echo got-$line"],
                           27, 91)
    _read_until(fd, b"27 91", served.nsbox, "the exec's terminal to have the client's size")
    os.write(fd, b"two\n")
    _read_until(fd, b"got-two", served.nsbox, "the exec to read its input")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    served.docker("rm", "-f", "term", "shell")


def _server_state(pid: int) -> tuple[int, int, list[int]]:
    """(threads, open fds, child processes) of the server."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        children.append(int(entry))
            except (OSError, IndexError):
                pass
    return len(os.listdir(f"/proc/{pid}/task")), len(os.listdir(f"/proc/{pid}/fd")), children


def test_clients_killed_during_attach_and_stats_leave_nothing_behind(served):
    served.docker("run", "-d", "--name", "quiet", "busybox", "sleep", "1000")  # attach: no output to fail on
    served.docker("run", "-dit", "--name", "tty", "busybox", "sh")  # attach with stdin: a forwarding thread
    threads, fds, children = _server_state(served.pid)
    assert children == []
    clients = [subprocess.Popen([DOCKER, "attach", "quiet"], env=served.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
               subprocess.Popen([DOCKER, "stats", "quiet"], env=served.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)]
    terminal_pid, terminal_fd = _on_terminal(served, ["attach", "tty"], 24, 80)
    os.write(terminal_fd, b"echo attached-$((6*7))\n")
    _read_until(terminal_fd, b"attached-42", served.nsbox, "input through the attach to reach the shell")
    assert clients[1].stdout.readline()  # type: ignore[union-attr]  # the stats stream is flowing
    served.nsbox.wait_for(lambda: _server_state(served.pid)[0] >= threads + 3, what="the streams' threads")
    for client in clients:
        client.kill()
        client.wait()
    os.kill(terminal_pid, signal.SIGKILL)
    os.waitpid(terminal_pid, 0)
    os.close(terminal_fd)

    def released() -> bool:
        now_threads, now_fds, now_children = _server_state(served.pid)
        return now_threads <= threads and now_fds <= fds and not now_children
    try:
        served.nsbox.wait_for(released, timeout=30, what="the server to let go of the dead clients' threads and fds")
    except AssertionError:
        raise AssertionError(f"threads, fds, children before: {(threads, fds, children)}, now: "
                             f"{_server_state(served.pid)}; {os.listdir(f'/proc/{served.pid}/task')}") from None
    assert served.nsbox.state("quiet")["Status"] == "running"  # the containers go on without their clients
    assert served.nsbox.state("tty")["Status"] == "running"
    served.docker("rm", "-f", "quiet", "tty")


def test_a_start_that_fails_gives_dockers_exit_codes_and_removes_an_rm_container(served):
    missing = served.docker("run", "--rm", "busybox", "nosuch", check=False, timeout=60)
    assert missing.returncode == 127 and "executable file not found" in missing.stderr
    not_executable = served.docker("run", "--rm", "busybox", "/etc/passwd", check=False, timeout=60)
    assert not_executable.returncode == 126
    assert served.nsbox.out("ps", "-aq") == ""  # --rm: removed, so the client's wait for the removal ended


def test_network_create_takes_the_macvlan_driver_and_its_parent(served):
    from tests.network.test_sub_interfaces import _kernel_has
    name, peer = leaks.TEST_LINK_PREFIX + "p", leaks.TEST_LINK_PREFIX + "q"
    subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", peer], check=True)
    try:
        if not _kernel_has("macvlan", name):
            pytest.skip("this kernel has no macvlan driver")
        served.docker("network", "create", "-d", "macvlan", "-o", f"parent={name}", "--subnet", "10.90.247.0/24",
                      "lan")
        shown = json.loads(served.nsbox.out("network", "inspect", "lan"))[0]  # in nsbox's own store
        assert shown["Driver"] == "macvlan" and shown["Options"] == {"parent": name}
        served.docker("network", "rm", "lan")
        assert "lan" not in served.nsbox.out("network", "ls")
    finally:
        subprocess.run(["ip", "link", "delete", name], capture_output=True)


def test_execs_of_a_removed_container_are_forgotten(served):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=f"unix://{served.socket}", version="auto")
    first = client.containers.run("busybox", ["sleep", "1000"], detach=True)
    second = client.containers.run("busybox", ["sleep", "1000"], detach=True)
    old = client.api.exec_create(first.id, ["true"])["Id"]
    client.api.exec_start(old)
    assert client.api.exec_inspect(old)["ExitCode"] == 0
    first.remove(force=True)
    assert second.exec_run(["echo", "hi"]).output == b"hi\n"  # an exec after the removal ...
    with pytest.raises(docker.errors.NotFound):
        client.api.exec_inspect(old)  # ... dropped the removed container's exec (no endless growth)
    second.remove(force=True)
    client.close()
    assert served.nsbox.out("ps", "-aq") == ""


def test_serve_records_its_containers_exits_and_their_monitors_fall_back_without_it(nsbox, tmp_path):
    """serve runs from an interpreter path removed once it listens: a monitor's own helper
    (PYTHON -m nsbox.engine.monitor_exit) cannot start then, so only serve can record exits;
    once serve is gone and the path is back, the monitors' helpers do it again."""
    import site
    import sys

    import nsbox as package
    python = tmp_path / "python"
    os.symlink(os.path.realpath(sys.executable), python)
    source = os.path.dirname(os.path.dirname(package.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([source, *site.getsitepackages()]))
    socket_path = str(tmp_path / "s.sock")
    server = subprocess.Popen([str(python), "-m", "nsbox.cli.main", "--root", nsbox.root, "serve", "-H",
                               f"unix://{socket_path}"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        nsbox.wait_for(lambda: os.path.exists(socket_path), timeout=30, what="the socket")
        os.unlink(python)
        docker_env = dict(os.environ, DOCKER_HOST=f"unix://{socket_path}", DOCKER_CONFIG=str(tmp_path / "dc"))

        def docker(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([DOCKER, *args], env=docker_env, capture_output=True, text=True, timeout=60)
        ran = docker("run", "--rm", "busybox", "sh", "-c", "echo recorded; exit 5")
        assert (ran.returncode, ran.stdout) == (5, "recorded\n")
        assert nsbox.out("ps", "-aq") == ""  # --rm done: by serve, since no helper could start
        assert docker("run", "-d", "--name", "later", "busybox", "sleep", "2").returncode == 0
        init = nsbox.state("later")["Pid"]
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0
    nsbox.wait_for(lambda: not os.path.exists(f"/proc/{init}"), what="the container's exit")
    # no serve to ask and no interpreter for its monitor's helper: ...
    assert nsbox.state("later")["Status"] == "running"  # ... so its exit is not recorded yet
    os.symlink(os.path.realpath(sys.executable), python)  # its monitor's next try succeeds
    nsbox.wait_for(lambda: nsbox.state("later")["Status"] == "exited", timeout=30, what="the helper's record")
    assert nsbox.state("later")["ExitCode"] == 0
    nsbox("rm", "later")


def test_piped_input_to_run_i_and_events_since_until(served):
    for _ in range(3):  # no terminal: the input reaches the container's stdin (a FIFO its monitor opened)
        ran = served.docker("run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo end", input="one\ntwo\n",
                            stdin=None)
        assert ran.stdout == "one\ntwo\nend\n", ran.stderr
    assert served.docker("run", "-i", "--rm", "busybox", "wc", "-l", input="x\n" * 100000,
                         stdin=None).stdout.strip() == "100000"  # more than a pipe holds
    # input to a running container without a terminal has nowhere to go, but sending it must not
    # reset the connection (the CLI failed 'connection reset by peer', exit 1)
    served.docker("run", "-d", "-i", "--name", "held", "busybox", "sh", "-c", "sleep 1; exit 4")
    attached = served.docker("attach", "held", input="ignored\n", stdin=None, check=False)
    assert (attached.returncode, attached.stderr) == (4, ""), attached.stderr
    served.docker("rm", "held")
    shown = served.docker("events", "--since", "10m", "--until", "0s", "--format", "{{.Action}}").stdout.split()
    assert shown.count("destroy") == 5 and shown.count("start") == 5  # the journal up to now, then the end
    served.docker("run", "-d", "--name", "idle", "busybox", "sleep", "1000")
    limit = served.docker("stats", "--no-stream", "--format", "{{.MemUsage}}", "idle").stdout
    assert "EiB" not in limit and "GiB" in limit  # no limit: the host's memory, as Docker shows it
    served.docker("rm", "-f", "idle")


def test_an_error_answer_tells_the_client_the_connection_ends(served):
    """After an error the server closes the connection (a body the handler did not read must
    not pass for a request), so the answer must say so: a client keeping it alive would send
    its next request into a closed socket (`docker network rm -f gone other` got 'connection
    reset by peer' that way, under load)."""
    import socket
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(served.socket)
        client.sendall(b"GET /v1.44/networks/nosuch HTTP/1.1\r\nHost: docker\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += client.recv(4096)
    head = answer.split(b"\r\n\r\n")[0].decode().lower().split("\r\n")
    assert head[0].split()[1] == "404"
    assert "connection: close" in head
