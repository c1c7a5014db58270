"""containerd and dockerd from Debian's packages, each with private state under a temp dir.

Nothing of theirs touches the machine's own daemons: root, state, sockets, pid files and
the CNI directories are the test's; they are stopped, their mounts undone and their
directories removed afterwards. Cgroups go below the test's relative cgroup parent.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time

from tests.interop.runtimes import RUNC, OciRuntime
from tests.leaks import DAEMON_STATE_PREFIX

CONTAINERD_CONFIG = """version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{state}/containerd.sock"
[ttrpc]
  address = "{state}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{root}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  # Root here lacks CAP_SYS_RESOURCE: the sandbox's oom_score_adj (-998) cannot be set below our own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{root}/cni-bin"
    conf_dir = "{root}/cni-conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
{runtimes}"""

RUNTIME_HANDLER = """    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{name}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{name}.options]
        BinaryName = "{binary}"
        Root = "{root}"
        SystemdCgroup = false
"""


def wait_until(ready, what: str, log: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            with open(log) as lines:
                raise AssertionError(f"{what} did not come up in {timeout:.0f}s; its log:\n{lines.read()[-4000:]}")
        time.sleep(0.1)


def stop_daemon(daemon: subprocess.Popen, *directories: str) -> None:
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    for path in directories:
        subprocess.run(["umount", "-R", "--lazy", path], capture_output=True)
        with open("/proc/self/mountinfo") as info:
            below = sorted({line.split()[4] for line in info if line.split()[4].startswith(path + "/")},
                           key=len, reverse=True)
        for mount in below:
            subprocess.run(["umount", "--lazy", mount], capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


class Containerd:
    """A containerd with root under `base`, state (and sockets) under /run, CRI runtime
    handlers `runc` (the default) and `nsbox`, each with a state root of its own."""

    def __init__(self, base: str, runtimes: list[OciRuntime], pause_image: str = "localhost/pause:nsbox") -> None:
        self.root = os.path.join(base, "containerd-root")
        # /run: a short path (unix sockets have 108 bytes) on tmpfs, as containerd expects.
        self.state = tempfile.mkdtemp(prefix=f"{DAEMON_STATE_PREFIX}containerd-", dir="/run")
        self.socket = os.path.join(self.state, "containerd.sock")
        self.log = os.path.join(base, "containerd.log")
        self.runtimes = {runtime.name: runtime for runtime in runtimes}
        handlers = "".join(RUNTIME_HANDLER.format(name=r.name, binary=r.binary, root=r.root) for r in runtimes)
        if "runc" not in self.runtimes:
            handlers += RUNTIME_HANDLER.format(name="runc", binary=RUNC, root=os.path.join(base, "default-runc"))
        self.config = os.path.join(base, "containerd.toml")
        with open(self.config, "w") as config:
            config.write(CONTAINERD_CONFIG.format(root=self.root, state=self.state, pause_image=pause_image,
                                                  runtimes=handlers))
        for directory in ("cni-bin", "cni-conf"):
            os.makedirs(os.path.join(self.root, directory), exist_ok=True)
        self.daemon = subprocess.Popen(["containerd", "--config", self.config], cwd="/", stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        wait_until(lambda: self.ctr("version", check=False).returncode == 0, "containerd", self.log)

    def ctr(self, *args: str, check: bool = True, timeout: float = 60,
            namespace: str = "default") -> subprocess.CompletedProcess:
        result = subprocess.run(["ctr", "-a", self.socket, "-n", namespace, *args], capture_output=True, text=True,
                                timeout=timeout, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def stop(self) -> None:
        for namespace in ("default", "k8s.io"):
            for task in self.ctr("task", "ls", "-q", check=False, namespace=namespace).stdout.split():
                self.ctr("task", "kill", "-s", "SIGKILL", task, check=False, namespace=namespace)
                self.ctr("task", "rm", "-f", task, check=False, namespace=namespace)
            for container in self.ctr("containers", "ls", "-q", check=False, namespace=namespace).stdout.split():
                self.ctr("containers", "rm", container, check=False, namespace=namespace)
        stop_daemon(self.daemon, self.root, self.state)


class Dockerd:
    """dockerd (Debian's docker.io) with private data root, exec root, pid file and socket,
    no bridge and no firewall rules, and the runtimes under test added by name."""

    def __init__(self, base: str, runtimes: list[OciRuntime], cgroup_parent: str) -> None:
        self.data_root = os.path.join(base, "docker-data")
        self.exec_root = tempfile.mkdtemp(prefix=f"{DAEMON_STATE_PREFIX}docker-", dir="/run")
        self.socket = os.path.join(self.exec_root, "docker.sock")
        self.log = os.path.join(base, "dockerd.log")
        client_config = os.path.join(base, "docker-client")
        os.makedirs(client_config, exist_ok=True)
        self.env = {key: value for key, value in os.environ.items() if key != "DOCKER_HOST"}
        self.env["DOCKER_CONFIG"] = client_config
        config_file = os.path.join(base, "daemon.json")
        with open(config_file, "w") as config:
            config.write("{}\n")
        added = [f"--add-runtime={runtime.name}={runtime.binary}" for runtime in runtimes if runtime.name != "runc"]
        self.runtimes = runtimes
        self.daemon = subprocess.Popen(
            ["dockerd", "--config-file", config_file, "--data-root", self.data_root, "--exec-root", self.exec_root,
             "--pidfile", os.path.join(self.exec_root, "dockerd.pid"), "-H", f"unix://{self.socket}",
             "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
             "--storage-driver=overlay2", "--exec-opt", "native.cgroupdriver=cgroupfs",
             "--cgroup-parent", cgroup_parent, "--userland-proxy=false", *added],
            cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        wait_until(lambda: self.docker("version", check=False).returncode == 0, "dockerd", self.log)

    def runtime_root(self) -> str:
        """Where dockerd 20.10 tells every runc-like runtime, added ones too, to keep its state."""
        return os.path.join(self.exec_root, "runtime-runc", "moby")

    def command(self, *args: str) -> list[str]:
        """The docker CLI's command line for this daemon (run it with env=self.env)."""
        return ["docker", "-H", f"unix://{self.socket}", *args]

    def docker(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL, env=self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def stop(self) -> None:
        ids = self.docker("ps", "-aq", check=False).stdout.split()
        if ids:
            self.docker("rm", "-f", *ids, check=False)
        stop_daemon(self.daemon, self.data_root, self.exec_root)


def docker_reported_oom(docker, view: dict, patience: float = 30) -> bool:
    """Whether dockerd's event stream has the container's "oom". Docker 20.10 sets OOMKilled
    only if containerd's OOM event reaches it before the exit event; under load the two come
    the other way round (seen at load 12) and the flag stays false for good, while the event
    is still logged, possibly after `docker run` has returned: waited for."""
    deadline = time.monotonic() + patience
    while True:
        until = str(int(time.time()) + 1)
        events = docker("events", "--since", view["Created"], "--until", until, "--filter", f"container={view['Id']}",
                        "--filter", "event=oom", "--format", "{{.Action}}").stdout.split()
        if "oom" in events or time.monotonic() > deadline:
            return "oom" in events
        time.sleep(0.2)
