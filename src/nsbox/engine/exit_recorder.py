"""The exits of the containers a long-lived process started (`nsbox serve`), recorded in that
process: when a container's init has exited, its monitor (monitor_loop.c / .py) asks here
before starting `python -m nsbox.engine.monitor_exit`, sparing a new interpreter and its
imports on every exit. Only the container's own monitor is heard (its PID, from the socket's
peer credentials, must be the record's monitor), and only a container with no restart
policy is handled: a restarted init must be the monitor's child, so those go to the helper,
as does everything when this process is gone (the monitor's connect fails).

The socket is abstract (no file to leave behind); its name reaches the monitors in the
environment (NSBOX_EXIT_RECORDER), which they inherit from the process that forks them."""
from __future__ import annotations

import os
import socket
import struct
import threading

ENV = "NSBOX_EXIT_RECORDER"


class ExitRecorder:
    def __init__(self, root: str) -> None:
        self.root = root
        self.name = f"nsbox-exits-{os.getpid()}-{os.urandom(6).hex()}"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind("\0" + self.name)
        self.listener.listen(128)
        os.environ[ENV] = self.name  # before any thread: the monitors forked from now on inherit it
        threading.Thread(target=self._accept, name="exit-recorder", daemon=True).start()

    def close(self) -> None:
        os.environ.pop(ENV, None)
        self.listener.close()  # (the accepting thread ends with its next accept's error)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), name="exit-record", daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        from nsbox.errors import NsboxError
        with connection:
            try:
                peer_pid, peer_uid, _ = struct.unpack("3i", connection.getsockopt(
                    socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
                container_id, _, status = connection.recv(256).decode().strip().partition(" ")
                connection.sendall(self._record(container_id, int(status), peer_pid, peer_uid).encode() + b"\n")
            except (OSError, ValueError, NsboxError):
                pass  # the monitor hears nothing and runs monitor_exit itself

    def _record(self, container_id: str, status: int, peer_pid: int, peer_uid: int) -> str:
        """"exit" once recorded (and removed with --rm), "no" to leave it to monitor_exit."""
        from nsbox.engine.containers import Engine
        from nsbox.errors import NsboxError
        engine = Engine(self.root)
        try:
            record = engine.store.load(container_id)
        except (NsboxError, OSError):
            return "no"
        policy = (record.get("HostConfig") or {}).get("RestartPolicy") or {}
        if peer_uid != os.geteuid() or (record.get("Monitor") or {}).get("Pid") != peer_pid \
                or (policy.get("Name") or "no") != "no":
            return "no"
        from nsbox.engine.monitor_exit import main as record_exit
        return record_exit([self.root, container_id, str(status), str(peer_pid), "-1", "-1", ""])
