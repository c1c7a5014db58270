"""process.terminal: a new pty whose master is sent over --console-socket, as runc does."""
from __future__ import annotations

import os
import socket
import threading


def receive_master(listener: socket.socket, box: list) -> None:
    connection, _ = listener.accept()
    with connection:
        _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
        box.extend(fds)


def test_terminal_master_arrives_on_the_console_socket(make_bundle, runtime, tmp_path):
    def edit(spec):
        spec["process"]["terminal"] = True
        spec["process"]["consoleSize"] = {"height": 33, "width": 101}
    bundle = make_bundle(["sh", "-c", "tty; stty size; test -t 0 && echo stdin-is-a-tty; ls -l /dev/console"], edit)
    path = str(tmp_path / "console.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    box: list[int] = []
    thread = threading.Thread(target=receive_master, args=(listener, box))
    thread.start()
    try:
        runtime("create", "--console-socket", path, "--bundle", bundle, "tty", check=True)
        thread.join(timeout=10)
        assert len(box) == 1, "no pty master was sent"
        master = box[0]
        runtime("start", "tty", check=True)
        output = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the slave side closed
                break
            if not chunk:
                break
            output += chunk
        os.close(master)
    finally:
        listener.close()
        thread.join(timeout=1)
    lines = output.decode().replace("\r", "").splitlines()
    assert lines[0].startswith("/dev/pts/")
    assert lines[1] == "33 101"
    assert lines[2] == "stdin-is-a-tty"
    assert lines[3].startswith("crw")
    runtime("delete", "tty", check=True)


def test_console_socket_that_does_not_exist(make_bundle, runtime, tmp_path):
    def edit(spec):
        spec["process"]["terminal"] = True
    result = runtime("create", "--console-socket", str(tmp_path / "none.sock"), "--bundle",
                     make_bundle(["true"], edit), "notty")
    assert result.returncode == 125 and "--console-socket" in result.stderr
    assert runtime("list", "-q").stdout == ""


def test_foreground_run_with_a_terminal_needs_no_console_socket(make_bundle, runtime):
    """`nsbox-runtime run` at a shell, like `runc run`: the runtime holds the pty itself."""
    import pty
    import time

    def edit(spec):
        spec["process"]["terminal"] = True
    bundle = make_bundle(["sh", "-c", "tty; read line; echo got:$line; stty size; exit 5"], edit)
    pid, terminal = pty.fork()
    if pid == 0:
        os.execv(runtime.binary, [runtime.binary, "--root", runtime.root, "run", "--bundle", bundle, "fgtty"])
    import fcntl
    import struct
    import termios
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    output = b""
    deadline = time.monotonic() + 10
    while b"/dev/pts/" not in output and time.monotonic() < deadline:
        output += os.read(terminal, 1024)
    os.write(terminal, b"hello\r")
    while True:
        try:
            chunk = os.read(terminal, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    text = output.decode().replace("\r", "")
    assert os.waitstatus_to_exitcode(status) == 5, text
    assert "got:hello" in text
    assert "40 120" in text
    assert runtime("list", "-q").stdout == ""
