/* Container logs: Docker's json-file entries and rotation, byte-identical to
 * runtime/jsonlog.py (JsonLogEncoder) and runtime/logrotate.py (LogWriter).
 * Tested against them by tests/unit/runtime/test_monitor_encoder.py. */
#define _GNU_SOURCE
#include "dymon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void die(const char *what) {
    fprintf(stderr, "dockyard-monitor: %s: %s\n", what, strerror(errno));
    exit(1);
}

void buf_add(struct buf *b, const void *data, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            die("realloc");
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

void buf_addstr(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_consume(struct buf *b, size_t n) {
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->p, b->p + n, b->len - n);
        b->len -= n;
    }
    if (b->len == 0 && b->cap > 65536) { /* give back what a burst grew */
        free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
}

void buf_free(struct buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped. */
void rfc3339nano(char *dst, size_t cap, int64_t ns) {
    time_t secs = (time_t)(ns / 1000000000LL);
    long frac = (long)(ns % 1000000000LL);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(dst, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    char f[16];
    snprintf(f, sizeof f, "%09ld", frac);
    int end = 9;
    while (end > 0 && f[end - 1] == '0')
        end--;
    f[end] = 0;
    snprintf(dst + n, cap - n, end ? ".%sZ" : "Z", f);
}

/* Length of the valid UTF-8 sequence at s (Python's decoder rules), or, when
 * invalid, -(length of the maximal subpart to replace with one U+FFFD). */
static int utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    int need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return -1;
    if (c < 0xE0) {
        need = 1;
    } else if (c < 0xF0) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return -1;
    }
    size_t i;
    for (i = 1; i <= (size_t)need; i++) {
        if (i >= n)
            return -(int)i;
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return -(int)i;
    }
    return need + 1;
}

/* json.dumps(s, ensure_ascii=False) of the bytes decoded with errors="replace",
 * then Go's escapes of < > & U+2028 U+2029 (jsonlog._go_json_string). */
static void json_string(struct buf *out, const char *data, size_t n) {
    const unsigned char *s = (const unsigned char *)data;
    char esc[8];
    buf_add(out, "\"", 1);
    size_t i = 0;
    while (i < n) {
        int k = utf8_seq(s + i, n - i);
        if (k < 0) {
            buf_add(out, "\xEF\xBF\xBD", 3);
            i += (size_t)-k;
            continue;
        }
        if (k == 1) {
            unsigned char c = s[i];
            switch (c) {
            case '"': buf_add(out, "\\\"", 2); break;
            case '\\': buf_add(out, "\\\\", 2); break;
            case '\n': buf_add(out, "\\n", 2); break;
            case '\r': buf_add(out, "\\r", 2); break;
            case '\t': buf_add(out, "\\t", 2); break;
            case '\b': buf_add(out, "\\b", 2); break;
            case '\f': buf_add(out, "\\f", 2); break;
            case '<': buf_add(out, "\\u003c", 6); break;
            case '>': buf_add(out, "\\u003e", 6); break;
            case '&': buf_add(out, "\\u0026", 6); break;
            default:
                if (c < 0x20) {
                    snprintf(esc, sizeof esc, "\\u%04x", c);
                    buf_add(out, esc, 6);
                } else {
                    buf_add(out, &s[i], 1);
                }
            }
        } else if (k == 3 && s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
            buf_add(out, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
        } else {
            buf_add(out, &s[i], (size_t)k);
        }
        i += (size_t)k;
    }
    buf_add(out, "\"", 1);
}

void enc_entry(struct buf *out, const char *data, size_t n, int stream, int64_t ns) {
    char ts[64];
    buf_addstr(out, "{\"log\":");
    json_string(out, data, n);
    buf_addstr(out, stream == 1 ? ",\"stream\":\"stdout\",\"time\":\"" : ",\"stream\":\"stderr\",\"time\":\"");
    rfc3339nano(ts, sizeof ts, ns);
    buf_addstr(out, ts);
    buf_addstr(out, "\"}\n");
}

/* jsonlog.LineSplitter.feed: whole lines (newline kept), pieces of MAX_LINE without one. */
void enc_feed(struct encoder *e, struct buf *out, int stream, const char *data, size_t n, int64_t ns) {
    struct buf *b = &e->split[stream];
    buf_add(b, data, n);
    size_t off = 0;
    for (;;) {
        size_t rest = b->len - off;
        char *nl = rest ? memchr(b->p + off, '\n', rest) : NULL;
        size_t pos = nl ? (size_t)(nl - (b->p + off)) : 0;
        if (!nl || pos >= MAX_LINE) {
            if (rest >= MAX_LINE) {
                enc_entry(out, b->p + off, MAX_LINE, stream, ns);
                off += MAX_LINE;
                continue;
            }
            break;
        }
        enc_entry(out, b->p + off, pos + 1, stream, ns);
        off += pos + 1;
    }
    buf_consume(b, off);
}

void enc_close(struct encoder *e, struct buf *out, int stream, int64_t ns) {
    struct buf *b = &e->split[stream];
    if (b->len)
        enc_entry(out, b->p, b->len, stream, ns);
    buf_free(b);
}

/* ------------------------------------------------------------- rotation */

int logw_open(struct logw *w) {
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (w->fd < 0)
        return -1;
    struct stat sb;
    w->size = fstat(w->fd, &sb) == 0 ? sb.st_size : 0;
    return 0;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return; /* disk full etc.: the entry is lost, as an exception would lose it */
        }
        p += k;
        n -= (size_t)k;
    }
}

