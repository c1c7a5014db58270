"""Boot the cgroup v2 guest under QEMU (TCG) and run a pytest selection in it.

The guest sees the host's root read-only through virtio-9p (so the checkout, its venv
and the host's Python are all there), boots with cgroup_no_v1=all, and reports through a
read-write 9p share: pytest's exit code and a JUnit XML file for the counts. Its console
(the serial port) streams to our stdout as it runs.
"""
from __future__ import annotations

import codecs
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from tests.vm import LaneError
from tests.vm.initramfs import ensure_initramfs
from tests.vm.kernel import Kernel, ensure_kernel

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
STAGE2 = os.path.join(HERE, "stage2-run-tests.sh")
QEMU = "qemu-system-x86_64"
QEMU_PACKAGE = "qemu-system-x86"
KERNEL_ARGS = ("console=ttyS0", "loglevel=1", "panic=-1", "rdinit=/init", "cgroup_no_v1=all")
JUNIT = "junit.xml"
LANE_MARKERS = "cgroup_v2 or v2_lane"
BOOTED = "nsbox-vm-lane: booted"  # the first line stage 2 prints


class Settings:
    """What the lane uses, from the environment (NSBOX_VM_*), with working defaults."""

    def __init__(self, environ: dict[str, str] = os.environ):
        def number(name: str, default: int) -> int:
            text = environ.get(name, str(default))
            if not text.isdigit() or int(text) == 0:
                raise LaneError(f"{name}={text!r}: expected a whole number above 0 (default {default})")
            return int(text)

        self.cache = environ.get("NSBOX_VM_CACHE", "/var/cache/nsbox-vm")
        self.timeout = number("NSBOX_VM_TIMEOUT", 2400)
        self.memory_mib = number("NSBOX_VM_MEMORY_MIB", 2048)
        self.cpus = number("NSBOX_VM_CPUS", 2)
        self.python = environ.get("NSBOX_VM_PYTHON", os.path.join(CHECKOUT, ".venv", "bin", "python"))
        if not os.access(self.python, os.X_OK):
            raise LaneError(f"{self.python} is missing: run scripts/setup.sh first (or set NSBOX_VM_PYTHON)")


