/* The detached monitor's loop in C: monitor_loop.py's main(), at a fraction of the memory
 * (~0.1-0.3 MiB PSS where a Python interpreter holds ~3 MiB). nsbox.engine.monitor_build
 * compiles it on first use; without a C compiler the Python loop runs instead.
 *
 *   nsbox-monitor PYTHON ROOT ID PID LOG OUT_R ERR_R OUT_W ERR_W LISTENER [CONSOLE_PATH]
 *
 * It copies the container's output into LOG as CRI lines ("TIME STREAM F|P text", read by
 * nsbox.engine.logs), reaps the init (the monitor is its parent and a child subreaper),
 * then hands the bookkeeping (exit code, OOM kill, --rm, restart policy) to a short-lived
 * `PYTHON -m nsbox.engine.monitor_exit`, which answers "restart PID" when it launched the
 * container again; the new init is then watched the same way. Each container has its own
 * monitor: a kill -9 of one loses nothing of another's. A long-lived process that started the
 * container (nsbox serve) may offer to do that bookkeeping itself, sparing an interpreter's
 * start: NSBOX_EXIT_RECORDER names its abstract unix socket (see engine.exit_recorder). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 65536

extern char **environ;

struct stream {
    int fd;              /* -1 once at end of file */
    const char *name;    /* "stdout" or "stderr" */
    char pending[READ_SIZE];
    size_t pending_size; /* a partial line kept until its end comes */
};

static void stamp(char *out, size_t size) {
    struct timespec now;
    struct tm utc;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    size_t length = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out + length, size - length, ".%09ldZ", now.tv_nsec);
}

/* Lines a full disk (ENOSPC, EDQUOT) kept out of the log, said in the next line that fits. */
static long dropped;

/* Append one whole line, or nothing: a short write is cut back, never left torn. */
static int append_whole(int log_fd, const char *line, size_t size) {
    off_t end = lseek(log_fd, 0, SEEK_END);
    size_t done = 0;
    while (done < size) {
        ssize_t written = write(log_fd, line + done, size - done);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0) {
            if (end >= 0 && ftruncate(log_fd, end) != 0)
                errno = 0; /* nothing more to do: the line is counted as dropped */
            return 0;
        }
        done += (size_t)written;
    }
    return 1;
}

