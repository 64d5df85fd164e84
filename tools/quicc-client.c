/*
 * quicc-client: fetch URLs over QUIC with HTTP/3 (nghttp3), hq-interop
 * (HTTP/0.9) or the OpenSSL guides' HTTP/1.0 demo protocol. URLs with the
 * same host and port share one connection and run in parallel up to the
 * server's stream limit. See quicc-client(1).
 */
#include <quicc_h3.h>
#include <quicc.h>
#include "names.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

enum proto { P_H3, P_HQ, P_HTTP10 };

/* Exit statuses, curl's where curl has one (quicc-client(1), EXIT STATUS). */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1, /* anything else: an unsupported scheme, a library failure */
    EXIT_USAGE = 2,
    EXIT_URL = 3,        /* a malformed URL */
    EXIT_RESOLVE = 6,    /* the host name does not resolve */
    EXIT_CONNECT = 7,    /* refused, or the host or network unreachable */
    EXIT_HTTP = 22,      /* with --fail: an HTTP status of 400 or above */
    EXIT_WRITE = 23,     /* an output file or standard output cannot be written */
    EXIT_TIMEOUT = 28,   /* --connect-timeout, --max-time, or the idle timeout */
    EXIT_HANDSHAKE = 35, /* the QUIC or TLS handshake failed (no common ALPN, a version...) */
    EXIT_RECV = 56,      /* the connection or the stream failed during the transfer */
    EXIT_CERT = 60,      /* the server certificate did not verify */
    EXIT_TESTCASE = 127, /* an interop test case this client does not support */
};

/* out_spec of -O: the URL's last path segment. */
static const char REMOTE_NAME[] = "<remote name>";

typedef struct request {
    const char *url;
    char host[256], port[16], path[2048], authority[300];
    int group;
    int state; /* 0 queued, 1 running, 2 done */
    bool ok;
    int code; /* the exit status its failure calls for (curl's numbers, see EXIT_*) */
    char err[300];
    const char *out_spec; /* -o FILE ("-": stdout), REMOTE_NAME for -O, NULL: stdout */
    FILE *out;            /* the file, standard output itself, or a temporary file (see emit) */
    char *out_path;       /* the file the body goes to; NULL: standard output */
    char *out_canon;      /* out_path with its directory resolved (same_file) */
    bool out_exists;      /* and the file's identity, when it exists */
    dev_t out_dev;
    ino_t out_ino;
    bool emitted; /* standard output: its body is out (or it failed); the next one may go */
    uint64_t bytes;
    int status;
    /* hq-interop / http/1.0 */
    quicc *stream;
    char hdr[8192];
    size_t hdrlen;
    bool in_body;
    bool headers_open; /* -i/-I: header lines written, the blank line not yet */
} request;

/* How URLs are spread over connections. */
enum conn_plan {
    PLAN_BY_SERVER, /* one connection per host and port (default) */
    PLAN_EACH_URL,  /* one connection per URL, one after another (multiconnect) */
    PLAN_RESUME,    /* the first URL on one connection, the rest on a resumed one */
};

static struct {
    enum proto proto;
    const char *outdir, *cacert, *keylog, *ciphers, *session_file, *versions, *qlog_dir;
    bool insecure, verbose, quiet, key_update, early_data;
    bool fail_http, create_dirs, remote_name_all;
    const char *method;          /* -X (default GET; -I: HEAD) */
    bool include_headers, head;  /* -i, -I: the response headers go to the output */
    quicc_h3_header headers[32]; /* -H, names in lower case */
    char *header_lines[32];      /* -H as given, for HTTP/1.0 */
    size_t nheaders;
    double connect_timeout, max_time; /* seconds; 0: none */
    size_t max_concurrent;
    enum conn_plan plan;
    bool alpn_given; /* --alpn: kept even with a test case */
} opt = {.proto = P_H3};

static request *reqs;
static size_t nreqs;

static void usage(FILE *f) {
    fprintf(f, "usage: quicc-client [options] [-o FILE | -O] URL...\n"
               "Fetch https://HOST:PORT/PATH URLs over QUIC.\n"
               "\n"
               "  --alpn PROTO          h3 (default), hq-interop or http/1.0\n"
               "  -o, --output FILE     write the next URL's body to FILE (- for stdout)\n"
               "  -O, --remote-name     write the next URL's body to its last path segment\n"
               "  --remote-name-all     -O for every URL without -o\n"
               "  --output-dir DIR      where -O files go (and relative -o files); alone, every\n"
               "                        URL goes to DIR/<last path segment>\n"
               "  --create-dirs         create the directories -o and --output-dir name\n"
               "  -f, --fail            an HTTP status of 400 or more fails (exit 22)\n"
               "  -X, --request METHOD  the request method (h3, http/1.0; default GET)\n"
               "  -H, --header 'N: V'   send this request header too (h3, http/1.0)\n"
               "  -i, --include         write the response headers before the body\n"
               "  -I, --head            HEAD: write the response headers only\n"
               "  --connect-timeout S   give up a connection attempt after S seconds\n"
               "  -m, --max-time S      give up everything after S seconds\n"
               "  --cacert FILE         trust the CA certificates in FILE (PEM)\n"
               "  -k, --insecure        do not verify the server certificate\n"
               "  --keylog FILE         append TLS secrets to FILE (also SSLKEYLOGFILE)\n"
               "  --qlog-dir DIR        write a qlog file per connection into DIR (also\n"
               "                        QLOGDIR)\n"
               "  --max-concurrent N    at most N requests at once per connection\n"
               "  --ciphers LIST        TLS 1.3 suites to offer, in order, separated by ':'\n"
               "                        (e.g. TLS_CHACHA20_POLY1305_SHA256)\n"
               "  --each-url            one connection per URL, one after another\n"
               "  --resume              first URL on one connection, the rest on a second\n"
               "                        connection that resumes the first one's session\n"
               "  --session-file FILE   resume the session kept in FILE, and keep the newest\n"
               "                        session there\n"
               "  --key-update          update the keys as soon as the handshake is confirmed\n"
               "  --early-data          send the requests in 0-RTT when a session is resumed\n"
               "  --quic-versions LIST  QUIC versions, comma-separated: the first Initial goes\n"
               "                        in the first, the server may move the connection to\n"
               "                        any (v1, v2, v2draft; default v1)\n"
               "  --testcase NAME       behave as the QUIC Interop Runner's test case NAME asks\n"
               "                        (also TESTCASE; see quicc-client(1))\n"
               "  -v                    report progress on stderr\n"
               "  -q                    print nothing but errors\n"
               "  --help                show this help\n"
               "  --version             show the versions of quicc, GnuTLS and nghttp3\n"
               "\n"
               "Bodies without -o or -O go to standard output, in URL order. Two URLs that\n"
               "would write one file are refused. Without URLs, the space-separated list in\n"
               "REQUESTS is fetched; DOWNLOADS is --output-dir when that is not given.\n"
               "\n"
               "Exit status (curl's numbers): 0 every body arrived complete, 1 not https://,\n"
               "2 usage, 3 malformed URL, 6 cannot resolve, 7 cannot connect (refused,\n"
               "unreachable), 22 HTTP status >= 400 with --fail, 23 write error, 28 timeout,\n"
               "35 handshake failed, 56 transfer failed, 60 certificate not verified, 77 CA\n"
               "file unreadable, 127 unsupported test case; with several URLs, the first\n"
               "failed one's.\n");
}

