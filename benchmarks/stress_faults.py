"""Fault stress (issue 11): many `nsbox run`s with random SIGKILLs of the CLI, of monitors
and of `rm -f`, and a disk filled at random moments; after each round `ps -a` must match
the kernel, and `rm -f $(ps -aq)` + `system prune -f` must leave nothing behind.

    sudo .venv/bin/python -m benchmarks.stress_faults [--runs 1000] [--round 50] [--seed N]

Not part of the test suite (it takes many minutes). The nsbox root is a small tmpfs
mounted under a temporary directory (so the disk can be filled for real) and unmounted
at the end; containers go in a cgroup parent below this process's own cgroup. Prints the
counts as JSON; exits 1 if any round found a mismatch or a leftover.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NSBOX = os.path.join(HERE, ".venv", "bin", "nsbox")
PYTHON = os.path.join(HERE, ".venv", "bin", "python")
PYTHON_NAMES = ("Traceback", "Error:", "Errno")


class Stress:
    def __init__(self, root: str, disk: str, seed: int) -> None:
        self.root = root
        self.disk = disk
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.problems: list[str] = []
        self.live: list[subprocess.Popen] = []

    def nsbox(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([NSBOX, "--root", self.root, *args], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)

    def spawn(self, *args: str) -> subprocess.Popen:
        process = subprocess.Popen([NSBOX, "--root", self.root, *args], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        self.live.append(process)
        return process

    # -- faults ----------------------------------------------------------------------

    def fill_disk(self) -> None:
        leave = self.random.choice([0, 0, 4096, 8192, 65536])
        fd = os.open(os.path.join(self.disk, "filler"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        chunk = 1 << 20
        try:
            while chunk:
                try:
                    if os.write(fd, b"\0" * chunk) < chunk:
                        chunk //= 2
                except OSError:
                    chunk //= 2
        finally:
            os.close(fd)
        filler = os.path.join(self.disk, "filler")
        os.truncate(filler, max(0, os.path.getsize(filler) - leave))
        self.counts["disk filled"] += 1

    def free_disk(self) -> None:
        try:
            os.unlink(os.path.join(self.disk, "filler"))
        except FileNotFoundError:
            pass

    def kill_later(self, process: subprocess.Popen, what: str) -> None:
        time.sleep(self.random.uniform(0, 0.4))
        if process.poll() is None:
            process.kill()
            self.counts[f"SIGKILL of {what}"] += 1

    def kill_a_monitor(self) -> None:
        listed = self.nsbox("ps", "-q", "--no-trunc").stdout.split()
        if not listed:
            return
        inspect = self.nsbox("inspect", self.random.choice(listed))
        try:
            monitor = json.loads(inspect.stdout)[0]["State"].get("MonitorPid")
        except (ValueError, IndexError, KeyError):
            return
        if monitor:
            try:
                os.kill(monitor, signal.SIGKILL)
                self.counts["SIGKILL of a monitor"] += 1
            except ProcessLookupError:
                pass

    # -- one run -----------------------------------------------------------------------

    def one_run(self) -> None:
        choice = self.random.random()
        self.counts["runs"] += 1
        if choice < 0.35:
            process = self.spawn("run", "--rm", "busybox", "sh", "-c", "echo hi; exit 3")
        elif choice < 0.7:
            process = self.spawn("run", "-d", "busybox", "sleep", str(self.random.randint(1, 20)))
        else:
            process = self.spawn("run", "busybox", "sh", "-c", "seq 200")
        if self.random.random() < 0.25:
            self.kill_later(process, "the run CLI")
        if self.random.random() < 0.1:
            self.kill_a_monitor()
        if self.random.random() < 0.15:
            listed = self.nsbox("ps", "-a", "-q", "--no-trunc").stdout.split()
            if listed:
                remover = self.spawn("rm", "-f", self.random.choice(listed))
                if self.random.random() < 0.5:
                    self.kill_later(remover, "rm -f")
        if self.random.random() < 0.05:
            self.fill_disk()
        elif self.random.random() < 0.2:
            self.free_disk()
        self.reap(block=len(self.live) > 4)

    def reap(self, block: bool) -> None:
        for process in list(self.live):
            if block:
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()
                    self.problems.append(f"hung: {process.args}")
            if process.poll() is not None:
                self.live.remove(process)
                stderr = process.stderr.read() if process.stderr else ""
                if process.stderr:
                    process.stderr.close()
                if any(name in stderr for name in PYTHON_NAMES):
                    self.problems.append(f"a Python error reached the user: {process.args[3:]}: {stderr[-400:]}")
                for line in stderr.splitlines():
                    if line.startswith("nsbox: "):
                        self.errors[_shape(line)] += 1

    # -- checks ------------------------------------------------------------------------

    def check_round(self, cgroup_dirs: list[str]) -> None:
        """ps -a against the kernel; then rm -f everything + prune: nothing may be left."""
        self.reap(block=True)
        self.free_disk()
        time.sleep(0.5)  # monitors that waited for room record their exits
        listing = self.nsbox("ps", "-a", "-q", "--no-trunc")
        if listing.returncode != 0:
            self.problems.append(f"ps -a failed: {listing.stderr}")
        ids = listing.stdout.split()
        deadline = time.monotonic() + 15  # monitors that waited for room back off up to 5 s
        while True:
            records = json.loads(self.nsbox("inspect", *ids).stdout or "[]") if ids else []
            states = {r["Id"]: r["State"] for r in records}
            wrong = [cid for cid, state in states.items()
                     if state["Status"] in ("running", "paused") and not _alive(state.get("Pid") or 0)]
            if not wrong or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for container_id in wrong:
            self.problems.append(f"ps -a shows {container_id[:12]} {states[container_id]['Status']} "
                                 "but its PID is gone")
        for directory in cgroup_dirs:
            for container_id in _children(directory):
                if _cgroup_pids(os.path.join(directory, container_id)) and states.get(container_id, {}).get(
                        "Status") not in ("running", "paused", "created", "restarting"):
                    self.problems.append(f"processes in cgroup {container_id[:12]} that ps -a does not show running")
        if ids:
            removal = self.nsbox("rm", "-f", *ids, timeout=600)
            if removal.returncode != 0:
                self.problems.append(f"rm -f failed: {removal.stderr[-400:]}")
        prune = self.nsbox("system", "prune", "-f", timeout=600)
        if prune.returncode != 0:
            self.problems.append(f"system prune failed: {prune.stderr[-400:]}")
        self.check_empty(cgroup_dirs)

    def check_empty(self, cgroup_dirs: list[str]) -> None:
        left = []
        for part in ("containers", "names", "run/runtime", "run/containers", "image/rootfs"):
            directory = os.path.join(self.root, part)
            entries = [name for name in _listdir(directory) if name != "@seccomp"]  # (a cache of filters)
            if entries:
                left.append(f"{part}: {entries[:3]}")
        with open("/proc/self/mountinfo") as mountinfo:
            left += [f"mount {line.split()[4]}" for line in mountinfo if line.split()[4].startswith(self.root + "/")]
        for directory in cgroup_dirs:
            left += [f"cgroup {directory}/{name}" for name in _children(directory)]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink(f"/proc/{entry}/cwd").startswith(self.root):
                        left.append(f"process {entry} working in the root")
                except OSError:
                    pass
        if left:
            self.problems.append(f"left behind: {left}")
            self.counts["rounds with leftovers"] += 1


def _shape(line: str) -> str:
    """An error line with IDs and numbers blanked, to count kinds of errors."""
    import re
    return re.sub(r"[0-9a-f]{12,64}|\d+", "N", line)[:120]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except FileNotFoundError:
        return []


def _children(directory: str) -> list[str]:
    try:
        return [name for name in os.listdir(directory) if os.path.isdir(os.path.join(directory, name))]
    except FileNotFoundError:
        return []


def _cgroup_pids(directory: str) -> list[str]:
    try:
        with open(os.path.join(directory, "cgroup.procs")) as procs:
            return procs.read().split()
    except OSError:
        return []


def cgroup_parent_dirs(parent: str) -> list[str]:
    from nsbox.cgroups import host
    v1, unified = host.mounts()
    own_v1, own_unified = host.own_cgroups()
    dirs = sorted({host.directory(mount, own_v1.get(controller), parent) for controller, mount in v1.items()})
    if unified is not None:
        dirs.append(host.directory(unified, own_unified, parent))
    return dirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--round", type=int, default=50)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--size", default="96m", help="the tmpfs under the nsbox root")
    options = parser.parse_args()
    sys.path.insert(0, os.path.join(HERE, "src"))
    parent = f"nsbox-stress-{os.getpid()}"
    os.environ["NSBOX_CGROUP_PARENT"] = parent
    work = tempfile.mkdtemp(prefix="nsbox-stress-")
    disk = os.path.join(work, "disk")
    os.mkdir(disk)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={options.size}", "tmpfs", disk], check=True)
    root = os.path.join(disk, "root")
    stress = Stress(root, disk, options.seed)
    started = time.monotonic()
    rounds = reported = 0
    try:
        subprocess.run([PYTHON, "-m", "nsbox.image.busybox_image", "--root", root, "busybox"], check=True,
                       capture_output=True)
        cgroup_dirs = cgroup_parent_dirs(parent)
        while stress.counts["runs"] < options.runs:
            for _ in range(min(options.round, options.runs - stress.counts["runs"])):
                stress.one_run()
            stress.check_round(cgroup_dirs)
            rounds += 1
            print(f"round {rounds}: {stress.counts['runs']} runs, {len(stress.problems)} problems so far",
                  *stress.problems[reported:], sep="\n  ", file=sys.stderr, flush=True)
            reported = len(stress.problems)
    finally:
        stress.reap(block=True)
        stress.free_disk()
        left = subprocess.run([NSBOX, "--root", root, "ps", "-a", "-q", "--no-trunc"], capture_output=True,
                              text=True).stdout.split()
        if left:
            subprocess.run([NSBOX, "--root", root, "rm", "-f", *left], capture_output=True)
        subprocess.run([NSBOX, "--root", root, "system", "prune", "-f"], capture_output=True)
        subprocess.run(["umount", "-l", disk], check=False)
        for directory in cgroup_parent_dirs(parent):
            for child in _children(directory):
                try:
                    os.rmdir(os.path.join(directory, child))
                except OSError:
                    stress.problems.append(f"cgroup {directory}/{child} could not be removed at the end")
            try:
                os.rmdir(directory)
            except OSError:
                pass
        os.rmdir(disk)
        os.rmdir(work)
    report = {"seed": options.seed, "seconds": round(time.monotonic() - started), "rounds": rounds,
              "counts": dict(stress.counts), "errors shown to users": dict(stress.errors.most_common(15)),
              "problems": stress.problems[:30], "problem count": len(stress.problems)}
    print(json.dumps(report, indent=1))
    return 1 if stress.problems else 0


if __name__ == "__main__":
    sys.exit(main())