/* "nsbox: N log lines dropped" once there is room again; 1 if nothing is owed any more. */
static int note_dropped(int log_fd) {
    if (dropped == 0)
        return 1;
    char stamp_text[64], note[160];
    struct timespec now;
    struct tm utc;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    size_t length = strftime(stamp_text, sizeof stamp_text, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(stamp_text + length, sizeof stamp_text - length, ".%09ldZ", now.tv_nsec);
    int size = snprintf(note, sizeof note, "%s stderr F nsbox: %ld log lines dropped: no space left for the log\n",
                        stamp_text, dropped);
    if (!append_whole(log_fd, note, (size_t)size))
        return 0;
    dropped = 0;
    return 1;
}

static void log_line(int log_fd, const char *stamp_text, const char *stream, char tag, const char *text,
                     size_t length) {
    char head[96];
    int head_length = snprintf(head, sizeof head, "%s %s %c ", stamp_text, stream, tag);
    char *line = malloc((size_t)head_length + length + 1);
    if (line == NULL)
        return;
    memcpy(line, head, (size_t)head_length);
    memcpy(line + head_length, text, length);
    line[head_length + length] = '\n';
    if (!note_dropped(log_fd) || !append_whole(log_fd, line, (size_t)head_length + length + 1))
        dropped++;
    free(line);
}

/* The log's lines for `data` read from `s`, as monitor_loop.log_chunk writes them. */
static void log_chunk(int log_fd, struct stream *s, const char *data, size_t size) {
    char stamp_text[64];
    stamp(stamp_text, sizeof stamp_text);
    char *joined = malloc(s->pending_size + size);
    if (joined == NULL)
        return;
    memcpy(joined, s->pending, s->pending_size);
    memcpy(joined + s->pending_size, data, size);
    size_t total = s->pending_size + size, start = 0;
    s->pending_size = 0;
    for (size_t i = 0; i < total; i++) {
        if (joined[i] == '\n') {
            size_t end = i;
            if (end > start && joined[end - 1] == '\r')
                end--;
            log_line(log_fd, stamp_text, s->name, 'F', joined + start, end - start);
            start = i + 1;
        }
    }
    size_t rest = total - start;
    if (rest >= READ_SIZE) {
        log_line(log_fd, stamp_text, s->name, 'P', joined + start, rest);
    } else if (rest > 0) {
        memcpy(s->pending, joined + start, rest);
        s->pending_size = rest;
    }
    free(joined);
}

/* Move what is readable now into the log; 0 at end of file (or EIO: a pty whose slave closed). */
static int copy(struct stream *s, int log_fd) {
    char buffer[READ_SIZE];
    errno = 0;
    ssize_t got = read(s->fd, buffer, sizeof buffer);
    if (got <= 0)
        return 0;
    log_chunk(log_fd, s, buffer, (size_t)got);
    return 1;
}

static void drain(struct stream *s, int log_fd) {
    while (copy(s, log_fd))
        ;
    if (isatty(s->fd)) { /* pty output may still be on its way: until EIO, or a second of silence */
        for (;;) {
            struct pollfd wait_for = {.fd = s->fd, .events = POLLIN};
            if (poll(&wait_for, 1, 1000) <= 0 || !copy(s, log_fd))
                break;
        }
    }
}

/* Reap every exited child (orphans come to a subreaper); sets *status once `pid` exited. */
static int reap(pid_t pid, int block, int *status) {
    int found = 0;
    for (;;) {
        int child_status;
        pid_t child = waitpid(-1, &child_status, block && !found ? 0 : WNOHANG);
        if (child < 0 && errno == EINTR)
            continue;
        if (child <= 0)
            return found;
        if (child == pid) {
            *status = child_status;
            found = 1;
        }
    }
}

/* Copy the container's output into the log until its init exits; its wait status. */
static int relay(pid_t pid, int log_fd, struct stream *streams, int count) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int status = 0, exited = 0;
    for (int i = 0; i < count; i++)
        if (streams[i].fd >= 0)
            fcntl(streams[i].fd, F_SETFL, fcntl(streams[i].fd, F_GETFL) | O_NONBLOCK);
    if (pidfd < 0) /* already reaped by someone else, or gone: nothing to wait for */
        exited = reap(pid, 1, &status);
    while (!exited) {
        struct pollfd polled[3];
        int n = 0;
        polled[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        for (int i = 0; i < count; i++)
            polled[n++] = (struct pollfd){.fd = streams[i].fd, .events = POLLIN}; /* -1: ignored */
        if (poll(polled, (nfds_t)n, 10000) < 0 && errno != EINTR)
            break;
        if (polled[0].revents)
            exited = reap(pid, 1, &status);
        for (int i = 0; i < count; i++)
            if (polled[i + 1].revents && streams[i].fd >= 0 && !copy(&streams[i], log_fd)) {
                if (errno != EAGAIN)
                    streams[i].fd = -1;
            }
        if (!exited)
            exited = reap(pid, 0, &status);
    }
    char stamp_text[64];
    stamp(stamp_text, sizeof stamp_text);
    for (int i = 0; i < count; i++) {
        if (streams[i].fd >= 0)
            drain(&streams[i], log_fd);
        if (streams[i].pending_size) {
            log_line(log_fd, stamp_text, streams[i].name, 'P', streams[i].pending, streams[i].pending_size);
            streams[i].pending_size = 0;
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    return status;
}

/* The exit recorded by the process that started the container (NSBOX_EXIT_RECORDER): 1 when
 * it answered "exit"; 0 when there is none, it is gone, or it left the work to monitor_exit. */
static int recorded_by_starter(const char *container_id, int status) {
    const char *name = getenv("NSBOX_EXIT_RECORDER");
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (name == NULL || *name == '\0' || strlen(name) + 1 > sizeof address.sun_path)
        return 0;
    memcpy(address.sun_path + 1, name, strlen(name)); /* abstract: sun_path[0] is 0 */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct timeval patience = {.tv_sec = 60, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    char request[128], reply[16] = {0};
    int size = snprintf(request, sizeof request, "%s %d\n", container_id, status);
    socklen_t length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
    int recorded = connect(fd, (struct sockaddr *)&address, length) == 0 && write(fd, request, (size_t)size) == size
                   && read(fd, reply, sizeof reply - 1) > 0 && strncmp(reply, "exit", 4) == 0;
    close(fd);
    return recorded;
}

/* One run of monitor_exit: 1 with *restarted set when it answered, 0 when it failed (a full disk). */
static int run_helper(char **argv, int status, pid_t *restarted) {
    *restarted = 0;
    if (recorded_by_starter(argv[3], status))
        return 1;
    char status_text[16], monitor_text[16];
    snprintf(status_text, sizeof status_text, "%d", status);
    snprintf(monitor_text, sizeof monitor_text, "%d", (int)getpid());
    char *helper_argv[] = {argv[1], "-m", "nsbox.engine.monitor_exit", argv[2], argv[3], status_text,
                           monitor_text, argv[8], argv[9], argv[11] ? argv[11] : "", NULL};
    int reply_pipe[2];
    if (pipe2(reply_pipe, O_CLOEXEC) < 0)
        return 0;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, reply_pipe[1], 1);
    pid_t helper;
    int failed = posix_spawn(&helper, argv[1], &actions, NULL, helper_argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(reply_pipe[1]);
    char reply[128];
    size_t size = 0;
    ssize_t got;
    while (size < sizeof reply - 1 && (got = read(reply_pipe[0], reply + size, sizeof reply - 1 - size)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;
        size += (size_t)got;
    }
    reply[size] = '\0';
    close(reply_pipe[0]);
    while (!failed && waitpid(helper, NULL, 0) < 0 && errno == EINTR)
        ;
    long pid = 0;
    *restarted = 0;
    if (sscanf(reply, "restart %ld", &pid) == 1) {
        *restarted = (pid_t)pid;
        return 1;
    }
    return strncmp(reply, "exit", 4) == 0;
}

static int container_exists(char **argv) {
    char path[4096];
    struct stat info;
    snprintf(path, sizeof path, "%s/containers/%s", argv[2], argv[3]);
    return stat(path, &info) == 0;
}

/* monitor_exit does the bookkeeping; returns the PID of a restarted init, or 0. When it
 * fails (a full disk), it is run again, backing off to 5 s, until it succeeds or the
 * container is gone: the exit status waits here, in memory. */
static pid_t after_exit(char **argv, int status, int log_fd) {
    struct timespec delay = {.tv_sec = 0, .tv_nsec = 100000000};
    pid_t restarted = 0;
    for (;;) {
        note_dropped(log_fd);
        if (run_helper(argv, status, &restarted) || !container_exists(argv))
            break;
        nanosleep(&delay, NULL);
        if (delay.tv_sec < 5) {
            delay.tv_nsec *= 2;
            if (delay.tv_nsec >= 1000000000) {
                delay.tv_sec += 1;
                delay.tv_nsec -= 1000000000;
            }
        }
    }
    while (!restarted && !note_dropped(log_fd) && container_exists(argv)) {
        struct timespec wait = {.tv_sec = 1, .tv_nsec = 0};
        nanosleep(&wait, NULL); /* the note of what a full disk dropped is worth the wait too */
    }
    return restarted;
}

/* The pty master a restarted terminal container's runtime sends over the console socket. */
static int accept_console(int listener) {
    int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0)
        return -1;
    char byte, control[CMSG_SPACE(sizeof(int))];
    struct iovec data = {.iov_base = &byte, .iov_len = 1};
    struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control};
    int fd = -1;
    if (recvmsg(connection, &message, MSG_CMSG_CLOEXEC) >= 0) {
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        if (header && header->cmsg_type == SCM_RIGHTS)
            memcpy(&fd, CMSG_DATA(header), sizeof fd);
    }
    close(connection);
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 11) {
        fprintf(stderr, "usage: %s PYTHON ROOT ID PID LOG OUT_R ERR_R OUT_W ERR_W LISTENER [CONSOLE_PATH]\n", argv[0]);
        return 2;
    }
    if (argc == 11)
        argv[11] = NULL; /* argv[argc] is NULL already: no console path */
    pid_t pid = (pid_t)atol(argv[4]);
    int log_fd = open(argv[5], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    int listener = atoi(argv[10]);
    int out_read = atoi(argv[6]), err_read = atoi(argv[7]);
    static struct stream streams[2];
    for (;;) {
        streams[0] = (struct stream){.fd = out_read, .name = "stdout"};
        streams[1] = (struct stream){.fd = err_read, .name = "stderr"};
        int status = relay(pid, log_fd, streams, err_read >= 0 ? 2 : 1);
        pid = after_exit(argv, status, log_fd);
        if (pid <= 0)
            return 0;
        if (listener >= 0) { /* a terminal container: the new process's pty master */
            close(out_read);
            out_read = accept_console(listener);
        }
    }
}