static void vlog(const char *fmt, ...) {
    if (!opt.verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "quicc-client: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* https://host:port/path (the scheme and host in any case), host may be [v6]. Returns 0, -1
 * for a malformed URL, -2 for another scheme. */
static int parse_url(request *r, const char *url) {
    r->url = url;
    if (strncasecmp(url, "https://", 8) != 0) return strstr(url, "://") ? -2 : -1;
    const char *p = url + 8, *hend, *after;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend) return -1;
        if ((size_t)(hend - p - 1) >= sizeof(r->host)) return -1;
        memcpy(r->host, p + 1, (size_t)(hend - p - 1));
        r->host[hend - p - 1] = 0;
        after = hend + 1;
    } else {
        hend = p + strcspn(p, ":/");
        if (hend == p || (size_t)(hend - p) >= sizeof(r->host)) return -1;
        memcpy(r->host, p, (size_t)(hend - p));
        r->host[hend - p] = 0;
        after = hend;
    }
    if (*after == ':') {
        const char *ps = after + 1;
        size_t n = strspn(ps, "0123456789");
        if (n == 0 || n >= sizeof(r->port) || atoi(ps) <= 0 || atoi(ps) > 65535) return -1;
        memcpy(r->port, ps, n);
        r->port[n] = 0;
        after = ps + n;
    } else {
        strcpy(r->port, "443");
    }
    if (*after == 0) after = "/";
    if (*after != '/' || strlen(after) >= sizeof(r->path)) return -1;
    strcpy(r->path, after);
    for (char *h = r->host; *h; h++)
        if (*h >= 'A' && *h <= 'Z') *h = (char)(*h - 'A' + 'a');
    if (strchr(r->host, ':'))
        snprintf(r->authority, sizeof(r->authority), "[%s]:%s", r->host, r->port);
    else
        snprintf(r->authority, sizeof(r->authority), "%s:%s", r->host, r->port);
    return 0;
}

/* The last path segment of r's URL (before any query), or index.html when it is empty. */
static void remote_name(const request *r, char *out, size_t cap) {
    const char *name = strrchr(r->path, '/');
    name = name ? name + 1 : r->path;
    size_t n = strcspn(name, "?#");
    if (n == 0 || n >= cap)
        snprintf(out, cap, "index.html");
    else
        snprintf(out, cap, "%.*s", (int)n, name);
}

/* mkdir -p of the directories above path (--create-dirs). */
static int make_parents(const char *path) {
    char *d = strdup(path);
    if (!d) return -1;
    for (char *p = d + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(d, 0755) != 0 && errno != EEXIST) {
            free(d);
            return -1;
        }
        *p = '/';
    }
    free(d);
    return 0;
}

/* Where r's body goes (r->out_path, NULL for standard output), from -o, -O, --output-dir,
 * --remote-name-all. Returns 0, or -1 when a path does not fit. */
static int plan_output(request *r) {
    const char *spec = r->out_spec;
    if (!spec && (opt.remote_name_all || opt.outdir)) spec = REMOTE_NAME;
    if (!spec || !strcmp(spec, "-")) return 0;
    char name[256];
    if (spec == REMOTE_NAME) {
        remote_name(r, name, sizeof(name));
        spec = name;
    }
    size_t len = (opt.outdir ? strlen(opt.outdir) + 1 : 0) + strlen(spec) + 1;
    r->out_path = malloc(len);
    if (!r->out_path) return -1;
    if (opt.outdir && spec[0] != '/')
        snprintf(r->out_path, len, "%s/%s", opt.outdir, spec);
    else
        snprintf(r->out_path, len, "%s", spec);
    return 0;
}

/* path with its directory resolved (realpath) when that exists: "./x" and "/cwd/x" meet. */
static void canon_path(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    char dir[4096], real[PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path) snprintf(dir, sizeof(dir), "/");
    if (realpath(dir, real))
        snprintf(out, cap, "%s/%s", real, slash ? slash + 1 : path);
    else
        snprintf(out, cap, "%s", path);
}

/* The same file for two URLs would mix their bytes: refused before any traffic. r's output
 * path is resolved once (out_canon, and the file's identity when it exists) and then
 * compared with the others'. */
static int note_output_identity(request *r) {
    char canon[8192];
    canon_path(r->out_path, canon, sizeof(canon));
    r->out_canon = strdup(canon);
    struct stat st;
    r->out_exists = stat(r->out_path, &st) == 0;
    r->out_dev = r->out_exists ? st.st_dev : 0;
    r->out_ino = r->out_exists ? st.st_ino : 0;
    return r->out_canon ? 0 : -1;
}

static bool same_file(const request *a, const request *b) {
    return !strcmp(a->out_canon, b->out_canon) ||
           (a->out_exists && b->out_exists && a->out_dev == b->out_dev &&
            a->out_ino == b->out_ino); /* links */
}

/* Open outputs (files and temporary files), and how many may be: the descriptor limit less
 * a margin for the sockets, so that thousands of URLs never run out of descriptors. */
static size_t open_files, file_limit = 64;
static size_t emit_next; /* the first URL whose standard-output body is not out yet */

static void set_file_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        file_limit = rl.rlim_cur > 96 ? (size_t)rl.rlim_cur - 64 : 32;
    else
        file_limit = 4096;
}

/* Bodies for standard output stream there when their URL is the next in order (without
 * --fail, which must see the status first); the others wait in a temporary file. */
static int open_output(request *r) {
    if (!r->out_path) {
        if (!opt.fail_http && (size_t)(r - reqs) == emit_next) {
            r->out = stdout;
            return 0;
        }
        r->out = tmpfile();
    } else {
        if (opt.create_dirs && make_parents(r->out_path) != 0) return -1;
        r->out = fopen(r->out_path, "wb");
    }
    if (r->out) open_files++;
    return r->out ? 0 : -1;
}

static void close_output(request *r) {
    if (!r->out || r->out == stdout) {
        r->out = NULL;
        return;
    }
    if (fclose(r->out) != 0 && r->ok) {
        r->ok = false;
        r->code = EXIT_WRITE;
        snprintf(r->err, sizeof(r->err), "write error on %s: %s",
                 r->out_path ? r->out_path : "a temporary file", strerror(errno));
    }
    r->out = NULL;
    open_files--;
}

