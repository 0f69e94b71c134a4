/* dockyard-monitor: the container's monitor once it runs (what conmon is to podman).
 *
 * The Python shim (runtime/shim.py) creates and starts the container; once the
 * process has exec'd it execve's into this program (same pid: still the init's
 * parent and child subreaper; runtime/monitor/handover.py builds the argv) when
 * every feature in use is one we implement.  A forked CPython costs ~1.3 MiB
 * private per container; this costs a few hundred KiB.
 *
 * Same socket, same wire protocol (runtime/messages.py): frames kind u8 |
 * len u32 BE | payload; control payloads are flat JSON objects.  We serve
 * Attach, Wait, Input, CloseStdin, Resize, State, Kill, Start (refused: it has
 * started) as shim._handle does.  Execs are served by a Python exec helper
 * (runtime/exechelper.py), forked by the daemon's spawner or, for an Exec sent
 * here, by us; one with a pty registers its master here (ExecConsole) so that
 * Resize(exec_id) works.  Output
 * goes to the json-file log (dylog.c) and to attached clients.  When the init
 * is reaped: OOM flag from the cgroup, exit.json, Exited to waiters, exit.
 *
 * Files: dymon.c (state, stdin, output, requests, loop, main), dyproto.c
 * (frames, replies, JSON reader), dyexec.c (exec helpers), dyexit.c (reap,
 * exit.json, the end), dylog.c (json-file entries and rotation). */
#define _GNU_SOURCE
#include "dymon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

struct monitor M;

/* ----------------------------------------------------------------- stdin */

void sink_close_now(void) {
    if (M.in_fd >= 0 && M.in_owns)
        close(M.in_fd);
    M.in_fd = -1;
    buf_free(&M.in_buf);
}

void sink_flush(void) {
    while (M.in_fd >= 0 && M.in_buf.len) {
        ssize_t k = write(M.in_fd, M.in_buf.p, M.in_buf.len);
        if (k < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            M.in_buf.len = 0; /* EPIPE / EIO: the process is gone or closed its stdin */
            break;
        }
        buf_consume(&M.in_buf, (size_t)k);
    }
    if (M.in_closing)
        sink_close_now();
}

/* ---------------------------------------------------------------- output */

void drop_client(int i) {
    if (M.clients[i].passed >= 0)
        close(M.clients[i].passed);
    close(M.clients[i].fd);
    buf_free(&M.clients[i].in);
    M.clients[i] = M.clients[--M.nclients];
}

static void close_output(int stream) {
    struct buf out = {0};
    int fd = M.out[stream];
    if (M.log.enabled) {
        enc_close(&M.enc, &out, stream, now_ns());
        logw_write(&M.log, out.p, out.len);
        buf_free(&out);
    }
    if (fd == M.in_fd) { /* the pty master doubles as stdin: closed here, once */
        M.in_fd = -1;
        buf_free(&M.in_buf);
    }
    close(fd);
    if (fd == M.master)
        M.master = -1;
    M.out[stream] = -1;
}

static void on_output(int stream) {
    static char data[65536];
    ssize_t n = read(M.out[stream], data, sizeof data);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* EOF, or EIO from a pty master whose slaves are all closed */
        close_output(stream);
        return;
    }
    if (M.log.enabled) {
        struct buf out = {0};
        enc_feed(&M.enc, &out, stream, data, (size_t)n, now_ns());
        logw_write(&M.log, out.p, out.len);
        buf_free(&out);
    }
    for (int i = M.nclients - 1; i >= 0; i--)
        if (M.clients[i].attached && send_frame(M.clients[i].fd, stream == 1 ? 2 : 3, data, (size_t)n) < 0)
            drop_client(i);
}

/* --------------------------------------------------------------- requests */

static int set_winsize(int fd, long long rows, long long cols) {
    struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
    return ioctl(fd, TIOCSWINSZ, &ws);
}

static int is_started(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/started", M.state_dir);
    return access(path, F_OK) == 0;
}

