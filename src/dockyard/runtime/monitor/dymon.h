/* dockyard-monitor: shared declarations (see dymon.c for the theory of operation). */
#ifndef DYMON_H
#define DYMON_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    char *p;
    size_t len, cap;
};

void buf_add(struct buf *b, const void *data, size_t n);
void buf_addstr(struct buf *b, const char *s);
void buf_consume(struct buf *b, size_t n); /* drop the first n bytes */
void buf_free(struct buf *b);
void die(const char *what);

/* runtime/jsonlog.py's JsonLogEncoder, byte for byte. */
#define MAX_LINE (16 * 1024)
struct encoder {
    struct buf split[3]; /* per stream (1 stdout, 2 stderr): the partial line */
};
void enc_feed(struct encoder *e, struct buf *out, int stream, const char *data, size_t n, int64_t ns);
void enc_close(struct encoder *e, struct buf *out, int stream, int64_t ns);
void enc_entry(struct buf *out, const char *data, size_t n, int stream, int64_t ns);
void rfc3339nano(char *dst, size_t cap, int64_t ns);

/* runtime/logrotate.py's LogWriter for json-file (max-size/max-file) and none. */
struct logw {
    char *path;
    int enabled;
    long long max_size, size;
    int max_file;
    int fd;
};
int logw_open(struct logw *w);
void logw_write(struct logw *w, const char *data, size_t n);
void logw_close(struct logw *w);

int64_t now_ns(void);
int selftest_encode(void);
int selftest_rotate(char *path, long long max_size, int max_file);

/* ---- the monitor's state (dymon.c) ---- */
#include <sys/types.h>

struct client {
    int fd;
    int attached, waiting;
    struct buf in;
    int passed; /* an fd received with SCM_RIGHTS (ExecConsole's pty master), or -1 */
};

struct helper { /* a running exec with a pty: its helper's ExecConsole connection, and the master */
    int ctrl, master;
    char *exec_id;
};

struct monitor {
    int listener, sigfd, init_pid;
    int out[3];           /* out[1], out[2]: stdout/stderr pipes, or out[1] the pty master */
    int master;           /* pty master (also out[1]) or -1 */
    int in_fd;            /* the process's stdin: a pipe, or the master; -1 when none */
    int in_owns, in_closing;
    struct buf in_buf;
    struct encoder enc;
    struct logw log;
    const char *state_dir, *oom_file, *python, *pysrc, *bundle;
    int exited, exit_code, exit_signal, oom_killed;
    int64_t finished_ns;
    struct client *clients;
    int nclients;
    struct helper *helpers;
    int nhelpers;
};
extern struct monitor M;

#define DRAIN_GRACE_NS 2000000000LL /* shim.DRAIN_GRACE */
#define SINK_HIGH_WATER (1 << 20)
#define MAX_FRAME (16 * 1024 * 1024)

/* dyproto.c: frames, replies, the tiny JSON reader */
struct msg {
    char type[32], exec_id[256];
    long long sig, rows, cols;
    int has_sig, has_rows, has_cols;
};
void set_cloexec(int fd, int on);
int send_all(int fd, const char *p, size_t n);
void frame_header(char *h, int kind, size_t len);
int send_frame(int fd, int kind, const char *p, size_t n);
void json_str(struct buf *b, const char *s);
int send_json(int fd, struct buf *b);
int reply_ok(int fd);
int reply_failed(int fd, const char *message, const char *step);
void os_error(char *dst, size_t cap, int err);
int parse_msg(const char *p, size_t len, struct msg *m);

/* dymon.c */
void drop_client(int i);
void sink_close_now(void);
void sink_flush(void);

/* dyexec.c: exec helpers and their pty masters */
void helper_drop(int i);
int helper_read(struct helper *h);
int delegate_exec(int i);
int register_console(int i, const struct msg *m);

/* dyexit.c: reaping, exit.json, the end */
void reap(void);
void finish(void);
int send_exited(int fd);

#endif