/* A request ends: its output file closes at once (its descriptor goes back for others). */
static void req_finish(request *r, bool ok) {
    r->ok = ok;
    r->state = 2;
    if (r->out_path) close_output(r);
}

static void req_fail(request *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void req_fail(request *r, int code, const char *fmt, ...) {
    if (r->state == 2) return;
    r->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    req_finish(r, false);
}

/* Copies r's temporary file to standard output. */
static void copy_to_stdout(request *r) {
    static uint8_t cbuf[65536];
    rewind(r->out);
    size_t n;
    while ((n = fread(cbuf, 1, sizeof(cbuf), r->out)) > 0)
        if (fwrite(cbuf, 1, n, stdout) != n) break;
    if (ferror(r->out) || ferror(stdout)) {
        r->ok = false;
        r->state = 2;
        r->code = EXIT_WRITE;
        snprintf(r->err, sizeof(r->err), "write error on standard output: %s", strerror(errno));
    }
}

/*
 * After each turn: standard output gets, in URL order, every finished body at the head,
 * then the running one at the head switches from its
 * temporary file to standard output.
 */
static void settle_outputs(void) {
    while (emit_next < nreqs) {
        request *r = &reqs[emit_next];
        if (r->out_path || r->emitted) {
            emit_next++;
            continue;
        }
        if (r->state == 0) break; /* it streams to standard output once it starts */
        if (r->out && r->out != stdout && (r->state == 2 ? r->ok : !opt.fail_http)) {
            copy_to_stdout(r);
            close_output(r);
            if (r->state == 1) r->out = stdout; /* the rest goes straight there */
        }
        if (r->state != 2) break;
        close_output(r);
        r->emitted = true;
        emit_next++;
    }
    if (fflush(stdout) != 0)
        for (size_t i = 0; i < nreqs; i++)
            if (!reqs[i].out_path && reqs[i].ok) {
                reqs[i].ok = false;
                reqs[i].code = EXIT_WRITE;
                snprintf(reqs[i].err, sizeof(reqs[i].err), "write error on standard output: %s",
                         strerror(errno));
                break;
            }
}

static int body(request *r, const uint8_t *data, size_t len) {
    if (len && fwrite(data, 1, len, r->out) != len) {
        req_fail(r, EXIT_WRITE, "write error on %s: %s",
                 r->out_path        ? r->out_path
                 : r->out == stdout ? "standard output"
                                    : "a temporary file",
                 strerror(errno));
        return -1;
    }
    r->bytes += len;
    return 0;
}

/* A response with this status ended complete: a failure only with --fail (as curl's). */
static void response_done(request *r, int status) {
    r->status = status;
    if (opt.fail_http && status >= 400) {
        req_fail(r, EXIT_HTTP, "HTTP status %d", status);
        return;
    }
    req_finish(r, true);
}

/* ---- HTTP/3 ---- */

/* -i / -I: the end of the header block, before the first body byte or at the end. */
static void headers_end(request *r) {
    if (!r->headers_open) return;
    r->headers_open = false;
    body(r, (const uint8_t *)"\r\n", 2);
}

static void h3_on_header(void *user, const char *name, size_t nlen, const char *value,
                         size_t vlen) {
    request *r = user;
    if (!opt.include_headers && !opt.head) return;
    char line[8300];
    int n = nlen == 7 && !memcmp(name, ":status", 7)
                ? snprintf(line, sizeof(line), "HTTP/3 %.*s\r\n", (int)vlen, value)
                : snprintf(line, sizeof(line), "%.*s: %.*s\r\n", (int)(nlen > 4096 ? 4096 : nlen),
                           name, (int)(vlen > 4096 ? 4096 : vlen), value);
    if (n > 0)
        body(r, (const uint8_t *)line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    r->headers_open = true;
}

static int h3_on_body(void *user, const uint8_t *data, size_t len) {
    request *r = user;
    headers_end(r);
    return body(r, data, len);
}

static void h3_on_done(void *user, int status, int64_t error) {
    request *r = user;
    headers_end(r);
    r->status = status;
    if (error < 0)
        req_fail(r, EXIT_RECV, "stream closed before the response completed");
    else if (error)
        req_fail(r, EXIT_RECV, "stream reset by server (error 0x%llx)", (unsigned long long)error);
    else
        response_done(r, status);
}

/* ---- hq-interop and http/1.0 ---- */

static int raw_start(quicc *conn, request *r) {
    r->stream = quicc_new_stream(conn, QUICC_STREAM_FLAG_NO_BLOCK);
    if (!r->stream) {
        unsigned long e = quicc_err_get();
        return e == QUICC_R_STREAM_COUNT_LIMITED ? 1 : -1;
    }
    char req[8192], extra[4096] = "";
    size_t el = 0;
    for (size_t i = 0; i < opt.nheaders && el < sizeof(extra); i++)
        el += (size_t)snprintf(extra + el, sizeof(extra) - el, "%s\r\n", opt.header_lines[i]);
    int n = opt.proto == P_HQ
                ? snprintf(req, sizeof(req), "GET %s\r\n", r->path)
                : snprintf(req, sizeof(req),
                           "%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n%s\r\n",
                           opt.method ? opt.method : "GET", r->path, r->host, extra);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        req_fail(r, EXIT_FAILED, "request too long");
        return -1;
    }
    size_t w;
    if (!quicc_write_ex2(r->stream, req, (size_t)n, QUICC_WRITE_FLAG_CONCLUDE, &w)) {
        /* The request is tiny: a nonblocking write only fails on a dead stream. */
        req_fail(r, EXIT_RECV, "cannot send request");
        return -1;
    }
    r->in_body = opt.proto == P_HQ;
    return 0;
}

static void raw_data(request *r, const uint8_t *data, size_t len) {
    if (r->in_body) {
        body(r, data, len);
        return;
    }
    size_t take = len < sizeof(r->hdr) - r->hdrlen ? len : sizeof(r->hdr) - r->hdrlen;
    memcpy(r->hdr + r->hdrlen, data, take);
    r->hdrlen += take;
    char *end = memmem(r->hdr, r->hdrlen, "\r\n\r\n", 4);
    if (!end) {
        if (r->hdrlen == sizeof(r->hdr)) req_fail(r, EXIT_RECV, "response headers too long");
        return;
    }
    int major, minor, status;
    if (sscanf(r->hdr, "HTTP/%d.%d %d", &major, &minor, &status) != 3) {
        req_fail(r, EXIT_RECV, "malformed HTTP/1.0 status line");
        return;
    }
    r->status = status;
    r->in_body = true;
    size_t hdr_end = (size_t)(end + 4 - r->hdr);
    if (opt.include_headers || opt.head) body(r, (const uint8_t *)r->hdr, hdr_end);
    body(r, (const uint8_t *)r->hdr + hdr_end, r->hdrlen - hdr_end);
    if (take < len) body(r, data + take, len - take);
}

static bool raw_pump(request *r, uint8_t *buf, size_t cap) {
    bool progress = false;
    for (int rounds = 0; rounds < 64 && r->state == 1; rounds++) {
        size_t n;
        if (quicc_read_ex(r->stream, buf, cap, &n)) {
            raw_data(r, buf, n);
            progress = true;
            continue;
        }
        int e = quicc_get_error(r->stream, 0);
        if (e == QUICC_ERROR_WANT_READ) break;
        progress = true;
        if (e == QUICC_ERROR_ZERO_RETURN) {
            if (!r->in_body)
                req_fail(r, EXIT_RECV, "response ended inside the headers");
            else
                response_done(r, opt.proto == P_HTTP10 ? r->status : 200);
        } else {
            uint64_t code = 0;
            if (quicc_get_stream_read_error_code(r->stream, &code) == 1)
                req_fail(r, EXIT_RECV, "stream reset by server (error 0x%llx)",
                         (unsigned long long)code);
            else
                req_fail(r, EXIT_RECV, "stream failed: %s",
                         quicc_err_reason_string(quicc_err_peek()));
            quicc_err_clear();
        }
    }
    if (r->state == 2) {
        quicc_free(r->stream);
        r->stream = NULL;
    }
    return progress;
}

/* ---- one connection ---- */

/*
 * Why conn failed, in buf, and the exit status that calls for. err is errno right after the
 * failing call (SYSCALL failures tell their cause there, as with OpenSSL).
 */
static int conn_failure(quicc *conn, int err, char *buf, size_t len) {
    unsigned long e = quicc_err_get();
    quicc_conn_close_info ci;
    bool closed = conn && quicc_get_conn_close_info(conn, &ci) == 1;
    if (closed && !(ci.flags & QUICC_CONN_CLOSE_FLAG_LOCAL) && ci.error_code == 0x178 &&
        (ci.flags & QUICC_CONN_CLOSE_FLAG_TRANSPORT)) {
        /* CRYPTO_ERROR with TLS alert 120 */
        snprintf(buf, len, "the server speaks none of the offered protocols (ALPN %s)",
                 opt.proto == P_H3   ? "h3"
                 : opt.proto == P_HQ ? "hq-interop"
                                     : "http/1.0");
        quicc_err_clear();
        return EXIT_HANDSHAKE;
    }
    if (e) {
        snprintf(buf, len, "%s", quicc_err_detail());
        quicc_err_clear();
        switch (e) {
        case QUICC_R_NETWORK_ERROR:
            return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ? EXIT_CONNECT
                                                                                    : EXIT_RECV;
        case QUICC_R_IDLE_TIMEOUT:
            return EXIT_TIMEOUT;
        case QUICC_R_VERIFY_FAILED:
            return EXIT_CERT;
        case QUICC_R_HANDSHAKE_FAILED:
            return EXIT_HANDSHAKE;
        case QUICC_R_PROTOCOL_IS_SHUTDOWN:
            break; /* the close information below says more */
        default:
            return EXIT_FAILED;
        }
    }
    if (closed) {
        bool idle = ci.reason_len == 12 && !memcmp(ci.reason, "idle timeout", 12);
        if (idle) {
            snprintf(buf, len, "idle timeout: the server went silent");
            return EXIT_TIMEOUT;
        }
        snprintf(buf, len, "connection closed by %s (error 0x%llx%s%.*s)",
                 (ci.flags & QUICC_CONN_CLOSE_FLAG_LOCAL) ? "us" : "server",
                 (unsigned long long)ci.error_code, ci.reason_len ? ": " : "", (int)ci.reason_len,
                 ci.reason);
        return EXIT_RECV;
    }
    if (!e) snprintf(buf, len, "connection failed");
    return EXIT_RECV;
}

/* Seconds since t0. */
static double since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static struct timespec run_start; /* for --max-time */

/* Milliseconds until the nearest of --max-time and (when connecting) --connect-timeout, at
 * most cap; -1 when one has passed (*which: the option's name). */
static int deadline_ms(const struct timespec *conn_start, bool connecting, int cap,
                       const char **which) {
    double left = 1e9;
    if (opt.max_time > 0 && opt.max_time - since(&run_start) < left) {
        left = opt.max_time - since(&run_start);
        *which = "--max-time";
    }
    if (connecting && opt.connect_timeout > 0 && opt.connect_timeout - since(conn_start) < left) {
        left = opt.connect_timeout - since(conn_start);
        *which = "--connect-timeout";
    }
    if (left <= 0) return -1;
    return left * 1000 < cap ? (int)(left * 1000) + 1 : cap;
}

/*
 * The QUIC Interop Runner's test cases (its client contract: TESTCASE, REQUESTS, DOWNLOADS;
 * docs/interop.md). Every case but http3 uses hq-interop. Returns false for a case this client
 * does not support: the runner then expects exit status 127.
 */
static bool apply_testcase(const char *name) {
    static const char *plain[] = {"handshake", "transfer",     "longrtt",
                                  "blackhole", "transferloss", "transfercorruption",
                                  "goodput",   "crosstraffic", "amplificationlimit",
                                  "ipv6",      "retry",        "multiplexing",
                                  "ecn",       "rebind-port",  "rebind-addr"};
    if (!opt.alpn_given) opt.proto = P_HQ;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (!strcmp(name, plain[i])) return true;
    if (!strcmp(name, "http3")) {
        if (!opt.alpn_given) opt.proto = P_H3;
    } else if (!strcmp(name, "handshakeloss") || !strcmp(name, "handshakecorruption") ||
               !strcmp(name, "multiconnect")) {
        opt.plan = PLAN_EACH_URL;
    } else if (!strcmp(name, "resumption")) {
        opt.plan = PLAN_RESUME;
    } else if (!strcmp(name, "zerortt")) {
        opt.plan = PLAN_RESUME; /* the second connection's requests go in 0-RTT */
        opt.early_data = true;
    } else if (!strcmp(name, "chacha20")) {
        opt.ciphers = "TLS_CHACHA20_POLY1305_SHA256";
    } else if (!strcmp(name, "keyupdate")) {
        opt.key_update = true;
    } else if (!strcmp(name, "v2")) {
        if (!opt.versions) opt.versions = "v1,v2"; /* start in v1, offer v2: the server upgrades */
    } else {
        return false; /* connectionmigration... */
    }
    return true;
}

/* The session kept in opt.session_file, offered on conn (a missing file is no error). */
static void session_load(quicc *conn) {
    FILE *f = opt.session_file ? fopen(opt.session_file, "rb") : NULL;
    if (!f) return;
    static unsigned char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (n == 0 || n == sizeof(buf) || !quicc_set_session(conn, buf, n))
        fprintf(stderr, "quicc-client: ignoring the session in %s\n", opt.session_file);
}

/* Keeps conn's newest session in opt.session_file. */
static void session_save(quicc *conn) {
    static unsigned char buf[16384];
    size_t n = sizeof(buf);
    if (!opt.session_file || !quicc_get_session(conn, buf, &n)) return;
    FILE *f = fopen(opt.session_file, "wb");
    if (!f || fwrite(buf, 1, n, f) != n)
        fprintf(stderr, "quicc-client: cannot write %s\n", opt.session_file);
    if (f) fclose(f);
}

/* With --resume, the first connection waits (up to a second) for a ticket to resume. */
static void wait_for_ticket(quicc *conn) {
    size_t n = 0;
    for (int i = 0; i < 100; i++) {
        n = 0;
        quicc_get_session(conn, NULL, &n);
        if (n > 0) break;
        quicc_handle_events(conn);
        struct pollfd p = {.fd = quicc_get_fd(conn), .events = POLLIN};
        poll(&p, 1, 10);
    }
    quicc_err_clear();
}

/* Starts the group's queued requests while the server's stream limit allows; false when the
 * limit stopped it. */
static bool start_requests(quicc *conn, quicc_h3 *h3, int g, size_t *running) {
    for (size_t i = 0; i < nreqs; i++) {
        request *r = &reqs[i];
        if (r->group != g || r->state != 0) continue;
        if (opt.max_concurrent && *running >= opt.max_concurrent) break;
        if (open_files >= file_limit) break; /* until finished ones close theirs */
        if (open_output(r) != 0) {
            req_fail(r, EXIT_WRITE, "cannot open %s: %s",
                     r->out_path ? r->out_path : "a temporary file", strerror(errno));
            continue;
        }
        int rv;
        if (h3) {
            quicc_h3_request_cbs cbs = {
                .user = r, .on_body = h3_on_body, .on_done = h3_on_done, .on_header = h3_on_header};
            rv = quicc_h3_submit_request(h3, opt.method ? opt.method : "GET", r->authority, r->path,
                                         opt.headers, opt.nheaders, &cbs);
        } else {
            rv = raw_start(conn, r);
        }
        if (rv == 1) {
            close_output(r);
            return false;
        }
        if (rv < 0) {
            req_fail(r, EXIT_FAILED, "cannot start request");
            continue;
        }
        r->state = 1;
        (*running)++;
        vlog("GET %s", r->url);
    }
    return true;
}

/*
 * quicc_connect on a nonblocking connection, waiting on its descriptor in between. Returns 1,
 * 0 on failure (*err: errno after it), or -1 when --connect-timeout or --max-time passed
 * (*which names it).
 */
static int connect_wait(quicc *conn, int *err, const char **which) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int r = quicc_connect(conn);
        *err = errno;
        if (r == 1) return 1;
        if (quicc_get_error(conn, r) != QUICC_ERROR_WANT_READ) return 0;
        struct timeval tv;
        int inf = 0;
        quicc_get_event_timeout(conn, &tv, &inf);
        int ms = inf ? 1000 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
        int dl = deadline_ms(&t0, true, ms, which);
        if (dl < 0) return -1;
        struct pollfd p = {.fd = quicc_get_fd(conn), .events = POLLIN};
        poll(&p, 1, dl < ms ? dl : ms);
    }
}

