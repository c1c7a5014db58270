/* Escape attempts, run inside a container: each line is "name<TAB>blocked|OPEN<TAB>detail".
 *
 * Every probe only looks: it never changes the host, even where it succeeds (a
 * privileged container really could). Writes are checked with access(W_OK) and the
 * mount's read-only flag, capabilities by reading CapEff, system calls with arguments the
 * kernel rejects after its permission checks (EINVAL/EFAULT mean "reached the kernel").
 * Built static by tests/security/conftest.py (gcc -static), so it runs in any image.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, int open_, const char *detail) {
    printf("%s\t%s\t%s\n", name, open_ ? "OPEN" : "blocked", detail);
}

static void report_errno(const char *name, long result, int err) {
    char detail[128];
    if (result >= 0) snprintf(detail, sizeof detail, "succeeded");
    else snprintf(detail, sizeof detail, "%s", strerror(err));
    report(name, result >= 0, detail);
}

/* A call that the kernel refuses for bad arguments once it is allowed to run it. */
static void reachable(const char *name, long result, int err) {
    char detail[128];
    int open_ = result >= 0 || (err != EPERM && err != ENOSYS && err != EACCES);
    snprintf(detail, sizeof detail, "%s", result >= 0 ? "succeeded" : strerror(err));
    report(name, open_, detail);
}

static void try_mount(const char *name, const char *fstype) {
    char dir[] = "/tmp/probe-mnt-XXXXXX";
    if (!mkdtemp(dir)) { report(name, 0, "no writable /tmp to try"); return; }
    long result = mount(fstype, dir, fstype, 0, NULL);
    int err = errno;
    if (result == 0) umount2(dir, MNT_DETACH);
    rmdir(dir);
    report_errno(name, result, err);
}

static void read_disk(void) {
    FILE *partitions = fopen("/proc/partitions", "r");
    char line[256], devname[64] = "";
    unsigned major_ = 0, minor_ = 0;
    while (partitions && fgets(line, sizeof line, partitions))
        if (sscanf(line, " %u %u %*u %63s", &major_, &minor_, devname) == 3 && major_ != 7) break;
    if (partitions) fclose(partitions);
    if (!devname[0]) { report("mknod_read_disk", 0, "no disk listed in /proc/partitions"); return; }
    char node[] = "/tmp/probe-disk-XXXXXX";
    int fd = mkstemp(node);
    if (fd < 0) { report("mknod_read_disk", 0, "no writable /tmp to try"); return; }
    close(fd);
    unlink(node);
    char detail[160];
    if (mknod(node, S_IFBLK | 0600, makedev(major_, minor_)) != 0) {
        snprintf(detail, sizeof detail, "mknod %s: %s", devname, strerror(errno));
        report("mknod_read_disk", 0, detail);
        return;
    }
    fd = open(node, O_RDONLY);
    int err = errno;
    char sector[512];
    long got = fd >= 0 ? read(fd, sector, sizeof sector) : -1;
    if (fd >= 0) { err = errno; close(fd); }
    unlink(node);
    snprintf(detail, sizeof detail, "%s: %s", devname, got > 0 ? "read a sector" : strerror(err));
    report("mknod_read_disk", got > 0, detail);
}

static void disk_in_dev(void) {
    DIR *dev = opendir("/dev");
    struct dirent *entry;
    char found[64] = "", path[300];
    struct stat info;
    while (dev && (entry = readdir(dev))) {
        snprintf(path, sizeof path, "/dev/%s", entry->d_name);
        if (lstat(path, &info) == 0 && S_ISBLK(info.st_mode)) { snprintf(found, sizeof found, "%.60s", entry->d_name); break; }
    }
    if (dev) closedir(dev);
    report("disk_node_in_dev", found[0] != 0, found[0] ? found : "no block device in /dev");
}

static void writable(const char *name, const char *path) {
    struct statvfs vfs;
    char detail[200];
    if (access(path, F_OK) != 0) { snprintf(detail, sizeof detail, "%s: %s", path, strerror(errno)); report(name, 0, detail); return; }
    int ro = statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
    int ok = access(path, W_OK) == 0;
    snprintf(detail, sizeof detail, "%s: %s", path, ro ? "read-only mount" : ok ? "writable" : strerror(errno));
    report(name, !ro && ok, detail);
}

