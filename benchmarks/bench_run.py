"""Container start-up and helper memory: nsbox vs podman vs docker vs runc (a benchmark,
not a test), all on this machine in one run, from the same busybox root filesystem.

  1. `run --rm --network none IMAGE /bin/true`, repeated: median wall time of each;
     runc runs a ready bundle (`runc run`), the floor for any engine.
  2. 10 detached `sleep` containers: the time to start them, and the memory (PSS) of
     the helper each keeps per container: nsbox's monitor, podman's conmon, docker's
     containerd-shim (runc -d keeps none).

Set-up installs podman and docker.io from Debian when missing (`--no-install` skips
them), starts a private dockerd (own data-root, exec-root and socket, no bridge, no
iptables) and gives podman its own root; everything is removed at the end.

    .venv/bin/python benchmarks/bench_run.py [--runs N] [--no-install]
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NSBOX = os.path.join(os.path.dirname(sys.executable), "nsbox")
DETACHED = 10
CGROUP_PARENT = f"nsbox-bench-{os.getpid()}"


def sh(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    result = subprocess.run(list(args), **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def timed(command: list[str], runs: int) -> float:
    """Median wall seconds of `command` over `runs` runs (after one warm-up)."""
    sh(*command)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        sh(*command)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def pss_kib(pids: list[int]) -> float:
    """Mean proportional set size of the processes, in KiB."""
    sizes = []
    for pid in pids:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            sizes += [int(line.split()[1]) for line in rollup if line.startswith("Pss:")]
    return statistics.mean(sizes) if sizes else 0.0


def pids_matching(*words: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    text = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if all(word in text for word in words):
                found.append(int(entry))
    return found


class Engine:
    """One contender: how to run the two cases with it."""

    name = ""

    def run_true(self) -> list[str]:
        raise NotImplementedError

    def run_detached(self, index: int) -> list[str]:
        raise NotImplementedError

    def helpers(self) -> list[int]:
        return []

    def cleanup(self) -> None:
        pass


class Nsbox(Engine):
    name = "nsbox"

    def __init__(self, work: str, rootfs_tar: str) -> None:
        self.root = os.path.join(work, "nsbox")
        sh(NSBOX, "--root", self.root, "import", rootfs_tar, "busybox")

    def run_true(self) -> list[str]:
        return [NSBOX, "--root", self.root, "run", "--rm", "--network", "none", "busybox", "/bin/true"]

    def run_detached(self, index: int) -> list[str]:
        return [NSBOX, "--root", self.root, "run", "-d", "--network", "none", "busybox", "sleep", "1000"]

    def helpers(self) -> list[int]:
        return pids_matching("monitor_loop", self.root)

    def cleanup(self) -> None:
        ids = sh(NSBOX, "--root", self.root, "ps", "-aq", check=False).stdout.split()
        if ids:
            sh(NSBOX, "--root", self.root, "rm", "-f", *ids, check=False)


class Runc(Engine):
    name = "runc (ready bundle)"

    def __init__(self, work: str, rootfs: str) -> None:
        import json

        from nsbox.oci.default_spec import default_spec
        self.state = os.path.join(work, "runc-state")
        self.bundles = []
        for args, name in ((["/bin/true"], "true"), (["sleep", "1000"], "sleep")):
            bundle = os.path.join(work, f"runc-{name}")
            os.makedirs(bundle)
            spec = default_spec(args=args)
            spec["process"]["terminal"] = False
            spec["root"] = {"path": rootfs, "readonly": True}
            spec["linux"]["cgroupsPath"] = f"{CGROUP_PARENT}/runc-{name}"
            with open(os.path.join(bundle, "config.json"), "w") as out:
                json.dump(spec, out)
            self.bundles.append(bundle)
        self.count = 0

    def run_true(self) -> list[str]:
        self.count += 1
        return ["runc", "--root", self.state, "run", "--bundle", self.bundles[0], f"true-{os.getpid()}-{self.count}"]

    def run_detached(self, index: int) -> list[str]:
        # each detached container needs its own cgroup: a per-container bundle copy
        import json
        bundle = f"{self.bundles[1]}-{index}"
        if not os.path.isdir(bundle):
            shutil.copytree(self.bundles[1], bundle)
            with open(os.path.join(bundle, "config.json")) as config:
                spec = json.load(config)
            spec["linux"]["cgroupsPath"] = f"{CGROUP_PARENT}/runc-sleep-{index}"
            with open(os.path.join(bundle, "config.json"), "w") as out:
                json.dump(spec, out)
        return ["runc", "--root", self.state, "run", "-d", "--bundle", bundle, f"sleep-{index}"]

    def cleanup(self) -> None:
        for line in sh("runc", "--root", self.state, "list", "-q", check=False).stdout.split():
            sh("runc", "--root", self.state, "delete", "--force", line, check=False)


class Podman(Engine):
    name = "podman"

    def __init__(self, work: str, rootfs_tar: str) -> None:
        self.base = ["podman", "--root", os.path.join(work, "podman-root"), "--runroot",
                     os.path.join(work, "podman-run"), "--cgroup-manager", "cgroupfs", "--runtime", "runc",
                     "--events-backend", "file", "--storage-driver", "overlay"]
        sh(*self.base, "import", rootfs_tar, "localhost/busybox")
        # podman raises RLIMIT_NOFILE and RLIMIT_NPROC by default, which root without
        # CAP_SYS_RESOURCE may not: ask for lower limits
        self.limits = ["--cgroup-parent", CGROUP_PARENT, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

    def run_true(self) -> list[str]:
        return self.base + ["run", "--rm", "--network", "none", *self.limits, "localhost/busybox", "/bin/true"]

    def run_detached(self, index: int) -> list[str]:
        return self.base + ["run", "-d", "--network", "none", *self.limits, "localhost/busybox", "sleep", "1000"]

    def helpers(self) -> list[int]:
        return pids_matching("conmon", self.base[4])

    def cleanup(self) -> None:
        sh(*self.base, "rm", "-af", "-t", "0", check=False)
        sh(*self.base, "system", "reset", "-f", check=False)


class Docker(Engine):
    name = "docker"

    def __init__(self, work: str, rootfs_tar: str) -> None:
        self.socket = os.path.join(work, "docker.sock")
        self.exec_root = os.path.join(work, "docker-exec")
        self.daemon = subprocess.Popen(
            ["dockerd", "--data-root", os.path.join(work, "docker-data"), "--exec-root", self.exec_root,
             "-H", f"unix://{self.socket}", "--pidfile", os.path.join(work, "docker.pid"), "--bridge", "none",
             "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--storage-driver", "overlay2",
             "--cgroup-parent", CGROUP_PARENT, "--containerd-namespace", f"nsbox-bench-{os.getpid()}"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "dockerd.log"), "w"), start_new_session=True)
        self.base = ["docker", "-H", f"unix://{self.socket}"]
        deadline = time.monotonic() + 60
        while sh(*self.base, "version", check=False).returncode != 0:
            if time.monotonic() > deadline or self.daemon.poll() is not None:
                raise RuntimeError(f"dockerd did not start; see {work}/dockerd.log")
            time.sleep(0.2)
        sh(*self.base, "import", rootfs_tar, "busybox:bench")

    def run_true(self) -> list[str]:
        return self.base + ["run", "--rm", "--network", "none", "busybox:bench", "/bin/true"]

    def run_detached(self, index: int) -> list[str]:
        return self.base + ["run", "-d", "--network", "none", "busybox:bench", "sleep", "1000"]

    def helpers(self) -> list[int]:
        return pids_matching("containerd-shim", self.exec_root) or pids_matching("containerd-shim")

    def cleanup(self) -> None:
        ids = sh(*self.base, "ps", "-aq", check=False).stdout.split()
        if ids:
            sh(*self.base, "rm", "-f", *ids, check=False)
        self.daemon.terminate()
        try:
            self.daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
        for pid in pids_matching("containerd", self.exec_root):
            os.kill(pid, 9)


def install(packages: list[str]) -> None:
    missing = [p for p in packages if sh("dpkg", "-s", p, check=False).returncode != 0]
    if missing:
        print(f"installing {' '.join(missing)} from Debian ...", flush=True)
        sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing,
           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def remove_cgroups() -> None:
    from tests.leaks import CGROUP_ROOT, own_cgroup_bases
    for hierarchy, base in own_cgroup_bases().items():
        for parent in (os.path.join(CGROUP_ROOT, hierarchy, base.lstrip("/"), CGROUP_PARENT),
                       os.path.join(CGROUP_ROOT, hierarchy, CGROUP_PARENT)):
            for directory, _, _ in sorted(os.walk(parent), key=lambda entry: -len(entry[0])):
                try:
                    os.rmdir(directory)
                except OSError:
                    pass


def main() -> int:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 20
    if "--no-install" not in sys.argv:
        install(["podman", "docker.io"])
    os.environ["NSBOX_CGROUP_PARENT"] = CGROUP_PARENT
    import compileall

    import nsbox
    compileall.compile_dir(os.path.dirname(nsbox.__file__), quiet=1)  # as an installed package has them
    work = tempfile.mkdtemp(prefix="nsbox-bench-run.")
    from nsbox.busybox import make_rootfs
    rootfs = make_rootfs(os.path.join(work, "rootfs"))
    rootfs_tar = os.path.join(work, "rootfs.tar")
    with tarfile.open(rootfs_tar, "w") as archive:
        for name in sorted(os.listdir(rootfs)):
            archive.add(os.path.join(rootfs, name), arcname=name)
    engines: list[Engine] = []
    try:
        engines.append(Runc(work, rootfs))
        engines.append(Nsbox(work, rootfs_tar))
        for kind, binary in ((Podman, "podman"), (Docker, "dockerd")):
            if shutil.which(binary):
                try:
                    engines.append(kind(work, rootfs_tar))
                except RuntimeError as error:
                    print(f"{kind.name}: skipped ({error})")
        print(f"run --rm --network none busybox /bin/true  (median of {runs})")
        times = {}
        for engine in engines:
            times[engine.name] = timed(engine.run_true(), runs)
        nsbox_time = times["nsbox"]
        for name, seconds in times.items():
            print(f"  {name:22s} {seconds * 1000:7.1f} ms   {seconds / nsbox_time:5.2f}x nsbox")
        print(f"\n{DETACHED} detached sleep containers: time to start them all, helper memory per container")
        for engine in engines:
            start = time.perf_counter()
            for index in range(DETACHED):
                # runc -d hands its own stdio to the container: never a pipe we would wait on
                sh(*engine.run_detached(index), capture_output=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
            elapsed = time.perf_counter() - start
            helpers = engine.helpers()
            memory = f"{pss_kib(helpers) / 1024:5.2f} MiB PSS x {len(helpers)}" if helpers else "no helper process"
            print(f"  {engine.name:22s} {elapsed * 1000:7.0f} ms ({elapsed / DETACHED * 1000:5.1f} ms each)   {memory}")
            engine.cleanup()
    finally:
        for engine in engines:
            try:
                engine.cleanup()
            except Exception as error:  # keep cleaning the others
                print(f"cleanup of {engine.name}: {error}")
        remove_cgroups()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
