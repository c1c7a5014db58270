"""--detach-keys (^P^Q) and attach, under real pseudo-terminals: detaching leaves the
container running, attach gets back to its terminal, and its exit ends the attach."""
from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time

TIOCSWINSZ = 0x5414


class PtySession:
    """A command on a pseudo-terminal of its own: send keys, wait for text, wait for its exit."""

    def __init__(self, command: list[str], rows: int = 30, cols: int = 90) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.output = b""
        self.answered = 0

    def expect(self, text: bytes, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not seen; the terminal showed {self.output!r}")
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.output += os.read(self.master, 4096)
                except OSError:
                    pass
                self.answer_queries()

    def answer_queries(self) -> None:
        """Answer busybox sh's cursor-position queries as a real terminal does (it waits for them)."""
        asked = self.output.count(b"\x1b[6n")
        if asked > self.answered:
            self.send(b"\x1b[1;1R" * (asked - self.answered))
            self.answered = asked

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def command(self, line: bytes, shows: bytes) -> None:
        """Type `line` at the shell's prompt and wait for `shows`."""
        self.prompt()
        self.send(line + b"\r")
        self.expect(shows)
        self.prompt()

    def prompt(self) -> None:
        """Wait for the shell's prompt (and its cursor query, answered), then mark it seen."""
        self.expect(b"# \x1b[6n")
        self.output = self.output.replace(b"# \x1b[6n", b"#_\x1b[6n")

    def exit_code(self, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.output += os.read(self.master, 4096)
                except OSError:
                    time.sleep(0.05)
        code = self.process.wait(timeout=1)
        os.close(self.master)
        return code


# a line reader, not an interactive shell: its output answers each line typed, with no prompt to wait for
READER = ["sh", "-c", 'echo ready; while read line; do [ "$line" = quit ] && exit 7; echo "got:$line"; done']


def test_ctrl_p_ctrl_q_detaches_and_attach_gets_back(nsbox):
    session = PtySession(nsbox.command("run", "-it", "--name", "held", "busybox", *READER))
    session.expect(b"ready")
    session.send(b"one\r")
    session.expect(b"got:one")
    session.send(b"\x10\x11")  # ^P ^Q
    assert session.exit_code() == 0, session.output
    state = nsbox.state("held")
    assert state["Running"] and os.path.exists(f"/proc/{state['Pid']}")  # the container runs on, detached

    again = PtySession(nsbox.command("attach", "held"))
    again.send(b"two\r")
    again.expect(b"got:two")  # the same process, its terminal reached through attach
    again.send(b"\x10\x11")
    assert again.exit_code() == 0 and nsbox.state("held")["Running"]

    last = PtySession(nsbox.command("attach", "held"))
    last.send(b"quit\r")
    assert last.exit_code() == 7  # the container's exit ends the attach with its code
    nsbox.wait_for(lambda: not nsbox.state("held")["Running"], what="the exit to be recorded")
    assert nsbox.state("held")["ExitCode"] == 7
    logs = nsbox.out("logs", "held")
    assert "got:one" in logs and "got:two" in logs


def test_detached_terminal_container_and_other_detach_keys(nsbox):
    nsbox("run", "-dit", "--name", "bg", "busybox", *READER)
    session = PtySession(nsbox.command("attach", "--detach-keys", "ctrl-a,x", "bg"))
    session.send(b"three\r")
    session.expect(b"got:three")
    session.send(b"\x10\x10\r")  # not the keys chosen: passed through to the container
    session.expect(b"got:\x10\x10")
    session.send(b"\x01x")
    assert session.exit_code() == 0, session.output
    assert nsbox.state("bg")["Running"]
    started = PtySession(nsbox.command("start", "-ai", "bg"))  # already running: start -a attaches
    started.send(b"quit\r")
    assert started.exit_code() == 7
    nsbox.wait_for(lambda: not nsbox.state("bg")["Running"], what="the exit to be recorded")
    stopped = nsbox("attach", "bg", check=False)
    assert stopped.returncode == 1 and "You cannot attach to a stopped container" in stopped.stderr
    nsbox("rm", "bg")


def test_exec_it_detaches_and_the_process_runs_on(nsbox):
    nsbox("run", "-d", "--name", "host", "busybox", "sleep", "60")
    session = PtySession(nsbox.command("exec", "-it", "host", "sh", "-c",
                                       'echo ready; read line; echo "$line" > /tmp/line; sleep 30'))
    session.expect(b"ready")
    session.send(b"kept\r")
    session.send(b"\x10\x11")
    assert session.exit_code() == 0, session.output
    nsbox.wait_for(lambda: nsbox("exec", "host", "cat", "/tmp/line", check=False).stdout == "kept\n",
                   what="the exec'd process to go on")
    assert "sleep 30" in nsbox.out("top", "host")  # still running in the container after the detach
    nsbox("rm", "-f", "host")


def test_start_a_shows_the_output_and_exit_of_a_container_that_ended_before_the_attach(nsbox):
    """Docker attaches before it starts; `nsbox start -a` must show the same of a quick
    container: here `start` is stopped right after the start until the container has
    ended (before, a fast container's output was lost, or the attach refused it as stopped)."""
    from tests.engine.test_crash import stopped_process, wait_stopped
    nsbox("create", "--name", "quick", "--network", "none", "busybox", "sh", "-c", "echo before; echo err >&2; exit 3")
    nsbox("start", "quick")  # a first run: its output is not the next start's
    nsbox.wait_for(lambda: nsbox.state("quick")["Status"] == "exited", what="the first run to end")
    process = stopped_process(nsbox.command("start", "-a", "quick"), "start-returned")
    try:
        wait_stopped(lambda: [process.pid])
        nsbox.wait_for(lambda: nsbox.state("quick")["Status"] == "exited" and nsbox.state("quick")["Pid"] == 0,
                       what="the container to end")
    finally:
        process.send_signal(18)  # SIGCONT
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (3, b"before\n", b"err\n")
    nsbox("rm", "quick")
