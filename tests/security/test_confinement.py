"""The engine's confinement options, its default seccomp profile, the container's own cgroup
view and `inspect`'s report of it all."""
from __future__ import annotations

import json
import os

import pytest

from nsbox.engine import seccomp_profile
from nsbox.engine.spec import DOCKER_CAPABILITIES

PODMAN_PROFILE = "/usr/share/containers/seccomp.json"
CGROUP_V2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")

# Where Docker's rules (nsbox's profile) and podman's (containers/common) differ for a
# default container on x86_64. Podman leaves namespaces, mounts and keyrings to the
# capability set; Docker's profile blocks them as a second wall.
ONLY_DOCKER = {"futex_waitv", "io_pgetevents", "io_pgetevents_time64", "io_uring_enter", "io_uring_register",
               "io_uring_setup", "vmsplice"}
ONLY_PODMAN = {"clone", "clone3", "fsconfig", "fsmount", "fsopen", "fspick", "get_mempolicy", "keyctl", "mbind",
               "mount", "mount_setattr", "move_mount", "open_tree", "pidfd_getfd", "pivot_root", "readdir", "reboot",
               "set_mempolicy", "setns", "sigaction", "signal", "sigpending", "sigsuspend", "socket", "syscall",
               "syslog", "timerfd", "umount", "umount2", "unshare"}


