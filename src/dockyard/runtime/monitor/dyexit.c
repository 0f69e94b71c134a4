/* dockyard-monitor: the end of the container: reap (OOM flag from the cgroup), exit.json as
 * runtime/state.py writes it, Exited to attached and waiting clients. */
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

/* ------------------------------------------------------------------- exit */

static int oom_kills(void) {
    if (!M.oom_file || !*M.oom_file)
        return 0;
    FILE *f = fopen(M.oom_file, "re");
    if (!f)
        return 0;
    char line[128];
    long long v = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "oom_kill %lld", &v) == 1)
            break;
    fclose(f);
    return v > 0;
}

void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == M.init_pid && !M.exited) {
            M.finished_ns = now_ns();
            M.oom_killed = oom_kills();
            if (WIFSIGNALED(status)) {
                M.exit_signal = WTERMSIG(status);
                M.exit_code = 128 + M.exit_signal;
            } else {
                M.exit_code = WEXITSTATUS(status);
            }
            M.exited = 1;
        }
    }
}

/* state.write_exit: json.dumps layout, written to a temporary name and renamed. */
static void write_exit(void) {
    char tmp[4096], path[4096], s[256];
    snprintf(tmp, sizeof tmp, "%s/.exit.json.tmp", M.state_dir);
    snprintf(path, sizeof path, "%s/exit.json", M.state_dir);
    snprintf(s, sizeof s, "{\"code\": %d, \"signal\": %d, \"finished_at_ns\": %lld, \"oom_killed\": %s}",
             M.exit_code, M.exit_signal, (long long)M.finished_ns, M.oom_killed ? "true" : "false");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open exit.json");
    size_t n = strlen(s);
    if (write(fd, s, n) != (ssize_t)n || fsync(fd) < 0)
        die("write exit.json");
    close(fd);
    if (rename(tmp, path) < 0)
        die("rename exit.json");
}

void finish(void) {
    char path[4096];
    write_exit(); /* before anyone hears of it: state() must agree */
    sink_close_now();
    close(M.listener);
    snprintf(path, sizeof path, "%s/shim.sock", M.state_dir);
    unlink(path);
    for (int i = 0; i < M.nclients; i++) {
        if (M.clients[i].attached || M.clients[i].waiting)
            send_exited(M.clients[i].fd);
        close(M.clients[i].fd);
    }
    logw_close(&M.log);
}

int send_exited(int fd) {
    char s[200];
    snprintf(s, sizeof s,
             "{\"type\":\"exited\",\"code\":%d,\"finished_at_ns\":%lld,\"signal\":%d,\"oom_killed\":%s}",
             M.exit_code, (long long)M.finished_ns, M.exit_signal, M.oom_killed ? "true" : "false");
    return send_frame(fd, 1, s, strlen(s));
}
