/* dockyard-monitor: execs.  A monitor runs no Python: an Exec sent here gets a Python exec
 * helper (runtime/exechelper.py) that takes the connection; a helper with a pty registers
 * the master (ExecConsole) so that Resize(exec_id) reaches it. */
#define _GNU_SOURCE
#include "dymon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ exec */

void helper_drop(int i) {
    close(M.helpers[i].ctrl);
    if (M.helpers[i].master >= 0)
        close(M.helpers[i].master);
    free(M.helpers[i].exec_id);
    M.helpers[i] = M.helpers[--M.nhelpers];
}

/* The helper's ExecConsole connection: -1 at EOF (the exec is over). */
int helper_read(struct helper *h) {
    char data[256];
    ssize_t n = recv(h->ctrl, data, sizeof data, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    return n == 0 ? -1 : 0;
}

static void hex_encode(char *dst, const char *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = digits[(unsigned char)p[i] >> 4];
        dst[2 * i + 1] = digits[(unsigned char)p[i] & 15];
    }
    dst[2 * n] = 0;
}

/* Hands client i (its unread bytes start with the Exec frame) to a new exec helper
 * (runtime/exechelper.py); 1 when handed over, 0 when answered here.  The daemon
 * normally has its spawner fork the helper (SpawnExec): this is for an Exec that
 * reached us anyway, e.g. sent while the Python shim was handing over. */
int delegate_exec(int i) {
    struct client *c = &M.clients[i];
    if (M.exited) {
        reply_failed(c->fd, "container is not running", "state");
        return 0;
    }
    char *hex = malloc(c->in.len * 2 + 1);
    if (!hex)
        die("malloc");
    hex_encode(hex, c->in.p, c->in.len);
    char conn[16], pid[16];
    snprintf(conn, sizeof conn, "%d", c->fd);
    snprintf(pid, sizeof pid, "%d", M.init_pid);
    pid_t child = fork();
    if (child == 0) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        set_cloexec(c->fd, 0);
        /* -I: no environment or user site; the package's directory comes as an argument */
        char boot[] = "import sys; sys.path.insert(0, sys.argv.pop(1)); "
                      "from dockyard.runtime.exechelper import cli; cli()";
        char *argv[] = {(char *)M.python, "-I", "-c", boot, (char *)M.pysrc, conn, pid,
                        (char *)M.bundle, (char *)M.state_dir, hex, NULL};
        execv(M.python, argv);
        _exit(127);
    }
    free(hex);
    if (child < 0) {
        char err[128];
        os_error(err, sizeof err, errno);
        reply_failed(c->fd, err, "exec");
        return 0;
    }
    return 1;
}

/* ExecConsole: client i becomes the registration of exec_id's pty master (received with it);
 * 1 when it did (the client is gone from M.clients), 0 when refused (the client stays). */
int register_console(int i, const struct msg *m) {
    struct client *c = &M.clients[i];
    if (c->passed < 0 || !m->exec_id[0]) {
        reply_failed(c->fd, "exec_console without a terminal", "protocol");
        return 0;
    }
    M.helpers = realloc(M.helpers, sizeof *M.helpers * (size_t)(M.nhelpers + 1));
    if (!M.helpers)
        die("realloc");
    M.helpers[M.nhelpers++] = (struct helper){c->fd, c->passed, strdup(m->exec_id)};
    c->passed = -1;
    reply_ok(c->fd);
    buf_free(&c->in);
    M.clients[i] = M.clients[--M.nclients]; /* not closed: the helper holds it open while it runs */
    return 1;
}
