"""linux.seccomp observed from inside a container: actions, errno values, argument operators.

busybox calls: `mkdir` (mkdir), `chmod MODE FILE` (chmod with the mode as
argument 1), `sleep` (clock_nanosleep).
"""
from __future__ import annotations

import json
import os
import socket
import threading

import pytest


def allow_but(*rules, default="SCMP_ACT_ALLOW", **extra):
    return {"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": list(rules), **extra}


def with_seccomp(profile, no_new_privileges=False):
    def edit(spec):
        spec["linux"]["seccomp"] = profile
        spec["process"]["noNewPrivileges"] = no_new_privileges
    return edit


def seccomp_mode_line(result):
    return [line for line in result.stdout.splitlines() if line.startswith("Seccomp:")]


@pytest.mark.parametrize("no_new_privileges", [False, True])
def test_errno_with_errno_ret_and_the_filter_mode(run_container, no_new_privileges):
    profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13})
    result = run_container(["sh", "-c", "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /tmp/x; echo rc=$?"],
                           with_seccomp(profile, no_new_privileges))
    assert result.returncode == 0, result.stderr
    assert "Seccomp:\t2" in result.stdout  # filter mode
    assert f"NoNewPrivs:\t{int(no_new_privileges)}" in result.stdout
    assert "Permission denied" in result.stderr  # EACCES = 13, not the default EPERM
    assert "rc=1" in result.stdout


def test_errno_without_errno_ret_is_eperm_and_default_errno_ret_applies(run_container):
    profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"})
    result = run_container(["mkdir", "/tmp/x"], with_seccomp(profile))
    assert result.returncode == 1
    assert "Operation not permitted" in result.stderr
    # a deny-by-default profile: defaultErrnoRet is what every unlisted call returns
    everything_but_mkdir = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                                     default="SCMP_ACT_ALLOW")
    result = run_container(["mkdir", "/tmp/x"], with_seccomp(everything_but_mkdir))
    assert "Function not implemented" in result.stderr  # ENOSYS


def test_default_action_errno_with_an_allowlist(run_container, busybox_rootfs):
    """A deny-by-default profile as Docker's: unlisted calls fail with defaultErrnoRet."""
    allowed = ["execve", "brk", "arch_prctl", "set_tid_address", "exit_group", "write", "writev", "getuid", "geteuid",
               "mmap", "munmap", "rt_sigaction", "rt_sigprocmask", "read", "close", "fstat", "newfstatat", "ioctl",
               "getpid", "prctl", "setresuid", "setresgid", "setgroups", "capset", "capget", "chdir", "getcwd",
               "fcntl", "futex", "sigaltstack", "mprotect", "lseek", "openat", "exit", "set_robust_list", "rseq",
               "prlimit64", "getrandom", "poll", "madvise", "sendmsg", "gettid"]
    profile = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 95,
               "syscalls": [{"names": allowed, "action": "SCMP_ACT_ALLOW"}]}
    result = run_container(["mkdir", "/tmp/x"], with_seccomp(profile, no_new_privileges=True))
    assert "Operation not supported" in result.stderr, result.stderr  # EOPNOTSUPP = 95
    result = run_container(["echo", "hello"], with_seccomp(profile, no_new_privileges=True))
    assert result.stdout == "hello\n", result.stderr


