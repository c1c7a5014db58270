"""/containers/{id}/exec, /exec/{id}/start, /exec/{id}/json: the process runs as
`nsbox exec` in a child (on a pseudo-terminal when Tty), its output framed to the client
and the client's input (AttachStdin) passed to it."""
from __future__ import annotations

import os
import secrets
import subprocess
import threading

from nsbox.serve.http import ApiError, frame

_EXECS: dict[str, dict] = {}
_LOCK = threading.Lock()


def create(handler, request, name: str) -> None:
    from nsbox.engine.containers import Engine
    engine = Engine(handler.root)
    record = engine.get(name)
    _forget_removed(engine)
    if record["State"]["Status"] != "running":
        raise ApiError(409, f"Container {record['Id']} is not running")
    body = request.json()
    if not body.get("Cmd"):
        raise ApiError(400, "No exec command specified")
    exec_id = secrets.token_hex(32)
    with _LOCK:
        _EXECS[exec_id] = {"ID": exec_id, "ContainerID": record["Id"], "Running": False, "ExitCode": None,
                           "Pid": 0, "OpenStdin": bool(body.get("AttachStdin")), "Tty": bool(body.get("Tty")),
                           "ProcessConfig": {"entrypoint": body["Cmd"][0], "arguments": body["Cmd"][1:],
                                             "tty": bool(body.get("Tty")), "user": body.get("User") or ""},
                           "body": body}
    handler.send_json({"Id": exec_id}, 201)


def _forget_removed(engine) -> None:
    """Drop the execs of removed containers (Docker keeps an exec until its container goes):
    a long-lived server must not keep every exec it ever ran."""
    with _LOCK:
        for exec_id, found in list(_EXECS.items()):
            if not found["Running"] and not os.path.isdir(engine.paths.container(found["ContainerID"])):
                del _EXECS[exec_id]


def _get(exec_id: str) -> dict:
    with _LOCK:
        found = _EXECS.get(exec_id)
    if found is None:
        raise ApiError(404, f"No such exec instance: {exec_id}")
    return found


def inspect(handler, request, name: str) -> None:
    found = _get(name)
    handler.send_json({key: value for key, value in found.items() if key not in ("body", "terminal")})


def resize(handler, request, name: str) -> None:
    """The size of an exec's terminal (-t): set on the pty it runs on, which the process sees."""
    found = _get(name)
    rows, columns = (request.query.get(key) or "0" for key in ("h", "w"))
    if not (rows.isdigit() and columns.isdigit()):
        raise ApiError(400, f"h, w: give the terminal's rows and columns as numbers (got {rows!r}, {columns!r})")
    with _LOCK:
        master = found.get("terminal", -1)
        if master >= 0:
            _set_size(master, int(rows), int(columns))
    handler.send_empty(200)


def _set_size(master: int, rows: int, columns: int) -> None:
    import fcntl
    import struct
    import termios
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def nsbox_program() -> list[str]:
    """The `nsbox` command beside this interpreter (its launcher starts faster than -m)."""
    import sys
    launcher = os.path.join(os.path.dirname(sys.executable), "nsbox")
    return [launcher] if os.access(launcher, os.X_OK) else [sys.executable, "-m", "nsbox.cli.main"]


def _command(root: str, found: dict) -> list[str]:
    body = found["body"]
    args = [*nsbox_program(), "--root", root, "exec"]
    if found["Tty"]:
        args.append("-t")
    if found["OpenStdin"]:
        args.append("-i")
    for item in body.get("Env") or []:
        args += ["-e", item]
    if body.get("User"):
        args += ["-u", body["User"]]
    if body.get("WorkingDir"):
        args += ["-w", body["WorkingDir"]]
    return args + [found["ContainerID"], *body["Cmd"]]


def start(handler, request, name: str) -> None:
    found = _get(name)
    detach = bool(request.json().get("Detach"))
    command = _command(handler.root, found)
    if detach:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        found.update(Running=True, Pid=process.pid)
        threading.Thread(target=lambda: found.update(ExitCode=process.wait(), Running=False), daemon=True).start()
        handler.send_empty(200)
        return
    handler.hijack(found["Tty"])
    if found["Tty"]:
        code = _run_on_terminal(handler, command, found)
    else:
        code = _run_with_pipes(handler, command, found)
    found.update(ExitCode=code, Running=False)


def _run_with_pipes(handler, command: list[str], found: dict) -> int:
    process = subprocess.Popen(command, stdin=subprocess.PIPE if found["OpenStdin"] else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    found.update(Running=True, Pid=process.pid)
    if found["OpenStdin"]:
        threading.Thread(target=_pump_input, args=(handler, process.stdin.fileno(), True),  # type: ignore[union-attr]
                         daemon=True).start()
    lock = threading.Lock()

    def relay(pipe, stream: int) -> None:
        while data := os.read(pipe.fileno(), 65536):
            with lock:
                handler.wfile.write(frame(stream, data))
                handler.wfile.flush()
    errors = threading.Thread(target=relay, args=(process.stderr, 2), daemon=True)
    errors.start()
    try:
        relay(process.stdout, 1)
    except OSError:
        process.kill()
    errors.join()
    return process.wait()


def _run_on_terminal(handler, command: list[str], found: dict) -> int:
    master, slave = os.openpty()
    found["terminal"] = master
    size = found["body"].get("ConsoleSize") or [0, 0]  # [rows, columns] (API 1.42+): sized from the start
    if len(size) == 2 and all(isinstance(n, int) and n > 0 for n in size):
        _set_size(master, *size)
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                               preexec_fn=_controlling_terminal)
    os.close(slave)
    found.update(Running=True, Pid=process.pid)
    if found["OpenStdin"]:
        threading.Thread(target=_pump_input, args=(handler, master), daemon=True).start()
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last user is gone
                break
            if not data:
                break
            handler.wfile.write(data)
            handler.wfile.flush()
    except OSError:
        process.kill()
    code = process.wait()
    with _LOCK:
        found["terminal"] = -1
        os.close(master)
    return code


def _controlling_terminal() -> None:
    import fcntl
    import termios
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _pump_input(handler, target: int, close_at_end: bool = False) -> None:
    """The client's bytes (after the hijack) to the process's stdin, until the client half-closes."""
    try:
        while data := handler.connection.recv(65536):
            os.write(target, data)
    except OSError:
        pass
    if close_at_end:
        os.close(target)
