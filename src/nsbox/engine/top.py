"""The processes of a running container, as `nsbox top` lists them."""
from __future__ import annotations

from nsbox.linux import proc


def processes(engine, record: dict) -> list[dict]:
    """Each process of the container: host PID, PID inside (NSpid), user, command."""
    found = []
    for pid in sorted(engine.cgroup(record).pids()):
        try:
            status = proc.status(pid)
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        uid = int(status.get("Uid", "0").split()[0])
        found.append({"PID": pid, "NSPID": int(status.get("NSpid", str(pid)).split()[-1]),
                      "PPID": int(status.get("PPid", "0")), "UID": uid, "User": _user_name(uid),
                      "Command": command or f"[{status.get('Name', '?')}]"})
    return found


def _user_name(uid: int) -> str:
    import pwd
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