static void run_group(quicc_ctx *ctx, int g) {
    quicc_h3 *h3 = NULL;
    request *first = NULL;
    for (size_t i = 0; i < nreqs; i++)
        if (reqs[i].group == g) {
            first = &reqs[i];
            break;
        }
    char why[300];
    int code = EXIT_FAILED;
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_family = AF_UNSPEC}, *ai = NULL;
    int gai = getaddrinfo(first->host, first->port, &hints, &ai);
    quicc *conn = NULL;
    if (gai != 0) {
        snprintf(why, sizeof(why), "cannot resolve %s: %s", first->host, gai_strerror(gai));
        code = EXIT_RESOLVE;
        goto fail_all;
    }
    conn = quicc_new(ctx);
    static const unsigned char alpn_h3[] = "\x02h3", alpn_hq[] = "\x0ahq-interop",
                               alpn_10[] = "\x08http/1.0";
    const unsigned char *alpn = opt.proto == P_H3 ? alpn_h3 : opt.proto == P_HQ ? alpn_hq : alpn_10;
    if (!conn || !quicc_set1_initial_peer_addr(conn, ai->ai_addr, ai->ai_addrlen) ||
        !quicc_set_tlsext_host_name(conn, first->host) || !quicc_set1_host(conn, first->host) ||
        quicc_set_alpn_protos(conn, alpn, (unsigned)strlen((const char *)alpn)) != 0 ||
        !quicc_set_default_stream_mode(conn, QUICC_DEFAULT_STREAM_MODE_NONE) ||
        !quicc_set_incoming_stream_policy(conn, QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0)) {
        code = conn_failure(conn, errno, why, sizeof(why));
        goto fail_all;
    }
    freeaddrinfo(ai);
    ai = NULL;
    if (g == 0) session_load(conn);
    size_t running = 0;
    /* A resumed session may carry the requests in 0-RTT (with HTTP/3 its control streams
     * too, under the default settings); without one, they wait for the handshake. */
    size_t w;
    bool early = false;
    /* Nonblocking from the start: the streams made now must not block later, and the
     * handshake waits with the timeouts in view. */
    quicc_set_blocking_mode(conn, 0);
    if (opt.early_data) early = quicc_write_early_data(conn, NULL, 0, &w) == 1;
    if (early) {
        vlog("sending the requests in 0-RTT");
        if (opt.proto == P_H3 && !(h3 = quicc_h3_client_new(conn))) {
            snprintf(why, sizeof(why), "cannot start HTTP/3");
            goto fail_all;
        }
        start_requests(conn, h3, g, &running);
        if (h3) quicc_h3_pump(h3); /* HTTP/3 writes the requests when pumped */
    }
    quicc_err_clear();
    vlog("connecting to %s:%s", first->host, first->port);
    int err = 0;
    const char *which = "";
    int cr = connect_wait(conn, &err, &which);
    if (cr < 0) {
        snprintf(why, sizeof(why), "%s: no connection to %.200s:%s after %.1f s", which,
                 first->host, first->port, since(&run_start));
        code = EXIT_TIMEOUT;
        goto fail_all;
    }
    if (cr != 1) {
        code = conn_failure(conn, err, why, sizeof(why));
        goto fail_all;
    }
    vlog("connected (QUIC %s, %s, %s%s)", tool_version_name(quicc_get_quic_version(conn)),
         quicc_get_current_cipher_name(conn),
         quicc_session_reused(conn) ? "session resumed" : "full handshake",
         quicc_get_early_data_status(conn) == QUICC_EARLY_DATA_ACCEPTED   ? ", 0-RTT accepted"
         : quicc_get_early_data_status(conn) == QUICC_EARLY_DATA_REJECTED ? ", 0-RTT rejected"
                                                                          : "");
    bool key_update = opt.key_update;
    quicc_set_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                         QUICC_EVENT_HANDLING_MODE_EXPLICIT);
    if (opt.proto == P_H3 && !h3 && !(h3 = quicc_h3_client_new(conn))) {
        snprintf(why, sizeof(why), "cannot start HTTP/3");
        goto fail_all;
    }
    static uint8_t buf[65536];
    for (;;) {
        settle_outputs();
        start_requests(conn, h3, g, &running);
        quicc_handle_events(conn);
        /* The keys can be updated once the handshake is confirmed (RFC 9001 §6.1). */
        if (key_update && quicc_key_update(conn, QUICC_KEY_UPDATE_NOT_REQUESTED) == 1) {
            key_update = false;
            vlog("key update started");
        }
        quicc_err_clear();
        bool progress = false;
        if (h3) {
            int rv = quicc_h3_pump(h3);
            if (rv < 0) {
                snprintf(why, sizeof(why), "%s", quicc_h3_error(h3));
                code = EXIT_RECV;
                quicc_h3_free(h3);
                h3 = NULL;
                goto fail_all;
            }
            progress = rv > 0;
        } else {
            for (size_t i = 0; i < nreqs; i++)
                if (reqs[i].group == g && reqs[i].state == 1)
                    progress |= raw_pump(&reqs[i], buf, sizeof(buf));
        }
        size_t left = 0;
        running = 0;
        for (size_t i = 0; i < nreqs; i++) {
            if (reqs[i].group != g) continue;
            if (reqs[i].state != 2) left++;
            if (reqs[i].state == 1) running++;
        }
        if (left == 0) break;
        if (quicc_get_stream_write_state(conn) == QUICC_STREAM_STATE_CONN_CLOSED ||
            !quicc_net_read_desired(conn)) {
            code = conn_failure(conn, errno, why, sizeof(why));
            quicc_h3_free(h3);
            h3 = NULL;
            goto fail_all;
        }
        struct timeval tv;
        int inf = 0;
        quicc_get_event_timeout(conn, &tv, &inf);
        int ms = inf ? 1000 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
        if (ms > 1000) ms = 1000;
        int dl = deadline_ms(&run_start, false, ms, &which);
        if (dl < 0) {
            snprintf(why, sizeof(why), "%s: the transfer took longer than %.1f s", which,
                     opt.max_time);
            code = EXIT_TIMEOUT;
            quicc_h3_free(h3);
            h3 = NULL;
            goto fail_all;
        }
        if (progress) continue;
        if (dl < ms) ms = dl;
        struct pollfd p = {.fd = quicc_get_fd(conn),
                           .events =
                               (short)(POLLIN | (quicc_net_write_desired(conn) ? POLLOUT : 0))};
        poll(&p, 1, ms);
    }
    quicc_h3_free(h3);
    if (opt.plan == PLAN_RESUME && g == 0) wait_for_ticket(conn);
    session_save(conn);
    quicc_set_blocking_mode(conn, 1);
    /* Every response is in (or failed), so the requests were delivered: close at once rather
     * than wait out the closing period (three PTOs, 12 s at a 1.5 s RTT) before exiting. */
    quicc_shutdown_ex(conn, QUICC_SHUTDOWN_FLAG_RAPID, NULL);
    uint64_t recvd = 0, lost = 0, srtt = 0;
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_PACKETS_RECEIVED,
                         &recvd);
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_PACKETS_LOST, &lost);
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_SMOOTHED_RTT_US, &srtt);
    uint64_t kus = 0;
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_KEY_UPDATES, &kus);
    char ecn[160];
    tool_ecn_summary(conn, ecn, sizeof(ecn));
    uint64_t zrtt = 0;
    quicc_get_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_0RTT_SENT, &zrtt);
    size_t el = strlen(ecn);
    snprintf(ecn + el, sizeof(ecn) - el, " zerortt=%llu", (unsigned long long)zrtt);
    vlog("connection closed: %llu packets received, %llu of ours lost, rtt %llu us, %llu key "
         "updates, %s",
         (unsigned long long)recvd, (unsigned long long)lost, (unsigned long long)srtt,
         (unsigned long long)kus, ecn);
    quicc_free(conn);
    return;
