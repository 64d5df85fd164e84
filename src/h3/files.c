/*
 * files.c: what a static file server answers for an HTTP request (quicc_h3_file_lookup):
 * the request target percent-decoded and confined to the root, index.html for directories,
 * the status (200, 206, 400, 403, 404, 405, 416, 500), the byte range, Content-Type from the
 * file name, Last-Modified. No I/O beyond stat, realpath and open.
 */
#include "quicc_h3.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
};

const char *quicc_h3_content_type(const char *name) {
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    if (dot && dot[1])
        for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
            if (!strcasecmp(dot + 1, content_types[i].ext)) return content_types[i].type;
    return "application/octet-stream";
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The path of target (before ? or #) percent-decoded into out; false for a bad escape, a
 * NUL, a segment "." or "..", or a path that does not fit. */
static bool decode_path(const char *target, char *out, size_t cap) {
    size_t n = strcspn(target, "?#"), o = 0;
    if (n == 0 || target[0] != '/') return false;
    for (size_t i = 0; i < n; i++) {
        char c = target[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(target[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(target[i + 2]) : -1;
            if (lo < 0) return false;
            c = (char)(hi * 16 + lo);
            if (c == 0) return false;
            i += 2;
        }
        if (o + 1 >= cap) return false;
        out[o++] = c;
    }
    out[o] = 0;
    /* No segment may climb or stay: "/a/../b", "/./a", "/..". */
    for (const char *p = out; (p = strchr(p, '/')) != NULL; p++) {
        const char *seg = p + 1;
        size_t len = strcspn(seg, "/");
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
    }
    return true;
}

/* "bytes=a-b", "bytes=a-", "bytes=-n" against size: 1 a satisfiable range (in *off, *len),
 * 0 none to apply (absent, malformed or several: the whole file), -1 unsatisfiable. */
static int parse_range(const char *range, uint64_t size, uint64_t *off, uint64_t *len) {
    if (!range || strncasecmp(range, "bytes=", 6) != 0) return 0;
    const char *p = range + 6;
    if (strchr(p, ',')) return 0; /* several ranges: served whole (RFC 9110 §14.2 allows it) */
    char *end;
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9') return 0;
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (*end) return 0;
        if (n == 0 || size == 0) return -1;
        *len = n < size ? n : size;
        *off = size - *len;
        return 1;
    }
    if (*p < '0' || *p > '9') return 0;
    unsigned long long a = strtoull(p, &end, 10), b = UINT64_MAX;
    if (*end != '-') return 0;
    if (end[1]) {
        if (end[1] < '0' || end[1] > '9') return 0;
        b = strtoull(end + 1, &end, 10);
        if (*end || b < a) return 0;
    }
    if (a >= size) return -1;
    if (b >= size) b = size - 1;
    *off = a;
    *len = b - a + 1;
    return 1;
}

/* Is path (resolved) inside root (resolved)? */
static bool inside(const char *root_real, const char *path) {
    char real[PATH_MAX];
    if (!realpath(path, real)) return false;
    size_t n = strlen(root_real);
    if (n == 1 && root_real[0] == '/') return true;
    return !strncmp(real, root_real, n) && (real[n] == '/' || real[n] == 0);
}

static void reply_error(quicc_file_reply *r, int status) {
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    r->status = status;
    r->offset = r->length = 0;
    r->content_type = "text/plain; charset=utf-8";
}

/* Opens the file or index.html of a directory; sets *st. 0, or the HTTP error status. */
static int open_target(const char *root, const char *path, unsigned flags, struct stat *st, int *fd,
                       char *full, size_t cap) {
    int w = snprintf(full, cap, "%s%s", root, path);
    if (w < 0 || (size_t)w >= cap) return 400;
    if (stat(full, st) == 0 && S_ISDIR(st->st_mode)) {
        size_t len = strlen(full);
        if (len + 12 >= cap) return 400;
        strcpy(full + len, full[len - 1] == '/' ? "index.html" : "/index.html");
    }
    if (!(flags & QUICC_H3_FILE_FOLLOW_SYMLINKS)) {
        char root_real[PATH_MAX];
        struct stat tmp;
        if (!realpath(root, root_real)) return 500;
        if (stat(full, &tmp) == 0 && !inside(root_real, full)) return 403;
    }
    *fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0) return errno == EACCES ? 403 : errno == ENOENT || errno == ENOTDIR ? 404 : 500;
    if (fstat(*fd, st) != 0) return 500;
    if (!S_ISREG(st->st_mode)) return 404;
    return 0;
}

int quicc_h3_file_lookup(const char *root, const char *method, const char *target,
                         const char *range, unsigned flags, quicc_file_reply *r) {
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    if (!root || !method || !target) {
        reply_error(r, 500);
        return 0;
    }
    r->head = !strcmp(method, "HEAD");
    if (!r->head && strcmp(method, "GET") != 0) {
        reply_error(r, 405);
        return 1;
    }
    char path[4096], full[PATH_MAX + 16];
    if (!decode_path(target, path, sizeof(path))) {
        reply_error(r, 400);
        return 1;
    }
    struct stat st;
    int fd = -1;
    int err = open_target(root, path, flags, &st, &fd, full, sizeof(full));
    r->fd = fd;
    if (err) {
        reply_error(r, err);
        return 1;
    }
    r->size = (uint64_t)st.st_size;
    r->content_type = quicc_h3_content_type(full);
    struct tm tm;
    time_t mt = st.st_mtime;
    if (gmtime_r(&mt, &tm))
        strftime(r->last_modified, sizeof(r->last_modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    uint64_t off = 0, len = r->size;
    int rr = parse_range(range, r->size, &off, &len);
    if (rr < 0) {
        reply_error(r, 416);
        snprintf(r->content_range, sizeof(r->content_range), "bytes */%llu",
                 (unsigned long long)st.st_size);
        return 1;
    }
    r->status = rr > 0 ? 206 : 200;
    r->offset = off;
    r->length = len;
    if (rr > 0)
        snprintf(r->content_range, sizeof(r->content_range), "bytes %llu-%llu/%llu",
                 (unsigned long long)off, (unsigned long long)(off + len - 1),
                 (unsigned long long)r->size);
    return 1;
}

const char *quicc_h3_status_text(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 206:
        return "Partial Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 416:
        return "Range Not Satisfiable";
    default:
        return "Internal Server Error";
    }
}