class Result:
    """What came back from the guest."""

    def __init__(self, exit_code: int, junit_xml: str | None, boot_seconds: float | None, wall_seconds: float):
        self.exit_code = exit_code
        self.junit_xml = junit_xml
        self.boot_seconds = boot_seconds
        self.wall_seconds = wall_seconds

    def counts(self) -> dict[str, int]:
        """passed/failed/errors/skipped from pytest's JUnit report."""
        if self.junit_xml is None:
            return {}
        from xml.etree import ElementTree
        suite = ElementTree.fromstring(self.junit_xml).find("testsuite")
        total, failed, errors, skipped = (int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped"))
        return {"passed": total - failed - errors - skipped, "failed": failed, "errors": errors, "skipped": skipped}


def default_selection(python: str) -> list[str]:
    """pytest arguments for the tests marked cgroup_v2 or v2_lane, naming only their files.

    The host collects them, about 30 times faster than the guest would, so that the guest
    imports only the test modules it runs. If the host cannot collect, the guest collects
    everything and reports why.
    """
    marked = ["-m", LANE_MARKERS]
    listing = subprocess.run([python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *marked],
                             cwd=CHECKOUT, capture_output=True, text=True)
    if listing.returncode != 0:
        return marked
    return sorted({line.split("::", 1)[0] for line in listing.stdout.splitlines() if "::" in line}) + marked


def ensure_qemu() -> None:
    if shutil.which(QEMU) is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", QEMU_PACKAGE], check=True,
                       stdout=subprocess.DEVNULL, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def qemu_command(kernel: Kernel, initramfs: str, share: str, settings: Settings) -> list[str]:
    return [
        QEMU, "-accel", "tcg,thread=multi", "-cpu", "max", "-machine", "q35",
        "-smp", str(settings.cpus), "-m", str(settings.memory_mib),
        "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
        "-kernel", kernel.vmlinux, "-initrd", initramfs, "-append", " ".join(KERNEL_ARGS),
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs", f"local,path={share},mount_tag=lane,security_model=none",
    ]


def write_request(share: str, pytest_args: list[str], kernel: Kernel, settings: Settings) -> None:
    """Leave the guest its stage 2 script and what to run, one value per file."""
    for argument in pytest_args:
        if "\n" in argument:
            raise LaneError(f"pytest argument {argument!r} holds a newline; the lane passes one argument per line")
    shutil.copy(STAGE2, os.path.join(share, "stage2-run-tests.sh"))
    values = {
        "checkout": CHECKOUT,
        "python": settings.python,
        "modules": kernel.modules,
        "pytest-args": "\n".join([*pytest_args, f"--junitxml=/lane/{JUNIT}"]),
    }
    for name, value in values.items():
        with open(os.path.join(share, name), "w") as out:
            out.write(value + "\n")


@contextlib.contextmanager
def cache_lock(cache: str):
    """Hold the cache for this lane alone while it fills it (lanes may run side by side)."""
    import fcntl
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def die_with_parent() -> None:
    """In QEMU's child before exec: be killed when the lane's process dies, however it dies."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run(pytest_args: list[str], settings: Settings | None = None, out=sys.stdout) -> Result:
    """Boot a guest, run `pytest pytest_args` in the checkout, and return what it reported."""
    settings = settings or Settings()
    started = time.monotonic()
    ensure_qemu()
    with cache_lock(settings.cache):
        kernel = ensure_kernel(settings.cache)
        initramfs = ensure_initramfs(kernel, settings.cache)
    print(f"cgroup v2 lane: booting Debian's {kernel.version} with cgroup_no_v1=all under QEMU TCG "
          f"({settings.cpus} vCPUs, {settings.memory_mib} MiB)", file=out, flush=True)
    share = tempfile.mkdtemp(prefix="nsbox-vm-lane.")
    try:
        write_request(share, pytest_args, kernel, settings)
        boot_seconds = console(qemu_command(kernel, initramfs, share, settings), settings.timeout, out)
        exit_code_file = os.path.join(share, "exit-code")
        if not os.path.exists(exit_code_file):
            raise LaneError("the guest stopped without reporting pytest's exit code (see its console above)")
        with open(exit_code_file) as code:
            exit_code = int(code.read())
        junit_xml = None
        if os.path.exists(os.path.join(share, JUNIT)):
            with open(os.path.join(share, JUNIT)) as junit:
                junit_xml = junit.read()
        return Result(exit_code, junit_xml, boot_seconds, time.monotonic() - started)
    finally:
        shutil.rmtree(share, ignore_errors=True)


def console(command: list[str], timeout: int, out) -> float | None:
    """Run QEMU, copy its console to `out`, and return how long the guest took to boot.

    QEMU is killed at `timeout` seconds, and with this process however that ends.
    """
    import threading
    boot_seconds = None
    qemu = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=die_with_parent)
    launched = time.monotonic()
    timed_out = threading.Event()

    def kill_at_deadline() -> None:
        timed_out.set()
        qemu.kill()

    timer = threading.Timer(timeout, kill_at_deadline)
    timer.daemon = True
    timer.start()
    try:
        # Copy as it comes, not by lines: pytest -q prints its progress dots without a newline.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        seen = ""
        while chunk := os.read(qemu.stdout.fileno(), 65536):
            text = decoder.decode(chunk).replace("\r", "")
            if boot_seconds is None:
                seen += text
                if BOOTED in seen:
                    boot_seconds = time.monotonic() - launched
            out.write(text)
            out.flush()
        qemu.wait()
    finally:
        timer.cancel()
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
    if timed_out.is_set():
        raise LaneError(f"the guest did not finish within {timeout} s (NSBOX_VM_TIMEOUT); QEMU was killed")
    if qemu.returncode != 0:
        raise LaneError(f"{QEMU} exited {qemu.returncode} (see its output above)")
    return boot_seconds