def test_kill_process_and_kill_thread(run_container):
    for action in ("SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        profile = allow_but({"names": ["mkdir", "mkdirat"], "action": action})
        result = run_container(["sh", "-c", "mkdir /tmp/x; echo survived=$?"], with_seccomp(profile))
        assert "survived" in result.stdout  # the shell's child died, not the shell
        assert "survived=159" in result.stdout, (action, result.stdout)  # 128 + SIGSYS (31)


def test_trap_delivers_sigsys(run_container):
    profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_TRAP"})
    result = run_container(["sh", "-c", "mkdir /tmp/x; echo rc=$?"], with_seccomp(profile))
    assert "rc=159" in result.stdout  # SIGSYS, whose default action kills


def test_trace_without_a_tracer_fails_the_call_with_enosys(run_container):
    profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_TRACE", "errnoRet": 5})
    result = run_container(["mkdir", "/tmp/x"], with_seccomp(profile))
    assert result.returncode == 1
    assert "Function not implemented" in result.stderr  # the kernel's answer when nobody traces


def test_log_allows_and_the_kernel_logs_it(run_container):
    kmsg = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.lseek(kmsg, 0, os.SEEK_END)  # only what is logged from now on
        profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_LOG"})
        result = run_container(["sh", "-c", "mkdir /dev/shm/logged && echo made"], with_seccomp(profile))
        assert "made" in result.stdout, result.stderr
        lines = []
        while True:
            try:
                record = os.read(kmsg, 8192)
            except BlockingIOError:
                break
            except OSError:  # EPIPE: a record was overwritten; read on
                continue
            if not record:
                break
            lines.append(record.decode(errors="replace"))
    finally:
        os.close(kmsg)
    audit = [line for line in lines if "type=1326" in line and "code=0x7ffc0000" in line]
    assert any("comm=\"mkdir\"" in line for line in audit), lines[-5:]


@pytest.mark.parametrize("op, value, value_two, refused, allowed", [
    ("SCMP_CMP_EQ", 0o700, 0, "700", "755"),
    ("SCMP_CMP_NE", 0o700, 0, "755", "700"),
    ("SCMP_CMP_LT", 0o700, 0, "644", "755"),
    ("SCMP_CMP_LE", 0o700, 0, "700", "755"),
    ("SCMP_CMP_GE", 0o700, 0, "700", "644"),
    ("SCMP_CMP_GT", 0o700, 0, "755", "700"),
    ("SCMP_CMP_MASKED_EQ", 0o002, 0o002, "777", "755"),  # world-writable refused
])
def test_argument_operators(run_container, op, value, value_two, refused, allowed):
    rule = {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
            "args": [{"index": 1, "value": value, "valueTwo": value_two, "op": op}]}
    # busybox chmod calls chmod(path, mode): the mode is argument 1
    script = f"touch /dev/shm/f; chmod {refused} /dev/shm/f; echo refused=$?; chmod {allowed} /dev/shm/f; echo allowed=$?"
    result = run_container(["sh", "-c", script], with_seccomp(allow_but(rule)))
    assert "refused=1" in result.stdout and "allowed=0" in result.stdout, (result.stdout, result.stderr)


def test_conditions_on_one_argument_are_alternatives(run_container):
    """Two conditions on argument 1 cannot be one libseccomp rule: each becomes a rule (OR)."""
    rule = {"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 0o600, "op": "SCMP_CMP_EQ"}]}
    script = "touch /dev/shm/f; for m in 700 600 755; do chmod $m /dev/shm/f; echo $m=$?; done"
    result = run_container(["sh", "-c", script], with_seccomp(allow_but(rule)))
    assert "700=1" in result.stdout and "600=1" in result.stdout and "755=0" in result.stdout, result.stdout


def test_unknown_syscall_names_are_skipped(run_container):
    profile = allow_but({"names": ["no_such_call_anywhere", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"})
    result = run_container(["sh", "-c", "mkdir /tmp/x; echo rc=$?"], with_seccomp(profile))
    assert "rc=1" in result.stdout, result.stderr


@pytest.mark.parametrize("field, value, message", [
    ("defaultAction", "SCMP_ACT_MAYBE", "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_MAYBE'"),
    ("syscalls", [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 7, "value": 1, "op": "SCMP_CMP_EQ"}]}],
     "linux.seccomp.syscalls[0].args[0].index: a system call has arguments 0 to 5"),
    ("syscalls", [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}],
     "linux.seccomp.syscalls[0].args[0].op: unknown operator"),
    ("architectures", ["SCMP_ARCH_Z80"], "linux.seccomp.architectures[0]: unknown architecture"),
    ("flags", ["SECCOMP_FILTER_FLAG_FAST"], "linux.seccomp.flags[0]: unknown flag"),
    ("syscalls", [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}], "linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs"),
])
def test_malformed_profile_is_refused_naming_the_field(run_container, field, value, message):
    profile = allow_but()
    profile[field] = value
    result = run_container(["true"], with_seccomp(profile))
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_flags_log_and_spec_allow_are_accepted(run_container):
    profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
                        flags=["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
    result = run_container(["sh", "-c", "mkdir /tmp/x; echo rc=$?; grep Speculation_Store /proc/self/status"],
                           with_seccomp(profile))
    assert "rc=1" in result.stdout, result.stderr
    assert "thread force mitigated" not in result.stdout  # SPEC_ALLOW: seccomp did not force the mitigation


def test_notify_hands_the_listener_to_the_agent(run_container, tmp_path):
    """The agent gets the state and the listener fd; once it closes the fd, the call fails ENOSYS."""
    path = str(tmp_path / "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    received = {}

    def agent():
        connection, _ = server.accept()
        message, fds, _, _ = socket.recv_fds(connection, 65536, 4)
        received["state"] = json.loads(message)
        received["fd_is_seccomp"] = os.readlink(f"/proc/self/fd/{fds[0]}")
        for fd in fds:
            os.close(fd)
        connection.close()

    thread = threading.Thread(target=agent)
    thread.start()
    try:
        profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
                            listenerPath=path, listenerMetadata="hello-agent")
        result = run_container(["sh", "-c", "sleep 0.3; mkdir /tmp/x; echo rc=$?"], with_seccomp(profile),
                               name=f"notify-{os.getpid()}")
    finally:
        thread.join(10)
        server.close()
    assert received["state"]["metadata"] == "hello-agent"
    assert received["state"]["fds"] == ["seccompFd"]
    assert received["state"]["state"]["id"] == f"notify-{os.getpid()}"
    assert "seccomp" in received["fd_is_seccomp"]
    assert "rc=1" in result.stdout and "Function not implemented" in result.stderr, (result.stdout, result.stderr)


def test_the_compiled_filter_is_cached_by_digest(run_container, runtime_root):
    profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13})
    run_container(["true"], with_seccomp(profile))
    cache = os.path.join(runtime_root, "@seccomp")
    files = os.listdir(cache)
    assert len(files) == 1 and files[0].endswith(".bpf")
    # A cached program is loaded as it is: rewrite it to deny with another errno and see that one.
    other = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30})
    from nsbox.linux.seccomp import compile_filter
    from nsbox.oci.fields import Fields
    from nsbox.oci.seccomp import Seccomp
    with open(os.path.join(cache, files[0]), "wb") as cached:
        cached.write(compile_filter(Seccomp(Fields(other, "linux.seccomp"))))
    result = run_container(["mkdir", "/tmp/x"], with_seccomp(profile))
    assert "Read-only file system" in result.stderr, result.stderr  # EROFS = 30 from the cache


def test_exec_joins_the_container_filter(make_bundle, runtime):
    profile = allow_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13})
    bundle = make_bundle(["sleep", "100"], with_seccomp(profile))
    name = f"sx-{os.getpid()}"
    assert runtime("run", "--detach", "--bundle", bundle, name).returncode == 0
    try:
        result = runtime("exec", name, "sh", "-c", "grep ^Seccomp: /proc/self/status; mkdir /dev/shm/x")
        assert "Seccomp:\t2" in result.stdout
        assert "Permission denied" in result.stderr
    finally:
        runtime("delete", "--force", name)