fail_all:
    quicc_h3_free(h3);
    if (ai) freeaddrinfo(ai);
    for (size_t i = 0; i < nreqs; i++)
        if (reqs[i].group == g && reqs[i].state != 2) req_fail(&reqs[i], code, "%s", why);
    for (size_t i = 0; i < nreqs; i++)
        if (reqs[i].group == g && reqs[i].stream) {
            quicc_free(reqs[i].stream);
            reqs[i].stream = NULL;
        }
    quicc_free(conn);
}

static void free_headers(void) {
    for (size_t i = 0; i < opt.nheaders; i++)
        free((char *)opt.headers[i].name);
    opt.nheaders = 0;
}

/* A number of seconds for an option: positive, finite. */
static bool parse_secs(const char *name, const char *arg, double *out) {
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || !(v > 0) || v > 1e6) {
        fprintf(stderr, "quicc-client: %s needs a number of seconds, not '%s'\n", name, arg);
        return false;
    }
    *out = v;
    return true;
}

/* The URLs in order, each with the -o/-O given before it (curl's pairing). */
typedef struct url_arg {
    const char *url;
    const char *out_spec;
} url_arg;

/* Parses the command line into opt and urls[]; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, url_arg *urls, size_t *nurls, const char **testcase) {
    static const struct option longopts[] = {{"alpn", required_argument, NULL, 'A'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"remote-name", no_argument, NULL, 'O'},
                                             {"remote-name-all", no_argument, NULL, 1001},
                                             {"output-dir", required_argument, NULL, 1002},
                                             {"create-dirs", no_argument, NULL, 1003},
                                             {"fail", no_argument, NULL, 'f'},
                                             {"request", required_argument, NULL, 'X'},
                                             {"header", required_argument, NULL, 'H'},
                                             {"include", no_argument, NULL, 'i'},
                                             {"head", no_argument, NULL, 'I'},
                                             {"connect-timeout", required_argument, NULL, 1004},
                                             {"max-time", required_argument, NULL, 'm'},
                                             {"cacert", required_argument, NULL, 'C'},
                                             {"insecure", no_argument, NULL, 'k'},
                                             {"keylog", required_argument, NULL, 'L'},
                                             {"max-concurrent", required_argument, NULL, 'M'},
                                             {"ciphers", required_argument, NULL, 'c'},
                                             {"each-url", no_argument, NULL, 'E'},
                                             {"resume", no_argument, NULL, 'R'},
                                             {"session-file", required_argument, NULL, 'S'},
                                             {"key-update", no_argument, NULL, 'U'},
                                             {"testcase", required_argument, NULL, 'T'},
                                             {"quic-versions", required_argument, NULL, 'V'},
                                             {"early-data", no_argument, NULL, 'Z'},
                                             {"qlog-dir", required_argument, NULL, 'G'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 1000},
                                             {NULL, 0, NULL, 0}};
    const char *pending = NULL; /* -o or -O waiting for its URL */
    int c;
    /* "-" first: URLs come back in order (as 1), so that each -o pairs with the next URL. */
    while ((c = getopt_long(argc, argv, "-o:Ofm:X:H:iIkvqh", longopts, NULL)) != -1) {
        switch (c) {
        case 1:
            urls[*nurls].url = optarg;
            urls[(*nurls)++].out_spec = pending;
            pending = NULL;
            break;
        case 'o':
        case 'O':
            if (pending) {
                fprintf(stderr, "quicc-client: -o/-O given twice before one URL\n");
                return EXIT_USAGE;
            }
            pending = c == 'o' ? optarg : REMOTE_NAME;
            break;
        case 1001:
            opt.remote_name_all = true;
            break;
        case 1002:
            opt.outdir = optarg;
            break;
        case 1003:
            opt.create_dirs = true;
            break;
        case 'f':
            opt.fail_http = true;
            break;
        case 'X':
            if (!*optarg || strcspn(optarg, " \t\r\n:") != strlen(optarg) || strlen(optarg) > 15) {
                fprintf(stderr, "quicc-client: bad method '%s'\n", optarg);
                return EXIT_USAGE;
            }
            opt.method = optarg;
            break;
        case 'H': {
            const char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg || opt.nheaders == 32 ||
                strcspn(optarg, "\r\n") != strlen(optarg) ||
                memchr(optarg, ' ', (size_t)(colon - optarg))) {
                fprintf(stderr, "quicc-client: bad header '%s' (Name: value; at most 32)\n",
                        optarg);
                return EXIT_USAGE;
            }
            char *name = strndup(optarg, (size_t)(colon - optarg));
            for (char *p = name; p && *p; p++)
                if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
            const char *v = colon + 1;
            v += strspn(v, " \t");
            opt.headers[opt.nheaders].name = name;
            opt.headers[opt.nheaders].value = v;
            opt.header_lines[opt.nheaders++] = optarg;
            break;
        }
        case 'i':
            opt.include_headers = true;
            break;
        case 'I':
            opt.head = true;
            break;
        case 1004:
            if (!parse_secs("--connect-timeout", optarg, &opt.connect_timeout)) return EXIT_USAGE;
            break;
        case 'm':
            if (!parse_secs("--max-time", optarg, &opt.max_time)) return EXIT_USAGE;
            break;
        case 'A':
            opt.alpn_given = true;
            if (!strcmp(optarg, "h3"))
                opt.proto = P_H3;
            else if (!strcmp(optarg, "hq-interop"))
                opt.proto = P_HQ;
            else if (!strcmp(optarg, "http/1.0"))
                opt.proto = P_HTTP10;
            else {
                fprintf(stderr, "quicc-client: unknown ALPN '%s'\n", optarg);
                usage(stderr);
                return EXIT_USAGE;
            }
            break;
        case 'C':
            opt.cacert = optarg;
            break;
        case 'k':
            opt.insecure = true;
            break;
        case 'L':
            opt.keylog = optarg;
            break;
        case 'M': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v <= 0 || v > 100000) {
                fprintf(stderr, "quicc-client: --max-concurrent needs a number from 1 to 100000\n");
                return EXIT_USAGE;
            }
            opt.max_concurrent = (size_t)v;
            break;
        }
        case 'c':
            opt.ciphers = optarg;
            break;
        case 'E':
            opt.plan = PLAN_EACH_URL;
            break;
        case 'R':
            opt.plan = PLAN_RESUME;
            break;
        case 'S':
            opt.session_file = optarg;
            break;
        case 'U':
            opt.key_update = true;
            break;
        case 'T':
            *testcase = optarg;
            break;
        case 'V':
            opt.versions = optarg;
            break;
        case 'Z':
            opt.early_data = true;
            break;
        case 'G':
            opt.qlog_dir = optarg;
            break;
        case 'v':
            opt.verbose = true;
            break;
        case 'q':
            opt.quiet = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 1000:
            tool_print_version("quicc-client");
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (pending) {
        fprintf(stderr, "quicc-client: -o/-O without a URL after it\n");
        return EXIT_USAGE;
    }
    if (opt.head) {
        if (opt.method && strcmp(opt.method, "HEAD") != 0) {
            fprintf(stderr, "quicc-client: -I and -X %s contradict each other\n", opt.method);
            return EXIT_USAGE;
        }
        opt.method = "HEAD";
    }
    return -1;
}