static void logw_raw(struct logw *w, const char *p, size_t n) {
    write_all(w->fd, p, n);
    w->size += (long long)n;
}

static void logw_rotate(struct logw *w) {
    close(w->fd);
    size_t cap = strlen(w->path) + 32;
    char *a = malloc(cap), *b = malloc(cap);
    if (!a || !b)
        die("malloc");
    if (w->max_file > 1) {
        for (int n = w->max_file - 1; n > 1; n--) {
            snprintf(a, cap, "%s.%d", w->path, n - 1);
            snprintf(b, cap, "%s.%d", w->path, n);
            if (access(a, F_OK) == 0)
                rename(a, b);
        }
        snprintf(b, cap, "%s.1", w->path);
        rename(w->path, b);
    } else {
        truncate(w->path, 0);
    }
    free(a);
    free(b);
    if (logw_open(w) < 0)
        die("open log");
}

/* data: whole entries. Rotate between entries, never inside one. */
void logw_write(struct logw *w, const char *data, size_t n) {
    if (!w->enabled || !n)
        return;
    if (!w->max_size || w->size + (long long)n <= w->max_size) {
        logw_raw(w, data, n);
        return;
    }
    size_t off = 0;
    while (off < n) {
        const char *nl = memchr(data + off, '\n', n - off);
        size_t len = nl ? (size_t)(nl - (data + off)) + 1 : n - off;
        if (w->size && w->size + (long long)len > w->max_size)
            logw_rotate(w);
        logw_raw(w, data + off, len);
        off += len;
    }
}

void logw_close(struct logw *w) {
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

/* --selftest-encode: stdin holds records  op u8 (1 feed, 2 close) | stream u8 |
 * ns u64 BE | len u32 BE | data; stdout gets what the encoder produced. */
static int read_full(int fd, void *p, size_t n) {
    char *c = p;
    while (n) {
        ssize_t k = read(fd, c, n);
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

int selftest_encode(void) {
    struct encoder e = {0};
    struct buf out = {0};
    unsigned char h[14];
    while (read_full(0, h, sizeof h) == 0) {
        int64_t ns = 0;
        for (int i = 0; i < 8; i++)
            ns = (ns << 8) | h[2 + i];
        uint32_t len = ((uint32_t)h[10] << 24) | ((uint32_t)h[11] << 16) | ((uint32_t)h[12] << 8) | h[13];
        if (h[1] < 1 || h[1] > 2) /* enc.split[stream]: 1 or 2 */
            return 2;
        char *data = malloc(len ? len : 1);
        if (!data || (len && read_full(0, data, len) < 0))
            return 2;
        if (h[0] == 1)
            enc_feed(&e, &out, h[1], data, len, ns);
        else
            enc_close(&e, &out, h[1], ns);
        free(data);
    }
    write_all(1, out.p, out.len);
    return 0;
}

/* --selftest-rotate PATH MAX_SIZE MAX_FILE: stdin holds writes  len u32 BE | entries;
 * each is one LogWriter.write call. */
int selftest_rotate(char *path, long long max_size, int max_file) {
    struct logw w = {path, 1, max_size, 0, max_file > 1 ? max_file : 1, -1};
    if (logw_open(&w) < 0)
        return 2;
    unsigned char h[4];
    while (read_full(0, h, sizeof h) == 0) {
        uint32_t len = ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
        char *data = malloc(len ? len : 1);
        if (!data || (len && read_full(0, data, len) < 0))
            return 2;
        logw_write(&w, data, len);
        free(data);
    }
    logw_close(&w);
    return 0;
}