static void readable(const char *name, const char *path) {
    char detail[200], buffer[64];
    int fd = open(path, O_RDONLY);
    if (fd < 0) { snprintf(detail, sizeof detail, "%s: %s", path, strerror(errno)); report(name, 0, detail); return; }
    long got = read(fd, buffer, sizeof buffer);
    close(fd);
    snprintf(detail, sizeof detail, "%s: %s", path, got > 0 ? "read data" : "empty (masked)");
    report(name, got > 0, detail);
}

static void try_unshare(const char *name, int flags) {
    pid_t child = fork();
    if (child == 0) _exit(unshare(flags) == 0 ? 0 : errno);
    int status = 0;
    waitpid(child, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    report(name, code == 0, code == 0 ? "succeeded" : strerror(code));
}

static void capabilities(void) {
    static const struct { const char *name; int bit; } dangerous[] = {
        {"CAP_SYS_ADMIN", 21}, {"CAP_SYS_MODULE", 16}, {"CAP_SYS_TIME", 25}, {"CAP_SYS_PTRACE", 19},
        {"CAP_DAC_READ_SEARCH", 2}, {"CAP_NET_ADMIN", 12}};
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long effective = 0;
    while (status && fgets(line, sizeof line, status))
        if (sscanf(line, "CapEff: %llx", &effective) == 1) break;
    if (status) fclose(status);
    for (unsigned i = 0; i < sizeof dangerous / sizeof dangerous[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "cap_%s", dangerous[i].name + 4);
        int held = (effective >> dangerous[i].bit) & 1;
        report(name, held, held ? "in the effective set" : "not held");
    }
}

static void seccomp_mode(void) {
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    int mode = -1;
    while (status && fgets(line, sizeof line, status))
        if (sscanf(line, "Seccomp: %d", &mode) == 1) break;
    if (status) fclose(status);
    char detail[32];
    snprintf(detail, sizeof detail, "Seccomp: %d", mode);
    report("seccomp_not_filtering", mode != 2, detail);
}

static void host_processes(void) {
    DIR *proc = opendir("/proc");
    struct dirent *entry;
    int count = 0;
    while (proc && (entry = readdir(proc))) if (entry->d_name[0] >= '1' && entry->d_name[0] <= '9') count++;
    if (proc) closedir(proc);
    char detail[64];
    snprintf(detail, sizeof detail, "%d processes visible", count);
    report("host_processes_visible", count > 10, detail);
}

static void host_interfaces(void) {
    FILE *dev = fopen("/proc/net/dev", "r");
    char line[512], names[200] = "";
    int others = 0;
    while (dev && fgets(line, sizeof line, dev)) {
        char name[64];
        if (sscanf(line, " %63[^:]:", name) == 1 && !strchr(name, '|') && strcmp(name, "lo") != 0) {
            others++;
            if (strlen(names) + strlen(name) + 2 < sizeof names) { strcat(names, name); strcat(names, " "); }
        }
    }
    if (dev) fclose(dev);
    report("host_interfaces_visible", others > 0, others ? names : "only lo");
}

static void extra_fds(void) {
    DIR *fds = opendir("/proc/self/fd");
    struct dirent *entry;
    char found[200] = "";
    while (fds && (entry = readdir(fds))) {
        int fd = atoi(entry->d_name);
        if (entry->d_name[0] == '.' || fd <= 2 || fd == dirfd(fds)) continue;
        char path[64], target[128] = "";
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        long n = readlink(path, target, sizeof target - 1);
        if (n > 0) target[n] = 0;
        snprintf(found + strlen(found), sizeof found - strlen(found), "%d=%s ", fd, target);
    }
    if (fds) closedir(fds);
    report("fd_beyond_stdio", found[0] != 0, found[0] ? found : "only 0, 1, 2");
}

static void syscalls(void) {
    long r;
    r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
    report_errno("keyctl", r, errno);
    r = syscall(SYS_bpf, 0x7fff /* no such command */, NULL, 0);
    reachable("bpf", r, errno);
    r = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
    reachable("perf_event_open", r, errno);
    r = syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
    int err = errno;
    if (r >= 0) close((int)r);
    report_errno("userfaultfd", r, err);
    r = syscall(SYS_kexec_load, 0, 1000 /* > KEXEC_SEGMENT_MAX */, NULL, 0x7fff0000UL);
    reachable("kexec_load", r, errno);
    r = syscall(SYS_init_module, NULL, 0, "");
    reachable("init_module", r, errno);
    struct { unsigned int bytes; int type; unsigned char data[8]; } handle = {8, 1, {0}};
    r = syscall(SYS_open_by_handle_at, AT_FDCWD, &handle, O_RDONLY);
    err = errno;
    if (r >= 0) close((int)r);
    reachable("open_by_handle_at", r, err);
}

/* Watch for processes that join the container (an `exec` runtime, known by its command
 * line) for `seconds` and try to open their /proc/PID/exe: CVE-2019-5736 wrote to the
 * runtime's binary through it. */
static void watch_exe(double seconds) {
    int seen = 0, opened = 0;
    char detail[200] = "";
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t self = getpid();
    do {
        DIR *proc = opendir("/proc");
        struct dirent *entry;
        while (proc && (entry = readdir(proc))) {
            int pid = atoi(entry->d_name);
            if (pid <= 1 || pid == self) continue;
            char path[64], cmdline[256] = "";
            snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
            int cmd = open(path, O_RDONLY);
            if (cmd < 0) continue;
            long n = read(cmd, cmdline, sizeof cmdline - 1);
            close(cmd);
            if (n <= 0) continue;
            for (long i = 0; i < n; i++) if (!cmdline[i]) cmdline[i] = ' ';
            cmdline[n] = 0;
            if (!strstr(cmdline, "nsbox") && !strstr(cmdline, "runc") && !strstr(cmdline, "crun")) continue;
            seen++;  /* a runtime that has joined the container and not yet exec'd the program */
            snprintf(path, sizeof path, "/proc/%d/exe", pid);
            int fd = open(path, O_RDONLY);
            if (fd < 0) continue;
            close(fd);
            /* It counts only if the process was still the runtime after the open: it may
             * have exec'd the program (whose exe is the container's own file) meanwhile. */
            char again[256] = "";
            snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
            cmd = open(path, O_RDONLY);
            n = cmd >= 0 ? read(cmd, again, sizeof again - 1) : 0;
            if (cmd >= 0) close(cmd);
            if (n <= 0) continue;
            for (long i = 0; i < n; i++) if (!again[i]) again[i] = ' ';
            again[n] = 0;
            if (strcmp(again, cmdline) != 0) continue;
            opened++;
            snprintf(detail, sizeof detail, "opened the exe of %.150s", cmdline);
        }
        if (proc) closedir(proc);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
    if (!opened) snprintf(detail, sizeof detail, "saw the runtime %d times, never opened its exe", seen);
    report("exec_runtime_exe_open", opened > 0, detail);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 2 && strcmp(argv[1], "watch-exe") == 0) { watch_exe(atof(argv[2])); return 0; }
    try_mount("mount_proc", "proc");
    try_mount("mount_tmpfs", "tmpfs");
    read_disk();
    disk_in_dev();
    writable("write_sysrq_trigger", "/proc/sysrq-trigger");
    writable("write_proc_sys", "/proc/sys/kernel/core_pattern");
    writable("write_sys", "/sys/kernel");
    writable("write_cgroup_limits", access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0
                                    ? "/sys/fs/cgroup/memory/memory.limit_in_bytes" : "/sys/fs/cgroup/memory.max");
    readable("read_proc_kcore", "/proc/kcore");
    readable("read_proc_keys", "/proc/keys");
    try_unshare("unshare_user_ns", CLONE_NEWUSER);
    try_unshare("unshare_mount_ns", CLONE_NEWNS);
    capabilities();
    host_processes();
    host_interfaces();
    extra_fds();
    seccomp_mode();
    syscalls();
    return 0;
}