/* The requests from the URLs: parsed, grouped into connections, their outputs planned and
 * checked (never two into one file). Returns -1 to go on, else the exit status. */
static int plan_requests(const url_arg *urls, int *ngroups) {
    for (size_t i = 0; i < nreqs; i++) {
        request *r = &reqs[i];
        int pr = parse_url(r, urls[i].url);
        if (pr != 0) {
            fprintf(stderr,
                    pr == -2
                        ? "quicc-client: '%s': only https:// URLs can be fetched over QUIC\n"
                        : "quicc-client: malformed URL '%s' (expected https://HOST:PORT/PATH)\n",
                    urls[i].url);
            return pr == -2 ? EXIT_FAILED : EXIT_URL;
        }
        r->out_spec = urls[i].out_spec;
        if (plan_output(r) != 0 || (r->out_path && note_output_identity(r) != 0)) {
            fprintf(stderr, "quicc-client: out of memory\n");
            return EXIT_FAILED;
        }
        for (size_t j = 0; j < i && r->out_path; j++)
            if (reqs[j].out_path && same_file(&reqs[j], r)) {
                fprintf(stderr,
                        "quicc-client: %s and %s would both be written to %s; name the files "
                        "with -o\n",
                        reqs[j].url, r->url, r->out_path);
                return EXIT_USAGE;
            }
        r->group = -1;
        if (opt.plan == PLAN_EACH_URL) r->group = (*ngroups)++;
        if (opt.plan == PLAN_RESUME) *ngroups = 1 + (r->group = i > 0);
        for (size_t j = 0; j < i && r->group < 0; j++)
            if (!strcmp(reqs[j].host, r->host) && !strcmp(reqs[j].port, r->port))
                r->group = reqs[j].group;
        if (r->group < 0) r->group = (*ngroups)++;
    }
    if (opt.outdir) {
        struct stat st;
        if (opt.create_dirs) {
            char probe[4096];
            snprintf(probe, sizeof(probe), "%s/x", opt.outdir);
            make_parents(probe);
        }
        if (stat(opt.outdir, &st) != 0 && mkdir(opt.outdir, 0755) != 0) {
            fprintf(stderr, "quicc-client: cannot create %s: %s\n", opt.outdir, strerror(errno));
            return EXIT_WRITE;
        }
    }
    return -1;
}