/* Handles one control message from client i; -1: the caller hands the connection over (Exec, ExecConsole). */
static int handle(int i, const struct msg *m) {
    int fd = M.clients[i].fd;
    char err[160];
    if (!strcmp(m->type, "attach")) {
        M.clients[i].attached = 1;
    } else if (!strcmp(m->type, "wait")) {
        M.clients[i].waiting = 1;
    } else if (!strcmp(m->type, "close_stdin")) {
        if (M.in_fd >= 0 && M.in_fd != M.master) { /* a pty has no EOF to give: its input just stops */
            M.in_closing = 1;
            sink_flush();
        }
    } else if (!strcmp(m->type, "resize")) {
        int master = M.master;
        if (m->exec_id[0]) {
            master = -1;
            for (int k = 0; k < M.nhelpers; k++)
                if (!strcmp(M.helpers[k].exec_id, m->exec_id))
                    master = M.helpers[k].master;
        }
        if (master < 0)
            reply_failed(fd, "no terminal to resize", "resize");
        else if (m->rows < 0 || m->rows > 65535 || m->cols < 0 || m->cols > 65535) /* struct winsize: u16 */
            os_error(err, sizeof err, EINVAL), reply_failed(fd, err, "resize");
        else if (set_winsize(master, m->rows, m->cols) < 0)
            os_error(err, sizeof err, errno), reply_failed(fd, err, "resize");
        else
            reply_ok(fd);
    } else if (!strcmp(m->type, "state")) {
        char s[128];
        const char *status = M.exited ? "stopped" : is_started() ? "running" : "created";
        snprintf(s, sizeof s, "{\"type\":\"state_reply\",\"status\":\"%s\",\"pid\":%d}", status, M.init_pid);
        send_frame(fd, 1, s, strlen(s));
    } else if (!strcmp(m->type, "kill")) {
        if (M.exited)
            reply_failed(fd, "container is not running", "kill");
        else if (m->sig < INT_MIN || m->sig > INT_MAX) /* (int) would wrap: 2**32+9 is not SIGKILL */
            reply_failed(fd, "signal number out of range", "kill");
        else if (kill(M.init_pid, (int)m->sig) < 0)
            os_error(err, sizeof err, errno), reply_failed(fd, err, "kill");
        else
            reply_ok(fd);
    } else if (!strcmp(m->type, "start")) {
        reply_failed(fd, "container cannot be started in its current state", "start");
    } else if (!strcmp(m->type, "exec") || !strcmp(m->type, "exec_console")) {
        return -1; /* the caller hands the connection over */
    } else {
        snprintf(err, sizeof err, "unexpected request %s", m->type);
        reply_failed(fd, err, "protocol");
    }
    return 0;
}

static int well_formed(const struct msg *m) { /* the fields the Python dataclass requires */
    if (!strcmp(m->type, "kill"))
        return m->has_sig;
    if (!strcmp(m->type, "resize"))
        return m->has_rows && m->has_cols;
    return 1;
}

static void on_client(int i) {
    struct client *c = &M.clients[i];
    static char data[65536];
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {data, sizeof data};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        int *fds = (int *)CMSG_DATA(cm);
        for (size_t k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
            if (c->passed < 0)
                c->passed = fds[k];
            else
                close(fds[k]);
        }
    }
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        drop_client(i);
        return;
    }
    buf_add(&c->in, data, (size_t)n);
    size_t off = 0; /* frames before off are handled: consumed once, not one memmove per frame */
    while (c->in.len - off >= 5) {
        unsigned char *h = (unsigned char *)c->in.p + off;
        size_t len = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | h[4];
        if (h[0] < 1 || h[0] > 4 || len > MAX_FRAME) {
            drop_client(i);
            return;
        }
        if (c->in.len - off < 5 + len)
            break;
        char *payload = (char *)h + 5;
        if (h[0] == 4) {
            if (M.in_fd >= 0 && !M.in_closing) {
                buf_add(&M.in_buf, payload, len);
                sink_flush();
            }
        } else if (h[0] != 1) {
            reply_failed(c->fd, "unexpected request output", "protocol");
        } else {
            struct msg m;
            if (parse_msg(payload, len, &m) < 0 || !well_formed(&m)) {
                drop_client(i);
                return;
            }
            if (handle(i, &m) < 0) {
                buf_consume(&c->in, off); /* both read the frame at the head of c->in */
                off = 0;
                if (!strcmp(m.type, "exec_console")) {
                    if (register_console(i, &m))
                        return;
                } else if (delegate_exec(i)) {
                    drop_client(i); /* the helper has the connection and every byte read after Exec */
                    return;
                }
            }
        }
        off += 5 + len;
    }
    buf_consume(&c->in, off);
}

