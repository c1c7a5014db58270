"""Fixtures shared by the whole suite: root, a busybox rootfs, OCI bundles, and leak checks."""
from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from tests import leaks

# A job started in the background by a non-interactive shell (as CI may start this suite)
# inherits SIGINT ignored, and an ignored signal stays ignored across exec: the tests that
# press ^C on nsbox would then test nothing. Handling it here gives every child the default.
signal.signal(signal.SIGINT, signal.default_int_handler)


def _interrupt_on_sigterm(signum, frame):
    """A suite stopped with SIGTERM (a CI timeout, kill) still runs its session teardown:
    the session's cgroup parent and bridge are removed as after a normal end."""
    raise KeyboardInterrupt(f"stopped by signal {signum}")


signal.signal(signal.SIGTERM, _interrupt_on_sigterm)

TEST_ROOT = os.environ.get("NSBOX_TEST_TMP", "/tmp")
CGROUP_PARENT = f"nsbox-test-{os.getpid()}"
os.environ.setdefault("NSBOX_CGROUP_PARENT", CGROUP_PARENT)
# This session's own default bridge: its subnet is claimed host-wide, so suites running
# side by side never share an address, and the leak check below sees only this session's.
SESSION_BRIDGE = os.environ.setdefault("NSBOX_BRIDGE", f"nsboxt{os.getpid():x}")
VENV_BIN = os.path.dirname(sys.executable)


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="needs root: nsbox's tests run as root against the real kernel (only those marked needs_no_root run without)")
        for item in items:
            if "needs_no_root" not in item.keywords:
                item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Tests marked cgroup_v2 run only where /sys/fs/cgroup is a cgroup v2 hierarchy (the VM lane)."""
    if item.get_closest_marker("cgroup_v2") and not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("needs a real cgroup v2 hierarchy at /sys/fs/cgroup, which this host does not have "
                    "(run it in the cgroup v2 lane: .venv/bin/python -m tests.vm)")


@pytest.fixture(scope="session")
def workdir():
    path = tempfile.mkdtemp(prefix="nsbox-tests.", dir=TEST_ROOT)
    os.chmod(path, 0o755)  # containers with a user namespace run as unprivileged host ids
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def busybox_rootfs(workdir):
    """A read-only-used root filesystem made from Debian's busybox-static."""
    from nsbox.busybox import BUSYBOX, make_rootfs
    if not os.path.exists(BUSYBOX):
        pytest.skip("busybox-static is not installed (apt-get install busybox-static)")
    return make_rootfs(os.path.join(workdir, "busybox-rootfs"))


@pytest.fixture(scope="session")
def base_spec():
    from nsbox.oci.default_spec import default_spec
    spec = default_spec(args=["true"])
    spec["process"]["terminal"] = False
    return spec


@pytest.fixture
def make_bundle(tmp_path, busybox_rootfs, base_spec):
    """make_bundle(args, edit=None) -> bundle directory whose config.json runs `args`.

    `edit(spec)` may change the spec dict before it is written. The rootfs is shared and
    read-only unless the edit sets root.readonly false and asks for a copy with
    copy_rootfs=True.
    """
    counter = [0]

    def make(args, edit=None, copy_rootfs=False):
        counter[0] += 1
        bundle = tmp_path / f"bundle{counter[0]}"
        bundle.mkdir()
        spec = copy.deepcopy(base_spec)
        spec["process"]["args"] = list(args)
        spec["linux"]["cgroupsPath"] = f"{CGROUP_PARENT}/{bundle.name}-{os.getpid()}-{tmp_path.name[-12:]}"
        if copy_rootfs:
            shutil.copytree(busybox_rootfs, bundle / "rootfs", symlinks=True)
            spec["root"] = {"path": "rootfs", "readonly": False}
        else:
            spec["root"] = {"path": busybox_rootfs, "readonly": True}
        if edit is not None:
            edit(spec)
        (bundle / "config.json").write_text(json.dumps(spec, indent=1))
        return str(bundle)

    return make


@pytest.fixture
def runtime_root(tmp_path):
    root = tmp_path / "runtime-state"
    return str(root)