/* The client context from the options; NULL after saying why (*rc: the exit status). */
static quicc_ctx *make_ctx(int *rc) {
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    *rc = EXIT_FAILED;
    if (!ctx) return NULL;
    if (opt.insecure) {
        if (!opt.quiet)
            fprintf(stderr, "quicc-client: warning: not verifying the server certificate\n");
        quicc_ctx_set_verify(ctx, QUICC_VERIFY_NONE);
    } else if (opt.cacert) {
        if (!quicc_ctx_load_verify_file(ctx, opt.cacert)) {
            fprintf(stderr, "quicc-client: cannot read CA file %s\n", opt.cacert);
            *rc = 77; /* curl: problem with reading the CA certificate file */
            goto fail;
        }
    } else {
        quicc_ctx_set_default_verify_paths(ctx);
    }
    const char *keylog = opt.keylog ? opt.keylog : getenv("SSLKEYLOGFILE");
    if (keylog && *keylog && !quicc_ctx_set_keylog_file(ctx, keylog)) {
        fprintf(stderr, "quicc-client: cannot open the key log %s: %s\n", keylog,
                quicc_err_detail());
        quicc_err_clear();
        *rc = EXIT_WRITE;
        goto fail;
    }
    const char *qlog = opt.qlog_dir ? opt.qlog_dir : getenv("QLOGDIR");
    if (qlog && *qlog) quicc_ctx_set_qlog_dir(ctx, qlog);
    uint32_t versions[4];
    size_t nversions = opt.versions ? tool_parse_versions(opt.versions, versions, 4) : 0;
    if (opt.versions && (!nversions || !quicc_ctx_set_quic_versions(ctx, versions, nversions))) {
        fprintf(stderr, "quicc-client: bad --quic-versions '%s' (v1, v2, v2draft)\n", opt.versions);
        *rc = EXIT_USAGE;
        goto fail;
    }
    if (opt.ciphers && !quicc_ctx_set_ciphersuites(ctx, opt.ciphers)) {
        fprintf(stderr, "quicc-client: no usable cipher suite in '%s'\n", opt.ciphers);
        *rc = EXIT_USAGE;
        goto fail;
    }
    /* Later connections to a server resume the session of an earlier one. */
    if (opt.plan == PLAN_RESUME || opt.session_file)
        quicc_ctx_set_session_cache_mode(ctx, QUICC_SESS_CACHE_CLIENT);
    return ctx;
fail:
    quicc_ctx_free(ctx);
    return NULL;
}

