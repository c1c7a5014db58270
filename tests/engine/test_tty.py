"""-t: a real pseudo-terminal inside, our window size, raw keys through; run under a pty."""
from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import shutil
import termios
import time

import pytest

from tests.engine.conftest import runtimes_holding

TIOCSWINSZ = 0x5414


def under_pty(command: list[str], keys: bytes = b"", rows: int = 33, cols: int = 101, timeout: float = 30,
              resize: tuple[int, int] | None = None):
    """Run `command` on a new pseudo-terminal of the given size; (exit code, everything it printed).

    Once it prints READY, the terminal is resized to `resize` (if given) and `keys` are typed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                               preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    output = b""
    sent = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable, _, _ = select.select([master], [], [], 0.1)
        if readable:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if (keys or resize) and not sent and b"READY" in output:
            if resize:
                fcntl.ioctl(master, TIOCSWINSZ, struct.pack("HHHH", resize[0], resize[1], 0, 0))
            os.write(master, keys)
            sent = True
        if process.poll() is not None and not readable:
            break
    os.close(master)
    return process.wait(timeout=timeout), output.decode(errors="replace")


def test_run_t_gives_a_terminal_of_our_size(nsbox):
    code, output = under_pty(nsbox.command("run", "--rm", "-t", "busybox", "sh", "-c",
                                           "tty; stty size; test -t 0 && echo stdin-is-tty; exit 5"))
    assert code == 5, output
    assert "/dev/pts/0" in output
    assert "33 101" in output
    assert "stdin-is-tty" in output


def test_run_it_passes_keys_through(nsbox):
    script = "echo READY; read line; echo got:$line"
    code, output = under_pty(nsbox.command("run", "--rm", "-it", "busybox", "sh", "-c", script), keys=b"hello\r")
    assert code == 0, output
    assert "got:hello" in output


def test_window_size_follows_the_terminal(nsbox):
    script = ("stty size; echo READY; i=0; "
              "while [ \"$(stty size)\" != '40 120' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; stty size")
    code, output = under_pty(nsbox.command("run", "--rm", "-it", "busybox", "sh", "-c", script), resize=(40, 120),
                             timeout=90)
    assert code == 0 and "33 101" in output and "40 120" in output, output


def test_ctrl_c_reaches_the_container_process(nsbox):
    script = "trap 'echo interrupted; exit 7' INT; echo READY; while true; do sleep 0.1; done"
    code, output = under_pty(nsbox.command("run", "--rm", "-it", "busybox", "sh", "-c", script), keys=b"\x03")
    assert "interrupted" in output and code == 7, output


@pytest.mark.parametrize("runtime", ["nsbox", "runc"])
def test_exec_t_and_detached_t_logs(nsbox, runtime):
    if runtime == "runc" and not shutil.which("runc"):
        pytest.skip("runc is not installed")
    nsbox("run", "-d", "-t", "--runtime", runtime, "--name", "term", "busybox", "sh", "-c", "tty; sleep 100")
    nsbox.wait_for(lambda: "/dev/pts/0" in nsbox.out("logs", "term"), what="the tty in the logs")
    code, output = under_pty(nsbox.command("exec", "-t", "term", "sh", "-c", "tty; stty size"), rows=20, cols=70)
    assert runtimes_holding(nsbox, "term") == {runtime}
    nsbox("rm", "-f", "term")
    assert code == 0 and "/dev/pts/" in output and "20 70" in output, output
