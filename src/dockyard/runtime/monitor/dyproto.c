/* dockyard-monitor: frames and replies of runtime/messages.py, and a JSON reader for the
 * flat control messages it receives. */
#define _GNU_SOURCE
#include "dymon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------- helpers */

void set_cloexec(int fd, int on) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0)
        fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC);
}

int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

void frame_header(char *h, int kind, size_t len) {
    h[0] = (char)kind;
    h[1] = (char)(len >> 24);
    h[2] = (char)(len >> 16);
    h[3] = (char)(len >> 8);
    h[4] = (char)len;
}

int send_frame(int fd, int kind, const char *p, size_t n) {
    char h[5];
    frame_header(h, kind, n);
    return send_all(fd, h, 5) == 0 && send_all(fd, p, n) == 0 ? 0 : -1;
}

void json_str(struct buf *b, const char *s) { /* ASCII messages (strerror, ours) */
    char esc[8];
    buf_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf_add(b, "\\", 1);
            buf_add(b, s, 1);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            buf_addstr(b, esc);
        } else {
            buf_add(b, s, 1);
        }
    }
    buf_add(b, "\"", 1);
}

int send_json(int fd, struct buf *b) {
    int r = send_frame(fd, 1, b->p, b->len);
    buf_free(b);
    return r;
}

int reply_ok(int fd) { return send_frame(fd, 1, "{\"type\":\"ok\"}", 13); }

int reply_failed(int fd, const char *message, const char *step) {
    struct buf b = {0};
    buf_addstr(&b, "{\"type\":\"failed\",\"message\":");
    json_str(&b, message);
    buf_addstr(&b, ",\"step\":");
    json_str(&b, step);
    buf_addstr(&b, ",\"exit_code\":null}");
    return send_json(fd, &b);
}

void os_error(char *dst, size_t cap, int err) { /* str(OSError) */
    snprintf(dst, cap, "[Errno %d] %s", err, strerror(err));
}

/* ------------------------------------------------------- tiny JSON reader
 * Flat objects only: string (with escapes), integer, true/false/null values. */


static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int hexval(char h) {
    return h >= '0' && h <= '9' ? h - '0' : (h | 32) >= 'a' && (h | 32) <= 'f' ? (h | 32) - 'a' + 10 : -1;
}

/* Parses a JSON string at p into dst (ASCII kept; \u0000 and \uXXXX above 0x7f as '?', so no
 * NUL cuts a name short); NULL on error: bad escape, raw control character (json.loads
 * refuses them too), unterminated, or longer than dst holds (never truncated: a cut
 * exec_id could name another exec). */
static const char *parse_str(const char *p, const char *e, char *dst, size_t cap) {
    size_t n = 0;
    if (p >= e || *p != '"')
        return NULL;
    for (p++; p < e && *p != '"'; p++) {
        char c = *p;
        if ((unsigned char)c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++p >= e)
                return NULL;
            switch (*p) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '"': case '\\': case '/': c = *p; break;
            case 'u': {
                if (e - p < 5)
                    return NULL;
                unsigned v = 0;
                for (int i = 1; i <= 4; i++) {
                    int h = hexval(p[i]);
                    if (h < 0)
                        return NULL;
                    v = v * 16 + (unsigned)h;
                }
                p += 4;
                c = v > 0 && v < 0x80 ? (char)v : '?';
                break;
            }
            default: return NULL;
            }
        }
        if (dst) {
            if (n + 1 >= cap)
                return NULL;
            dst[n++] = c;
        }
    }
    if (p >= e)
        return NULL;
    if (dst)
        dst[n] = 0;
    return p + 1;
}

/* Parses a JSON integer at p (no fraction or exponent: the fields are ints) without reading
 * past e (the payload is not NUL-terminated); beyond long long it saturates. NULL on error. */
static const char *parse_int(const char *p, const char *e, long long *out) {
    int neg = p < e && *p == '-';
    unsigned long long v = 0, lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    const char *d = p + neg;
    if (d >= e || *d < '0' || *d > '9')
        return NULL;
    for (p = d; p < e && *p >= '0' && *p <= '9'; p++)
        v = v > (lim - (unsigned long long)(*p - '0')) / 10 ? lim : v * 10 + (unsigned long long)(*p - '0');
    if (p < e && (*p == '.' || *p == 'e' || *p == 'E'))
        return NULL;
    *out = neg ? (v == lim ? LLONG_MIN : -(long long)v) : (long long)v;
    return p;
}

/* Skips an array or object (strings inside may hold brackets); NULL when unterminated. */
static const char *skip_nested(const char *p, const char *e) {
    int depth = 0;
    while (p < e) {
        if (*p == '"') {
            p = parse_str(p, e, NULL, 0);
            if (!p)
                return NULL;
            continue;
        }
        if (*p == '[' || *p == '{')
            depth++;
        else if ((*p == ']' || *p == '}') && --depth == 0)
            return p + 1;
        p++;
    }
    return NULL;
}

int parse_msg(const char *p, size_t len, struct msg *m) {
    const char *e = p + len;
    char key[32];
    memset(m, 0, sizeof *m);
    p = skip_ws(p, e);
    if (p >= e || *p++ != '{')
        return -1;
    p = skip_ws(p, e);
    if (p < e && *p == '}')
        return -1; /* {}: no type */
    for (;;) {
        p = parse_str(skip_ws(p, e), e, key, sizeof key);
        if (!p)
            return -1;
        p = skip_ws(p, e);
        if (p >= e || *p++ != ':')
            return -1;
        p = skip_ws(p, e);
        if (p >= e)
            return -1;
        if (*p == '"') {
            char *dst = !strcmp(key, "type") ? m->type : !strcmp(key, "exec_id") ? m->exec_id : NULL;
            size_t cap = dst == m->type ? sizeof m->type : sizeof m->exec_id;
            p = parse_str(p, e, dst, cap);
            if (!p)
                return -1;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            long long v;
            p = parse_int(p, e, &v);
            if (!p)
                return -1;
            if (!strcmp(key, "signal")) m->sig = v, m->has_sig = 1;
            else if (!strcmp(key, "rows")) m->rows = v, m->has_rows = 1;
            else if (!strcmp(key, "cols")) m->cols = v, m->has_cols = 1;
        } else if (e - p >= 4 && (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))) {
            p += 4;
        } else if (e - p >= 5 && !strncmp(p, "false", 5)) {
            p += 5;
        } else if (*p == '[' || *p == '{') {
            p = skip_nested(p, e); /* Exec's args/env/additional_gids: the helper reads them */
            if (!p)
                return -1;
        } else {
            return -1;
        }
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p++;
            continue;
        }
        if (p < e && *p == '}')
            return skip_ws(p + 1, e) == e && m->type[0] ? 0 : -1; /* json.loads: no extra data */
        return -1;
    }
}