/* Writes out what is left, reports each failed URL. Returns the exit status: the first
 * failed URL's (in URL order), else 0. */
static int finish_requests(void) {
    settle_outputs();
    int rc = EXIT_OK;
    for (size_t i = 0; i < nreqs; i++) {
        request *r = &reqs[i];
        close_output(r);
        if (!r->ok) {
            fprintf(stderr, "quicc-client: %s: %s\n", r->url, r->err[0] ? r->err : "failed");
            if (rc == EXIT_OK) rc = r->code ? r->code : EXIT_FAILED;
        }
        free(r->out_path);
        free(r->out_canon);
    }
    return rc;
}

int main(int argc, char **argv) {
    const char *testcase = getenv("TESTCASE");
    url_arg *urls = calloc((size_t)argc + 1, sizeof(*urls));
    size_t nurls = 0;
    if (!urls) return EXIT_FAILED;
    int rc = parse_args(argc, argv, urls, &nurls, &testcase);
    if (rc >= 0) {
        free_headers();
        free(urls);
        return rc;
    }
    if (testcase && *testcase && !apply_testcase(testcase)) {
        fprintf(stderr, "quicc-client: test case '%s' is not supported\n", testcase);
        free_headers();
        free(urls);
        return EXIT_TESTCASE;
    }
    if (opt.proto == P_HQ && ((opt.method && strcmp(opt.method, "GET") != 0) || opt.nheaders ||
                              opt.include_headers || opt.head)) {
        fprintf(stderr, "quicc-client: HTTP/0.9 (hq-interop) has only GET, no headers\n");
        free_headers();
        free(urls);
        return EXIT_USAGE;
    }
    if (!opt.outdir && getenv("DOWNLOADS") && *getenv("DOWNLOADS"))
        opt.outdir = getenv("DOWNLOADS");
    /* The URLs: the arguments, or REQUESTS split at spaces. */
    char *requests = NULL;
    if (nurls == 0 && getenv("REQUESTS")) {
        requests = strdup(getenv("REQUESTS"));
        url_arg *more = requests ? calloc(strlen(requests) / 2 + 1, sizeof(*urls)) : NULL;
        if (!more) return EXIT_FAILED;
        free(urls);
        urls = more;
        char *save = NULL;
        for (char *u = strtok_r(requests, " \t\n", &save); u; u = strtok_r(NULL, " \t\n", &save))
            urls[nurls++].url = u;
    }
    if (nurls == 0) {
        fprintf(stderr, "quicc-client: no URL given (arguments or REQUESTS)\n");
        usage(stderr);
        free_headers();
        free(urls);
        free(requests);
        return EXIT_USAGE;
    }
    nreqs = nurls;
    reqs = calloc(nreqs, sizeof(*reqs));
    int ngroups = 0;
    quicc_ctx *ctx = NULL;
    rc = reqs ? plan_requests(urls, &ngroups) : EXIT_FAILED;
    if (rc < 0) ctx = make_ctx(&rc);
    if (ctx) {
        clock_gettime(CLOCK_MONOTONIC, &run_start);
        set_file_limit();
        for (int g = 0; g < ngroups; g++)
            run_group(ctx, g);
        double secs = since(&run_start);
        uint64_t total = 0;
        for (size_t i = 0; i < nreqs; i++)
            total += reqs[i].bytes;
        rc = finish_requests();
        vlog("%zu URL(s), %llu bytes in %.3f s (%.1f Mbit/s)", nreqs, (unsigned long long)total,
             secs, secs > 0 ? (double)total * 8 / secs / 1e6 : 0.0);
        quicc_ctx_free(ctx);
    } else {
        for (size_t i = 0; reqs && i < nreqs; i++) {
            free(reqs[i].out_path);
            free(reqs[i].out_canon);
        }
    }
    free(reqs);
    free(urls);
    free(requests);
    free_headers();
    return rc;
}