static void on_accept(void) {
    int fd = accept4(M.listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    M.clients = realloc(M.clients, sizeof *M.clients * (size_t)(M.nclients + 1));
    if (!M.clients)
        die("realloc");
    M.clients[M.nclients++] = (struct client){fd, 0, 0, {0}, -1};
}

/* ------------------------------------------------------------------- loop */

static void loop(void) {
    int64_t drain_deadline = M.exited ? now_ns() + DRAIN_GRACE_NS : 0;
    struct pollfd *p = NULL;
    while (M.out[1] >= 0 || M.out[2] >= 0 || !M.exited) {
        size_t cap = (size_t)(6 + M.nclients + M.nhelpers), n = 0;
        p = realloc(p, sizeof *p * cap);
        if (!p)
            die("realloc");
        p[n++] = (struct pollfd){M.sigfd, POLLIN, 0};
        p[n++] = (struct pollfd){M.listener, POLLIN, 0};
        p[n++] = (struct pollfd){M.out[1], POLLIN, 0}; /* fd -1: ignored by poll */
        p[n++] = (struct pollfd){M.out[2], POLLIN, 0};
        p[n++] = (struct pollfd){M.in_buf.len ? M.in_fd : -1, POLLOUT, 0};
        int backlogged = M.in_buf.len > SINK_HIGH_WATER;
        for (int i = 0; i < M.nclients; i++)
            p[n++] = (struct pollfd){backlogged ? -1 : M.clients[i].fd, POLLIN, 0};
        for (int i = 0; i < M.nhelpers; i++)
            p[n++] = (struct pollfd){M.helpers[i].ctrl, POLLIN, 0};
        int timeout = -1;
        if (drain_deadline) {
            int64_t left = drain_deadline - now_ns();
            timeout = left > 0 ? (int)(left / 1000000) + 1 : 0;
        }
        int r = poll(p, n, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (r == 0 && drain_deadline) {
            for (int s = 1; s <= 2; s++) /* orphans still hold the pipes: stop waiting for them */
                if (M.out[s] >= 0)
                    close_output(s);
            continue;
        }
        if (p[4].revents)
            sink_flush();
        if (p[0].revents) {
            struct signalfd_siginfo si;
            while (read(M.sigfd, &si, sizeof si) > 0)
                ;
            reap();
            if (M.exited && !drain_deadline)
                drain_deadline = now_ns() + DRAIN_GRACE_NS;
        }
        for (int s = 1; s <= 2; s++)
            if (p[1 + s].revents && M.out[s] >= 0)
                on_output(s);
        /* clients and helpers: walk the fds polled (indices shift as entries are dropped) */
        size_t k = 5;
        int nc = M.nclients, nh = M.nhelpers;
        int *cfd = malloc(sizeof(int) * (size_t)(nc + nh + 1));
        short *crev = malloc(sizeof(short) * (size_t)(nc + nh + 1));
        if (!cfd || !crev)
            die("malloc");
        for (int i = 0; i < nc + nh; i++, k++) {
            cfd[i] = i < nc ? M.clients[i].fd : M.helpers[i - nc].ctrl;
            crev[i] = p[k].revents;
        }
        for (int i = 0; i < nc + nh; i++) {
            if (!crev[i])
                continue;
            if (i < nc) {
                for (int j = 0; j < M.nclients; j++)
                    if (M.clients[j].fd == cfd[i]) {
                        on_client(j);
                        break;
                    }
            } else {
                for (int j = 0; j < M.nhelpers; j++)
                    if (M.helpers[j].ctrl == cfd[i]) {
                        if (helper_read(&M.helpers[j]) < 0)
                            helper_drop(j);
                        break;
                    }
            }
        }
        free(cfd);
        free(crev);
        if (p[1].revents)
            on_accept();
    }
    free(p);
    finish();
}

/* ------------------------------------------------------------------- main */

static void hex_decode(struct buf *b, const char *s) {
    for (; s[0] && s[1]; s += 2) {
        char h[3] = {s[0], s[1], 0};
        char c = (char)strtol(h, NULL, 16);
        buf_add(b, &c, 1);
    }
}

static void add_client(const char *spec) { /* FD:ATTACHED:WAITING */
    int fd, a, w;
    if (sscanf(spec, "%d:%d:%d", &fd, &a, &w) != 3)
        return;
    set_cloexec(fd, 1);
    M.clients = realloc(M.clients, sizeof *M.clients * (size_t)(M.nclients + 1));
    if (!M.clients)
        die("realloc");
    M.clients[M.nclients++] = (struct client){fd, a, w, {0}, -1};
}

static int usage(void) {
    fprintf(stderr, "usage: dockyard-monitor --selftest-encode | key=value...\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--selftest-encode"))
        return selftest_encode();
    if (argc == 5 && !strcmp(argv[1], "--selftest-rotate"))
        return selftest_rotate(argv[2], atoll(argv[3]), atoi(argv[4]));
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        puts("dockyard-monitor 1");
        return 0;
    }
    M.listener = M.init_pid = -1;
    M.out[1] = M.out[2] = M.master = M.in_fd = -1;
    M.log.enabled = 1;
    M.log.max_file = 1;
    M.log.fd = -1;
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return usage();
        *eq = 0;
        const char *k = argv[i], *v = eq + 1;
        if (!strcmp(k, "listen")) M.listener = atoi(v);
        else if (!strcmp(k, "init")) M.init_pid = atoi(v);
        else if (!strcmp(k, "stdout")) M.out[1] = atoi(v);
        else if (!strcmp(k, "stderr")) M.out[2] = atoi(v);
        else if (!strcmp(k, "master")) M.master = atoi(v);
        else if (!strcmp(k, "stdin")) M.in_fd = atoi(v);
        else if (!strcmp(k, "log")) M.log.path = (char *)v;
        else if (!strcmp(k, "driver")) M.log.enabled = strcmp(v, "none") != 0;
        else if (!strcmp(k, "max_size")) M.log.max_size = atoll(v);
        else if (!strcmp(k, "max_file")) M.log.max_file = atoi(v) > 1 ? atoi(v) : 1;
        else if (!strcmp(k, "state")) M.state_dir = v;
        else if (!strcmp(k, "oom")) M.oom_file = v;
        else if (!strcmp(k, "python")) M.python = v;
        else if (!strcmp(k, "pysrc")) M.pysrc = v;
        else if (!strcmp(k, "bundle")) M.bundle = v;
        else if (!strcmp(k, "client")) add_client(v);
        else if (!strcmp(k, "partial1")) hex_decode(&M.enc.split[1], v);
        else if (!strcmp(k, "partial2")) hex_decode(&M.enc.split[2], v);
        else return usage();
    }
    if (M.listener < 0 || M.init_pid <= 0 || !M.state_dir || !M.log.path || !M.python || !M.pysrc || !M.bundle)
        return usage();
    M.in_owns = M.in_fd >= 0 && M.in_fd != M.master;
    /* what the Python shim handed us must not leak into exec helpers */
    int fds[] = {M.listener, M.out[1], M.out[2], M.master, M.in_fd};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0) {
            set_cloexec(fds[i], 1);
            fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        }
    for (int i = 0; i < M.nclients; i++) /* blocking, as the shim's client sockets */
        fcntl(M.clients[i].fd, F_SETFL, fcntl(M.clients[i].fd, F_GETFL) & ~O_NONBLOCK);
    if (M.log.enabled && logw_open(&M.log) < 0)
        die("open log");
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* kept across execve; set again in case */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    M.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (M.sigfd < 0)
        die("signalfd");
    reap(); /* the init may have exited before we blocked SIGCHLD */
    loop();
    return 0;
}
