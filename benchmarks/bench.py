"""The shared ground of one benchmark run: a work directory, the busybox image in every
tool's store, the private daemons, and the cgroup parent every tool gets.

Everything is made lazily (a case that needs docker starts dockerd; one that does not,
does not) and undone by `close()`: daemons stopped, stores removed, cgroups removed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from functools import cached_property

from benchmarks.harness import Skip, quiet

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
NSBOX = os.path.join(VENV_BIN, "nsbox")
NSBOX_RUNTIME = os.path.join(VENV_BIN, "nsbox-runtime")
# podman and docker raise RLIMIT_NOFILE/NPROC by default; root here lacks CAP_SYS_RESOURCE
PODMAN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def which(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise Skip(f"{tool} is not installed")
    return path


class Bench:
    """One run's shared state. `parent` is the relative cgroup parent (below this process's
    own cgroup) that every tool's containers go under."""

    def __init__(self, log=print) -> None:
        self.log = log
        self.work = tempfile.mkdtemp(prefix="nsbox-bench.", dir="/run")  # tmpfs, as each tool's own state
        self.parent = f"nsbox-bench-{os.getpid()}"
        self._closers: list = []
        os.environ["NSBOX_CGROUP_PARENT"] = f"{self.parent}/nsbox"
        self._counter = 0

    def unique(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter}"

    def on_close(self, closer) -> None:
        self._closers.append(closer)

    def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception as error:  # keep closing the others
                self.log(f"  cleanup: {error}")
        self._closers.clear()
        for mount in mounts_below(self.work):  # podman's store mount, when its reset failed
            subprocess.run(["umount", "-l", mount], capture_output=True)
        if not mounts_below(self.work):  # never delete through a mount that is still there
            shutil.rmtree(self.work, ignore_errors=True)

    # the image, in every form the tools take it
    @cached_property
    def rootfs(self) -> str:
        sys.path.insert(0, os.path.join(REPO, "src"))
        from nsbox.busybox import make_rootfs
        return make_rootfs(os.path.join(self.work, "rootfs"))

    @cached_property
    def rootfs_tar(self) -> str:
        path = os.path.join(self.work, "rootfs.tar")
        with tarfile.open(path, "w") as archive:
            for name in sorted(os.listdir(self.rootfs)):
                archive.add(os.path.join(self.rootfs, name), arcname=name)
        return path

    def bundle(self, name: str, args: list[str], cgroup: str | None = None) -> str:
        """An OCI bundle running `args` on the shared read-only busybox rootfs."""
        from nsbox.oci.default_spec import default_spec
        from nsbox.oci.jsonio import dumps
        bundle = os.path.join(self.work, "bundles", name)
        os.makedirs(bundle, exist_ok=True)
        spec = default_spec(args=args)
        spec["process"]["terminal"] = False
        spec["root"] = {"path": self.rootfs, "readonly": True}
        spec["linux"]["cgroupsPath"] = f"{self.parent}/{cgroup or name}"
        with open(os.path.join(bundle, "config.json"), "w") as config:
            config.write(dumps(spec))
        return bundle

    # nsbox
    @cached_property
    def nsbox(self) -> list[str]:
        """`nsbox --root R` with the busybox image imported as `busybox`."""
        base = [NSBOX, "--root", os.path.join(self.work, "nsbox")]
        quiet([*base, "import", self.rootfs_tar, "busybox"])
        self.on_close(lambda: self._nsbox_cleanup(base))
        return base

    @staticmethod
    def _nsbox_cleanup(base: list[str]) -> None:
        ids = subprocess.run([*base, "ps", "-aq"], capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run([*base, "rm", "-f", *ids], capture_output=True)

    # podman
    @cached_property
    def podman(self) -> list[str]:
        """podman with its own root and runroot, cgroupfs, runc, the image as localhost/busybox."""
        which("podman")
        base = ["podman", "--root", os.path.join(self.work, "podman-root"), "--runroot",
                os.path.join(self.work, "podman-run"), "--tmpdir", os.path.join(self.work, "podman-tmp"),
                "--cgroup-manager", "cgroupfs", "--runtime", "runc",
                "--events-backend", "file", "--storage-driver", "overlay"]
        quiet([*base, "import", self.rootfs_tar, "localhost/busybox"])
        self.on_close(lambda: (subprocess.run([*base, "rm", "-af", "-t", "0"], capture_output=True),
                               subprocess.run([*base, "system", "reset", "-f"], capture_output=True)))
        return base

    @property
    def podman_run_flags(self) -> list[str]:
        """Flags every `podman run` gets: conmon stays in the caller's cgroup (podman reads a
        cgroupfs parent as absolute and would put conmon at each hierarchy's root), limits
        that root without CAP_SYS_RESOURCE may set."""
        return ["--cgroups=no-conmon", "--cgroup-parent", self.parent + "/podman", *PODMAN_LIMITS]

    # docker
    @cached_property
    def docker(self) -> list[str]:
        """`docker -H unix://private.sock` of a private dockerd (own data root, exec root,
        socket and pid file; no bridge, no iptables), the image as busybox:bench."""
        which("dockerd")
        which("docker")
        socket = os.path.join(self.work, "docker.sock")
        exec_root = os.path.join(self.work, "docker-exec")
        log = open(os.path.join(self.work, "dockerd.log"), "w")
        daemon = subprocess.Popen(
            ["dockerd", "--data-root", os.path.join(self.work, "docker-data"), "--exec-root", exec_root,
             "-H", f"unix://{socket}", "--pidfile", os.path.join(self.work, "docker.pid"), "--bridge", "none",
             "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--storage-driver", "overlay2",
             "--cgroup-parent", f"{self.parent}/docker", "--containerd-namespace", self.parent,
             "--containerd-plugins-namespace", f"{self.parent}-plugins"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        base = ["docker", "-H", f"unix://{socket}"]
        self.on_close(lambda: self._stop_dockerd(base, daemon, exec_root, log))
        deadline = time.monotonic() + 90
        while subprocess.run([*base, "version"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise Skip(f"dockerd did not start (see {self.work}/dockerd.log)")
            time.sleep(0.2)
        quiet([*base, "import", self.rootfs_tar, "busybox:bench"])
        return base

    @staticmethod
    def _stop_dockerd(base: list[str], daemon: subprocess.Popen, exec_root: str, log) -> None:
        ids = subprocess.run([*base, "ps", "-aq"], capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run([*base, "rm", "-f", *ids], capture_output=True)
        stop(daemon)
        log.close()
        from benchmarks.harness import pids_matching
        for pid in pids_matching("containerd", exec_root):  # its containerd and shims, if they outlived it
            os.kill(pid, 9)

    # containerd, for ctr
    @cached_property
    def ctr(self) -> list[str]:
        """`ctr --address private.sock` of a private containerd (own root, state, socket),
        with the image as docker.io/library/busybox:bench."""
        which("containerd")
        which("ctr")
        socket = os.path.join(self.work, "containerd.sock")
        config = os.path.join(self.work, "containerd.toml")
        with open(config, "w") as out:  # no CRI, no gRPC TCP: only what ctr run needs
            out.write('version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n')
        log = open(os.path.join(self.work, "containerd.log"), "w")
        daemon = subprocess.Popen(
            ["containerd", "--config", config, "--root", os.path.join(self.work, "containerd-root"),
             "--state", os.path.join(self.work, "containerd-state"), "--address", socket],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        base = ["ctr", "--address", socket, "--namespace", self.parent]
        self.on_close(lambda: self._stop_containerd(base, daemon, socket, log))
        deadline = time.monotonic() + 60
        while subprocess.run([*base, "version"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise Skip(f"containerd did not start (see {self.work}/containerd.log)")
            time.sleep(0.2)
        archive = os.path.join(self.work, "busybox-oci.tar")
        quiet([*self.nsbox, "save", "-o", archive, "busybox"])
        quiet([*base, "images", "import", "--base-name", "docker.io/library/busybox", "--index-name",
               "docker.io/library/busybox:bench", archive])
        return base

    @staticmethod
    def _stop_containerd(base: list[str], daemon: subprocess.Popen, socket: str, log) -> None:
        tasks = subprocess.run([*base, "tasks", "ls", "-q"], capture_output=True, text=True).stdout.split()
        for task in tasks:
            subprocess.run([*base, "tasks", "kill", "-s", "KILL", task], capture_output=True)
        time.sleep(0.2 if tasks else 0)
        for container in subprocess.run([*base, "containers", "ls", "-q"], capture_output=True,
                                        text=True).stdout.split():
            subprocess.run([*base, "tasks", "delete", "-f", container], capture_output=True)
            subprocess.run([*base, "containers", "delete", container], capture_output=True)
        stop(daemon)
        log.close()
        from benchmarks.harness import pids_matching
        for pid in pids_matching("containerd-shim", socket):
            os.kill(pid, 9)


def mounts_below(directory: str) -> list[str]:
    """Mount points under `directory` in this mount namespace, deepest first."""
    with open("/proc/self/mountinfo") as info:
        points = [line.split()[4] for line in info]
    return sorted((point for point in points if point.startswith(directory + "/")), key=len, reverse=True)


def stop(daemon: subprocess.Popen) -> None:
    daemon.terminate()
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
