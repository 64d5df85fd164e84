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
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

enum proto { P_H3, P_HQ, P_HTTP10 };

typedef struct request {
    const char *url;
    char host[256], port[16], path[2048], authority[300];
    int group;
    int state; /* 0 queued, 1 running, 2 done */
    bool ok;
    char err[300];
    FILE *out;
    char *out_path;
    uint64_t bytes;
    int status;
    /* hq-interop / http/1.0 */
    quicc *stream;
    char hdr[8192];
    size_t hdrlen;
    bool in_body;
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
    size_t max_concurrent;
    enum conn_plan plan;
    bool alpn_given; /* --alpn: kept even with a test case */
} opt = {.proto = P_H3};

static request *reqs;
static size_t nreqs;

static void usage(FILE *f) {
    fprintf(f, "usage: quicc-client [options] URL...\n"
               "Fetch https://HOST:PORT/PATH URLs over QUIC.\n"
               "\n"
               "  --alpn PROTO          h3 (default), hq-interop or http/1.0\n"
               "  -o, --output-dir DIR  write each body to DIR/<last path segment>\n"
               "                        (default: bodies to stdout, in URL order)\n"
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
               "Without URLs, the space-separated list in REQUESTS is fetched; DOWNLOADS\n"
               "gives the output directory when -o is not used.\n"
               "\n"
               "Exit status: 0 when every body arrived complete, 1 on a transfer, protocol\n"
               "or verification failure, 2 on a usage error, 127 for a test case this client\n"
               "does not support.\n");
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

/* https://host:port/path, host may be [v6]. Returns 0 or -1. */
static int parse_url(request *r, const char *url) {
    r->url = url;
    if (strncmp(url, "https://", 8) != 0) return -1;
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
    if (strchr(r->host, ':'))
        snprintf(r->authority, sizeof(r->authority), "[%s]:%s", r->host, r->port);
    else
        snprintf(r->authority, sizeof(r->authority), "%s:%s", r->host, r->port);
    return 0;
}

static void req_fail(request *r, const char *fmt, ...) {
    if (r->state == 2) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    r->ok = false;
    r->state = 2;
}

static int open_output(request *r) {
    if (!opt.outdir) {
        r->out = tmpfile();
        return r->out ? 0 : -1;
    }
    const char *name = strrchr(r->path, '/');
    name = name ? name + 1 : r->path;
    char clean[256];
    size_t n = strcspn(name, "?#");
    if (n == 0 || n >= sizeof(clean))
        snprintf(clean, sizeof(clean), "index.html");
    else {
        memcpy(clean, name, n);
        clean[n] = 0;
    }
    size_t len = strlen(opt.outdir) + strlen(clean) + 2;
    r->out_path = malloc(len);
    snprintf(r->out_path, len, "%s/%s", opt.outdir, clean);
    r->out = fopen(r->out_path, "wb");
    return r->out ? 0 : -1;
}

static int body(request *r, const uint8_t *data, size_t len) {
    if (len && fwrite(data, 1, len, r->out) != len) {
        req_fail(r, "write error: %s", strerror(errno));
        return -1;
    }
    r->bytes += len;
    return 0;
}

/* ---- HTTP/3 ---- */

static int h3_on_body(void *user, const uint8_t *data, size_t len) {
    return body(user, data, len);
}

static void h3_on_done(void *user, int status, int64_t error) {
    request *r = user;
    r->status = status;
    if (error)
        req_fail(r,
                 error < 0 ? "stream closed before the response completed"
                           : "stream reset by server (error 0x%llx)",
                 (unsigned long long)error);
    else if (status != 200)
        req_fail(r, "HTTP status %d", status);
    else {
        r->ok = true;
        r->state = 2;
    }
}

/* ---- hq-interop and http/1.0 ---- */

static int raw_start(quicc *conn, request *r) {
    r->stream = quicc_new_stream(conn, QUICC_STREAM_FLAG_NO_BLOCK);
    if (!r->stream) {
        unsigned long e = quicc_err_get();
        return e == QUICC_R_STREAM_COUNT_LIMITED ? 1 : -1;
    }
    char req[4096];
    int n = opt.proto == P_HQ ? snprintf(req, sizeof(req), "GET %s\r\n", r->path)
                              : snprintf(req, sizeof(req),
                                         "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
                                         r->path, r->host);
    size_t w;
    if (!quicc_write_ex2(r->stream, req, (size_t)n, QUICC_WRITE_FLAG_CONCLUDE, &w)) {
        /* The request is tiny: a nonblocking write only fails on a dead stream. */
        req_fail(r, "cannot send request");
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
        if (r->hdrlen == sizeof(r->hdr)) req_fail(r, "response headers too long");
        return;
    }
    int major, minor, status;
    if (sscanf(r->hdr, "HTTP/%d.%d %d", &major, &minor, &status) != 3) {
        req_fail(r, "malformed HTTP/1.0 status line");
        return;
    }
    r->status = status;
    r->in_body = true;
    size_t hdr_end = (size_t)(end + 4 - r->hdr);
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
                req_fail(r, "response ended inside the headers");
            else if (opt.proto == P_HTTP10 && r->status != 200)
                req_fail(r, "HTTP status %d", r->status);
            else {
                r->ok = true;
                r->state = 2;
            }
        } else {
            uint64_t code = 0;
            if (quicc_get_stream_read_error_code(r->stream, &code) == 1)
                req_fail(r, "stream reset by server (error 0x%llx)", (unsigned long long)code);
            else
                req_fail(r, "stream failed: %s", quicc_err_reason_string(quicc_err_peek()));
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

static void conn_failure(quicc *conn, char *buf, size_t len) {
    unsigned long e = quicc_err_get();
    if (e) {
        snprintf(buf, len, "%s", quicc_err_detail());
        quicc_err_clear();
        return;
    }
    quicc_conn_close_info ci;
    if (quicc_get_conn_close_info(conn, &ci))
        snprintf(buf, len, "connection closed by %s (error 0x%llx%s%.*s)",
                 (ci.flags & QUICC_CONN_CLOSE_FLAG_LOCAL) ? "us" : "server",
                 (unsigned long long)ci.error_code, ci.reason_len ? ": " : "", (int)ci.reason_len,
                 ci.reason);
    else
        snprintf(buf, len, "connection failed");
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
        if (open_output(r) != 0) {
            req_fail(r, "cannot open output: %s", strerror(errno));
            continue;
        }
        int rv;
        if (h3) {
            quicc_h3_request_cbs cbs = {r, h3_on_body, h3_on_done};
            rv = quicc_h3_submit_get(h3, r->authority, r->path, &cbs);
        } else {
            rv = raw_start(conn, r);
        }
        if (rv == 1) {
            fclose(r->out);
            r->out = NULL;
            free(r->out_path);
            r->out_path = NULL;
            return false;
        }
        if (rv < 0) {
            req_fail(r, "cannot start request");
            continue;
        }
        r->state = 1;
        (*running)++;
        vlog("GET %s", r->url);
    }
    return true;
}

/* quicc_connect on a nonblocking connection, waiting on its descriptor in between. */
static int connect_wait(quicc *conn) {
    for (;;) {
        int r = quicc_connect(conn);
        if (r == 1) return 1;
        if (quicc_get_error(conn, r) != QUICC_ERROR_WANT_READ) return 0;
        struct timeval tv;
        int inf = 0;
        quicc_get_event_timeout(conn, &tv, &inf);
        struct pollfd p = {.fd = quicc_get_fd(conn), .events = POLLIN};
        poll(&p, 1, inf ? 1000 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000));
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
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_family = AF_UNSPEC}, *ai = NULL;
    int gai = getaddrinfo(first->host, first->port, &hints, &ai);
    quicc *conn = NULL;
    if (gai != 0) {
        snprintf(why, sizeof(why), "cannot resolve %s: %s", first->host, gai_strerror(gai));
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
        conn_failure(conn, why, sizeof(why));
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
    if (opt.early_data) {
        /* Nonblocking from the start: the streams made now must not block later. */
        quicc_set_blocking_mode(conn, 0);
        early = quicc_write_early_data(conn, NULL, 0, &w) == 1;
        if (!early) quicc_set_blocking_mode(conn, 1);
    }
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
    if ((early ? connect_wait(conn) : quicc_connect(conn)) != 1) {
        conn_failure(conn, why, sizeof(why));
        goto fail_all;
    }
    vlog("connected (QUIC %s, %s, %s%s)", tool_version_name(quicc_get_quic_version(conn)),
         quicc_get_current_cipher_name(conn),
         quicc_session_reused(conn) ? "session resumed" : "full handshake",
         quicc_get_early_data_status(conn) == QUICC_EARLY_DATA_ACCEPTED   ? ", 0-RTT accepted"
         : quicc_get_early_data_status(conn) == QUICC_EARLY_DATA_REJECTED ? ", 0-RTT rejected"
                                                                          : "");
    bool key_update = opt.key_update;
    quicc_set_blocking_mode(conn, 0);
    quicc_set_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                         QUICC_EVENT_HANDLING_MODE_EXPLICIT);
    if (opt.proto == P_H3 && !h3 && !(h3 = quicc_h3_client_new(conn))) {
        snprintf(why, sizeof(why), "cannot start HTTP/3");
        goto fail_all;
    }
    static uint8_t buf[65536];
    for (;;) {
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
            conn_failure(conn, why, sizeof(why));
            quicc_h3_free(h3);
            h3 = NULL;
            goto fail_all;
        }
        if (progress) continue;
        struct timeval tv;
        int inf = 0;
        quicc_get_event_timeout(conn, &tv, &inf);
        int ms = inf ? 1000 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
        if (ms > 1000) ms = 1000;
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
        if (reqs[i].group == g && reqs[i].state != 2) req_fail(&reqs[i], "%s", why);
    for (size_t i = 0; i < nreqs; i++)
        if (reqs[i].group == g && reqs[i].stream) {
            quicc_free(reqs[i].stream);
            reqs[i].stream = NULL;
        }
    quicc_free(conn);
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {{"alpn", required_argument, NULL, 'A'},
                                             {"output-dir", required_argument, NULL, 'o'},
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
    const char *testcase = getenv("TESTCASE");
    int c;
    while ((c = getopt_long(argc, argv, "o:kvqh", longopts, NULL)) != -1) {
        switch (c) {
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
                return 2;
            }
            break;
        case 'o':
            opt.outdir = optarg;
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
        case 'M':
            opt.max_concurrent = (size_t)strtoul(optarg, NULL, 10);
            if (!opt.max_concurrent) {
                fprintf(stderr, "quicc-client: --max-concurrent needs a positive number\n");
                return 2;
            }
            break;
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
            testcase = optarg;
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
            return 0;
        case 1000:
            tool_print_version("quicc-client");
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (testcase && *testcase && !apply_testcase(testcase)) {
        fprintf(stderr, "quicc-client: test case '%s' is not supported\n", testcase);
        return 127;
    }
    if (!opt.outdir && getenv("DOWNLOADS") && *getenv("DOWNLOADS"))
        opt.outdir = getenv("DOWNLOADS");
    /* The URLs: the arguments, or REQUESTS split at spaces. */
    char **urls = argv + optind;
    size_t nurls = (size_t)(argc - optind);
    char *requests = NULL;
    if (nurls == 0 && getenv("REQUESTS")) {
        requests = strdup(getenv("REQUESTS"));
        urls = calloc(strlen(requests) / 2 + 1, sizeof(*urls));
        char *save = NULL;
        for (char *u = strtok_r(requests, " \t\n", &save); u; u = strtok_r(NULL, " \t\n", &save))
            urls[nurls++] = u;
    }
    if (nurls == 0) {
        fprintf(stderr, "quicc-client: no URL given (arguments or REQUESTS)\n");
        usage(stderr);
        return 2;
    }
    nreqs = nurls;
    reqs = calloc(nreqs, sizeof(*reqs));
    int ngroups = 0;
    for (size_t i = 0; i < nreqs; i++) {
        request *r = &reqs[i];
        if (parse_url(r, urls[i]) != 0) {
            fprintf(stderr, "quicc-client: malformed URL '%s' (expected https://HOST:PORT/PATH)\n",
                    urls[i]);
            return 2;
        }
        r->group = -1;
        if (opt.plan == PLAN_EACH_URL) r->group = ngroups++;
        if (opt.plan == PLAN_RESUME) ngroups = 1 + (r->group = i > 0);
        for (size_t j = 0; j < i && r->group < 0; j++)
            if (!strcmp(reqs[j].host, r->host) && !strcmp(reqs[j].port, r->port))
                r->group = reqs[j].group;
        if (r->group < 0) r->group = ngroups++;
    }
    if (opt.outdir) {
        struct stat st;
        if (stat(opt.outdir, &st) != 0 && mkdir(opt.outdir, 0755) != 0) {
            fprintf(stderr, "quicc-client: cannot create %s: %s\n", opt.outdir, strerror(errno));
            return 1;
        }
    }
    quicc_ctx *ctx = quicc_ctx_new(QUICC_CLIENT);
    if (!ctx) return 1;
    if (opt.insecure) {
        if (!opt.quiet)
            fprintf(stderr, "quicc-client: warning: not verifying the server certificate\n");
        quicc_ctx_set_verify(ctx, QUICC_VERIFY_NONE);
    } else if (opt.cacert) {
        if (!quicc_ctx_load_verify_file(ctx, opt.cacert)) {
            fprintf(stderr, "quicc-client: cannot read CA file %s\n", opt.cacert);
            return 1;
        }
    } else {
        quicc_ctx_set_default_verify_paths(ctx);
    }
    if (opt.keylog) quicc_ctx_set_keylog_file(ctx, opt.keylog);
    const char *qlog = opt.qlog_dir ? opt.qlog_dir : getenv("QLOGDIR");
    if (qlog && *qlog) quicc_ctx_set_qlog_dir(ctx, qlog);
    uint32_t versions[4];
    size_t nversions = opt.versions ? tool_parse_versions(opt.versions, versions, 4) : 0;
    if (opt.versions && (!nversions || !quicc_ctx_set_quic_versions(ctx, versions, nversions))) {
        fprintf(stderr, "quicc-client: bad --quic-versions '%s' (v1, v2, v2draft)\n", opt.versions);
        return 2;
    }
    if (opt.ciphers && !quicc_ctx_set_ciphersuites(ctx, opt.ciphers)) {
        fprintf(stderr, "quicc-client: no usable cipher suite in '%s'\n", opt.ciphers);
        return 2;
    }
    /* Later connections to a server resume the session of an earlier one. */
    if (opt.plan == PLAN_RESUME || opt.session_file)
        quicc_ctx_set_session_cache_mode(ctx, QUICC_SESS_CACHE_CLIENT);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int g = 0; g < ngroups; g++)
        run_group(ctx, g);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int rc = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < nreqs; i++) {
        request *r = &reqs[i];
        total += r->bytes;
        if (!r->ok) {
            rc = 1;
            fprintf(stderr, "quicc-client: %s: %s\n", r->url, r->err[0] ? r->err : "failed");
        }
        if (r->out && !opt.outdir && r->ok) {
            rewind(r->out);
            size_t n;
            static uint8_t cbuf[65536];
            while ((n = fread(cbuf, 1, sizeof(cbuf), r->out)) > 0)
                fwrite(cbuf, 1, n, stdout);
        }
        if (r->out && fclose(r->out) != 0 && r->ok) {
            fprintf(stderr, "quicc-client: %s: write error\n", r->url);
            rc = 1;
        }
        free(r->out_path);
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    vlog("%zu URL(s), %llu bytes in %.3f s (%.1f Mbit/s)", nreqs, (unsigned long long)total, secs,
         secs > 0 ? (double)total * 8 / secs / 1e6 : 0.0);
    fflush(stdout);
    quicc_ctx_free(ctx);
    free(reqs);
    if (requests) {
        free(requests);
        free(urls);
    }
    return rc;
}