@pytest.fixture
def runtime(runtime_root):
    """runtime(*args, input=None, check=False) runs the installed nsbox-runtime with this test's --root."""
    binary = os.path.join(VENV_BIN, "nsbox-runtime")

    def run(*args, check=False, timeout=60, **kwargs):
        # Output goes to files, not pipes: a detached container keeps the runtime's stdio,
        # and a pipe would make the caller wait for the container to exit.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            if "input" not in kwargs:
                kwargs.setdefault("stdin", subprocess.DEVNULL)
            completed = subprocess.run([binary, "--root", runtime_root, *args], timeout=timeout,
                                       stdout=out, stderr=err, **kwargs)
            out.seek(0)
            err.seek(0)
            result = subprocess.CompletedProcess(completed.args, completed.returncode,
                                                 out.read().decode(errors="replace"),
                                                 err.read().decode(errors="replace"))
        if check and result.returncode != 0:
            raise AssertionError(f"nsbox-runtime {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    run.binary = binary
    run.root = runtime_root
    yield run
    # A container the test did not delete is a leak of the code under test (or of the test):
    # say so, then remove it so that the machine is left as it was found.
    from nsbox.runtime.state import list_ids
    left = list_ids(runtime_root)  # container directories (not the runtime's own, e.g. @seccomp)
    for name in left:
        subprocess.run([binary, "--root", runtime_root, "delete", "--force", name], capture_output=True)
    if left:
        pytest.fail(f"test left containers in the runtime's state: {left} (removed now with delete --force)",
                    pytrace=False)


@pytest.fixture(autouse=True)
def no_leaks(request, tmp_path):
    """Fail the test if it left a mount, a cgroup or a process from its bundles behind."""
    if os.geteuid() != 0:
        yield
        return
    mounts_before = leaks.host_mounts()
    cgroups_before = leaks.cgroup_dirs(CGROUP_PARENT)
    subids_before = leaks.subordinate_ids()
    # the runtime's default parent (no cgroupsPath: /nsbox/<id>) at each hierarchy's root
    root_parents_before = leaks.root_cgroups(("nsbox",))
    yield
    left = network_leaks(str(tmp_path))
    if leaks.subordinate_ids() != subids_before:  # --userns remap must use the test's own files
        left.append("a change to /etc/subuid or /etc/subgid")
    # Only mounts below this test's own directories count: other suites may run beside this one.
    own = (str(tmp_path), os.path.join(TEST_ROOT, "nsbox-tests."))
    new_mounts = {path for path in leaks.host_mounts() - mounts_before if path.startswith(own)}
    if new_mounts:
        left.append(f"mounts: {sorted(new_mounts)}")
    new_cgroups = leaks.cgroup_dirs(CGROUP_PARENT) - cgroups_before
    if new_cgroups:
        left.append(f"cgroups: {sorted(new_cgroups)}")
    new_root_parents = leaks.root_cgroups(("nsbox",)) - root_parents_before
    if new_root_parents:
        left.append(f"cgroup parents at a hierarchy's root: {sorted(new_root_parents)}")
    pids = leaks.processes_below(str(tmp_path)) | leaks.processes_below(os.path.join(TEST_ROOT, "nsbox-tests."))
    if pids:
        left.append(f"processes: {sorted(pids)}")
    if left:
        pytest.fail("test left behind " + "; ".join(left), pytrace=False)


def network_leaks(test_dir: str) -> list[str]:
    """What a test's containers and networks must not leave: veth on the session's bridge,
    IPAM reservations, namespace files, user networks, port-forwarding rules to the session's
    subnet."""
    left = []
    if leaks.settled_bridge_ports(SESSION_BRIDGE):
        left.append(f"veth on {SESSION_BRIDGE}: {sorted(leaks.bridge_ports(SESSION_BRIDGE))}")
    if leaks.ipam_reservations(SESSION_BRIDGE):
        left.append(f"IPAM reservations: {sorted(leaks.ipam_reservations(SESSION_BRIDGE))}")
    subnet = leaks.bridge_subnet(SESSION_BRIDGE)
    if subnet:
        rules = leaks.firewall_rules({"--to-destination " + subnet.rpartition(".")[0] + "."})
        if rules:
            left.append(f"port forwarding rules: {sorted(rules)}")
    if leaks.netns_files(test_dir):
        left.append(f"netns files: {sorted(leaks.netns_files(test_dir))}")
    if leaks.test_links():
        left.append(f"links a test made on the host: {sorted(leaks.test_links())}")
    networks = leaks.network_claims(test_dir)
    if networks:
        left.append(f"networks (bridge, subnet claim): {sorted(networks)}")
    return left


@pytest.fixture(scope="session", autouse=True)
def remove_session_bridge():
    """The session's default bridge, its firewall chains and its subnet claim go at the end."""
    yield
    subnet = leaks.bridge_subnet(SESSION_BRIDGE)
    if subnet:
        from nsbox.network.manage import remove_bridge
        remove_bridge(SESSION_BRIDGE, subnet)


@pytest.fixture(scope="session", autouse=True)
def remove_cgroup_parent():
    yield
    leaks.remove_cgroup_tree(CGROUP_PARENT)