def unconditionally_allowed(profile: dict) -> set[str]:
    oci = seccomp_profile.to_oci(profile, list(DOCKER_CAPABILITIES), "x86_64")
    return {name for rule in oci["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
            for name in rule["names"]}


@pytest.mark.skipif(not os.path.exists(PODMAN_PROFILE), reason="podman's profile is not installed")
@pytest.mark.needs_no_root
def test_default_profile_against_podmans_copy():
    ours = seccomp_profile.read_profile(seccomp_profile.DEFAULT_PROFILE)
    with open(PODMAN_PROFILE) as f:
        podman = json.load(f)
    ours_allowed, podman_allowed = unconditionally_allowed(ours), unconditionally_allowed(podman)
    print("allowed by nsbox (Docker's rules) only:", sorted(ours_allowed - podman_allowed))
    print("allowed by podman only:", sorted(podman_allowed - ours_allowed))
    assert ours_allowed - podman_allowed == ONLY_DOCKER
    assert podman_allowed - ours_allowed == ONLY_PODMAN
    assert ours["defaultAction"] == "SCMP_ACT_ERRNO" and ours["defaultErrnoRet"] == 1  # EPERM, as Docker


@pytest.mark.needs_no_root
def test_default_profile_rules_follow_the_capabilities():
    profile = seccomp_profile.read_profile(seccomp_profile.DEFAULT_PROFILE)
    default = seccomp_profile.to_oci(profile, list(DOCKER_CAPABILITIES), "x86_64")
    rules = {name: rule for rule in default["syscalls"] for name in rule["names"]}
    assert rules["clone"]["args"] == [{"index": 0, "value": 0x7E020000, "op": "SCMP_CMP_MASKED_EQ"}]
    assert rules["clone3"] == {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
    assert "mount" not in rules and "ptrace" in rules  # ptrace: kernels >= 4.8
    assert default["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    admin = seccomp_profile.to_oci(profile, list(DOCKER_CAPABILITIES) + ["CAP_SYS_ADMIN"], "x86_64")
    admin_rules = [rule for rule in admin["syscalls"] if "clone" in rule["names"]]
    assert all(not rule.get("args") for rule in admin_rules)  # clone with any flags
    assert any("mount" in rule["names"] for rule in admin["syscalls"])


def test_namespace_flags_in_clone_are_refused(nsbox):
    """unshare -U forks with clone(): busybox's unshare uses unshare(2); both are refused."""
    result = nsbox("run", "--rm", "busybox", "sh", "-c", "unshare -m true; echo rc=$?", check=False)
    assert "rc=1" in result.stdout and "Operation not permitted" in result.stderr
    assert "rc=0" in nsbox("run", "--rm", "--security-opt", "seccomp=unconfined", "--cap-add", "SYS_ADMIN", "busybox",
                           "sh", "-c", "unshare -m true; echo rc=$?").stdout


def test_security_opt_seccomp_file_in_dockers_format(nsbox, tmp_path):
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30,
                             "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    result = nsbox("run", "--rm", "--security-opt", f"seccomp={path}", "busybox", "mkdir", "/x", check=False)
    assert "Read-only file system" in result.stderr  # EROFS from the profile
    result = nsbox("run", "--rm", "--security-opt", f"seccomp={path}", "--cap-add", "SYS_ADMIN", "busybox", "mkdir", "/x")
    assert result.returncode == 0  # excludes.caps: the rule is dropped for a container holding SYS_ADMIN


@pytest.mark.parametrize("option, message", [
    ("seccomp=/no/such/profile.json", "--security-opt seccomp: cannot read the profile /no/such/profile.json"),
    ("seccomp=", "seccomp needs a value"),
    ("apparmor=docker-default", "apparmor profiles are not supported"),
    ("bogus", "unknown option 'bogus'"),
    ("no-new-privileges=maybe", "takes true or false"),
])
def test_bad_security_opt_is_refused(nsbox, option, message):
    result = nsbox("run", "--rm", "--security-opt", option, "busybox", "true", check=False)
    assert result.returncode == 125
    assert message in result.stderr, result.stderr


def test_no_new_privileges(nsbox):
    out = nsbox("run", "--rm", "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs", "/proc/self/status").stdout
    assert out.split() == ["NoNewPrivs:", "1"]
    out = nsbox("run", "--rm", "busybox", "grep", "NoNewPrivs", "/proc/self/status").stdout
    assert out.split() == ["NoNewPrivs:", "0"]


def test_cap_drop_all_and_cap_add(nsbox):
    out = nsbox("run", "--rm", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "busybox", "grep", "CapEff",
                "/proc/self/status").stdout
    assert out.split()[1] == f"{1 << 13:016x}"  # CAP_NET_RAW only


def test_device_option(nsbox):
    """/dev/loop-control (not in Docker's default allowlist) with read access only: opening it
    for writing is refused by the devices cgroup (and would change nothing: no ioctl follows)."""
    out = nsbox("run", "--rm", "--device", "/dev/loop-control:/dev/probe-loop:r", "busybox", "sh", "-c",
                "ls -l /dev/probe-loop; dd if=/dev/probe-loop count=0 2>/dev/null; echo r=$?; "
                "(: > /dev/probe-loop) 2>/dev/null; echo w=$?", check=False)
    assert out.stdout.startswith("crw"), out.stderr
    assert "10, 237" in out.stdout.splitlines()[0]
    assert "r=0" in out.stdout and "w=1" in out.stdout, out.stdout
    absent = nsbox("run", "--rm", "busybox", "ls", "/dev/probe-loop", check=False)
    assert absent.returncode != 0
    bad = nsbox("run", "--rm", "--device", "/etc/passwd", "busybox", "true", check=False)
    assert bad.returncode == 125 and "/etc/passwd is not a device node" in bad.stderr


def test_privileged_sees_host_devices_and_writable_sys(nsbox):
    out = nsbox("run", "--rm", "--privileged", "busybox", "sh", "-c",
                "ls /dev | grep -c . ; grep ' /sys ' /proc/mounts").stdout.splitlines()
    assert int(out[0]) > 20
    assert " rw," in out[1]


@pytest.mark.v2_lane
def test_container_reads_its_own_limits(nsbox):
    """Programs inside size themselves from these files (JVMs, Go, Node)."""
    if CGROUP_V2:
        script = "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /proc/self/cgroup"
        out = nsbox("run", "--rm", "-m", "64m", "--cpus", "0.5", "busybox", "sh", "-c", script).stdout.splitlines()
        assert out == ["67108864", "50000 100000", "0::/"]
    else:
        script = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us"
        out = nsbox("run", "--rm", "-m", "64m", "--cpus", "0.5", "busybox", "sh", "-c", script).stdout.split()
        assert out == ["67108864", "50000"]


@pytest.mark.v2_lane
def test_container_cannot_read_the_hosts_cgroup_tree(nsbox):
    """Each hierarchy shows the container's own cgroup, which has no children: none of the host's."""
    depth = "1" if CGROUP_V2 else "2"
    out = nsbox("run", "--rm", "busybox", "find", "/sys/fs/cgroup", "-mindepth", depth, "-type", "d").stdout
    assert out.split() == []


def test_inspect_shows_the_confinement(nsbox):
    nsbox("run", "-d", "--name", "conf", "--cap-add", "NET_ADMIN", "--security-opt", "no-new-privileges", "busybox",
          "sleep", "100")
    security = nsbox.inspect("conf")["Security"]
    assert "CAP_NET_ADMIN" in security["Capabilities"] and "CAP_SYS_ADMIN" not in security["Capabilities"]
    assert security["Seccomp"] == {"Mode": "filter", "Profile": "default (Docker's)"}
    assert security["NoNewPrivileges"] is True
    assert security["UidMap"] == ["0 0 4294967295"]
    assert "/proc/keys" in security["MaskedPaths"] and "/proc/sys" in security["ReadonlyPaths"]
    nsbox("run", "-d", "--name", "loose", "--privileged", "busybox", "sleep", "100")
    loose = nsbox.inspect("loose")["Security"]
    assert loose["Seccomp"]["Mode"] == "disabled" and "CAP_SYS_ADMIN" in loose["Capabilities"]
    assert loose["MaskedPaths"] == []
