/*
 * quicc-server: serve the files under a directory over QUIC with HTTP/3
 * (nghttp3), hq-interop (HTTP/0.9) and HTTP/1.0 as the OpenSSL guide demos
 * speak it. One listener, any number of connections on one UDP socket. See
 * quicc-server(1).
 */
#include <quicc_h3.h>
#include <quicc.h>
#include "names.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum proto { P_H3, P_HQ, P_HTTP10 };

typedef struct sreq {
    quicc *in, *out;
    char buf[4096];
    size_t len;
    bool responding, done;
    int fd;
    uint64_t size, body_sent; /* the end of the bytes to send, and where sending is */
    char head[1024];
    size_t head_len, head_sent;
    /* for the access log */
    char method[16], target[256];
    int status;
    uint64_t body_start;
    int64_t error;
    struct timespec t0;
    struct sreq *next;
} sreq;

typedef struct sconn {
    quicc *conn;
    enum proto proto;
    char peer[80];
    struct timespec start;
    uint64_t bytes, requests;
    sreq *reqs;
    quicc_h3_server *h3;
    struct sconn *next;
} sconn;

static struct {
    const char *root;
    bool quiet, verbose;
    bool json_log; /* --log-format json */
} opt = {".", false, false, false};

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static void usage(FILE *f) {
    fprintf(f, "usage: quicc-server [options] [ADDR] PORT\n"
               "Serve files over QUIC: HTTP/3 (h3), hq-interop and http/1.0.\n"
               "\n"
               "  --root DIR         serve the files under DIR (default: .)\n"
               "  --cert FILE        certificate chain (PEM)\n"
               "  --key FILE         private key (PEM)\n"
               "                     (without --cert/--key: a fresh self-signed certificate\n"
               "                     for localhost, 127.0.0.1 and ::1)\n"
               "  --write-cert FILE  write that generated certificate to FILE (for clients)\n"
               "  --cert-dir DIR     keep a development certificate in DIR between runs\n"
               "                     (DIR/cert.pem for clients; made again after 25 days)\n"
               "  --retry            validate every client address with Retry\n"
               "  --qlog-dir DIR     write a qlog file per connection into DIR (also QLOGDIR)\n"
               "  --log-format FMT   the access log's lines: common (the common log format\n"
               "                     and the duration, default) or json\n"
               "  --quic-versions LIST  QUIC versions a client may start in, and the order in\n"
               "                     which the server moves a connection to one the client\n"
               "                     offers (comma-separated: v1, v2, v2draft; default v2,v1)\n"
               "  --testcase NAME    behave as the QUIC Interop Runner's test case NAME asks\n"
               "                     (also TESTCASE; retry turns on --retry; a case this\n"
               "                     server does not support exits with status 127)\n"
               "  -q                 log nothing but errors\n"
               "  -v                 log more\n"
               "  --help             show this help\n"
               "  --version          show the versions of quicc, GnuTLS and nghttp3\n"
               "\n"
               "ADDR (an address or a host name) defaults to 127.0.0.1; PORT 0 takes a free\n"
               "port. Logs a line per request (the access log) and one per connection:\n"
               "peer, ALPN, requests, bytes, duration, QUIC version, ECN and close reason.\n");
}

/* ---- the access log ---- */

static const char *const proto_names[] = {"h3", "hq-interop", "http/1.0"};
static const char *const proto_versions[] = {"HTTP/3", "HTTP/0.9", "HTTP/1.0"};

/* s as a JSON string's contents (quotes, backslashes and control characters escaped). */
static void json_escape(const char *in, char *out, size_t cap) {
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = 0;
}

/*
 * One line per answered request: the common log format (peer address, time, request line,
 * status, body bytes) followed by the duration in seconds, or with --log-format json an
 * object with the peer's address and port, ALPN, method, path, status, bytes, duration and
 * the reset that cut the response (0: none).
 */
static void access_log(const char *peer, enum proto proto, const char *method, const char *path,
                       int status, uint64_t bytes, uint64_t duration_us, int64_t error) {
    if (opt.quiet) return;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[64];
    if (opt.json_log) {
        char m[64], pa[1024], pe[200];
        json_escape(method, m, sizeof(m));
        json_escape(path, pa, sizeof(pa));
        json_escape(peer, pe, sizeof(pe));
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("{\"time\":\"%s\",\"peer\":\"%s\",\"alpn\":\"%s\",\"method\":\"%s\","
               "\"path\":\"%s\",\"status\":%d,\"bytes\":%llu,\"duration\":%.6f,\"error\":%lld}\n",
               when, pe, proto_names[proto], m, pa, status, (unsigned long long)bytes,
               (double)duration_us / 1e6, (long long)error);
    } else {
        char host[80];
        snprintf(host, sizeof(host), "%s", peer);
        char *colon = strrchr(host, ':'); /* "1.2.3.4:port" or "[::1]:port" */
        if (colon) *colon = 0;
        if (host[0] == '[') {
            memmove(host, host + 1, strlen(host));
            char *b = strchr(host, ']');
            if (b) *b = 0;
        }
        strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
        printf("%s - - [%s] \"%s %s %s\" %d %llu %.6f\n", host, when, method, path,
               proto_versions[proto], status, (unsigned long long)bytes, (double)duration_us / 1e6);
    }
    fflush(stdout);
}

static uint64_t us_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)((t.tv_sec - t0->tv_sec) * 1000000LL + (t.tv_nsec - t0->tv_nsec) / 1000);
}

static void h3_log(void *user, const quicc_h3_request_info *info) {
    const sconn *sc = user;
    access_log(sc->peer, P_H3, info->method, info->path, info->status, info->bytes,
               info->duration_us, info->error);
}

/* ---- hq-interop and http/1.0 ---- */

/* The value of header name (case-insensitive) in an HTTP/1.0 request's header block. */
static void header_value(const char *req, const char *name, char *out, size_t cap) {
    out[0] = 0;
    size_t nl = strlen(name);
    for (const char *p = strstr(req, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (!strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            v += strspn(v, " \t");
            size_t n = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
            return;
        }
    }
}

/* The request line and headers, answered through quicc_h3_file_lookup: HTTP/1.0 with its
 * status line and headers (GET, HEAD, Range); HTTP/0.9 (hq-interop) GET only, an error as a
 * stream reset with the status as the code (404 = 0x194). */
static void start_reply(sconn *sc, sreq *r) {
    char method[16] = "", target[2048] = "", range[128] = "";
    if (sc->proto == P_HTTP10) {
        sscanf(r->buf, "%15s %2047s", method, target);
        header_value(r->buf, "Range", range, sizeof(range));
    } else {
        size_t n = strcspn(r->buf, "\r\n");
        if (n > 4 && !strncmp(r->buf, "GET ", 4) && n - 4 < sizeof(target)) {
            memcpy(target, r->buf + 4, n - 4);
            target[n - 4] = 0;
        }
        snprintf(method, sizeof(method), "GET");
    }
    quicc_file_reply fr;
    quicc_h3_file_lookup(opt.root, method, target, range[0] ? range : NULL, 0, &fr);
    snprintf(r->method, sizeof(r->method), "%s", method[0] ? method : "-");
    snprintf(r->target, sizeof(r->target), "%.255s", target[0] ? target : "-");
    r->status = fr.status;
    r->body_start = fr.offset;
    r->fd = fr.fd;
    r->body_sent = fr.offset;
    r->size = fr.offset + (fr.head ? 0 : fr.length);
    r->out = r->in;
    if (sc->proto == P_HTTP10 && quicc_get_stream_type(r->in) == QUICC_STREAM_TYPE_READ) {
        /* A request on a client uni stream is answered on a new server uni stream. */
        r->out = quicc_new_stream(sc->conn, QUICC_STREAM_FLAG_UNI | QUICC_STREAM_FLAG_NO_BLOCK);
        if (!r->out) {
            quicc_err_clear();
            r->out = NULL;
            if (fr.fd >= 0) close(fr.fd);
            r->fd = -1;
            return; /* retried on the next turn */
        }
    }
    if (sc->proto == P_HQ && fr.fd < 0) {
        quicc_stream_reset(r->out, (uint64_t)fr.status); /* HTTP/0.9 has no status */
        r->error = fr.status;
        r->done = true;
        r->responding = true; /* answered: logged */
        return;
    }
    if (sc->proto == P_HTTP10) {
        char err[64] = "", extra[160] = "";
        size_t len = fr.length;
        if (fr.fd < 0) {
            len = (size_t)snprintf(err, sizeof(err), "%d %s\n", fr.status,
                                   quicc_h3_status_text(fr.status));
            if (fr.head) err[0] = 0;
        }
        size_t el = 0;
        if (fr.last_modified[0])
            el += (size_t)snprintf(extra + el, sizeof(extra) - el, "Last-Modified: %s\r\n",
                                   fr.last_modified);
        if (fr.content_range[0])
            el += (size_t)snprintf(extra + el, sizeof(extra) - el, "Content-Range: %s\r\n",
                                   fr.content_range);
        if (fr.status == 405) snprintf(extra + el, sizeof(extra) - el, "Allow: GET, HEAD\r\n");
        r->head_len = (size_t)snprintf(
            r->head, sizeof(r->head),
            "HTTP/1.0 %d %s\r\nServer: quicc-server/%s\r\nContent-Type: %s\r\n"
            "Content-Length: %zu\r\n%s%s\r\n%s",
            fr.status, quicc_h3_status_text(fr.status), QUICC_VERSION_STRING, fr.content_type, len,
            fr.fd >= 0 ? "Accept-Ranges: bytes\r\n" : "", extra, err);
        if (r->head_len >= sizeof(r->head)) r->head_len = sizeof(r->head) - 1;
    }
    r->responding = true;
    if (fr.fd >= 0) sc->requests++;
}

static bool pump_reply(sconn *sc, sreq *r) {
    static uint8_t buf[65536];
    bool progress = false;
    while (r->responding && !r->done) {
        uint64_t avail = 0;
        if (!quicc_get_value_uint(r->out, QUICC_VALUE_CLASS_GENERIC,
                                  QUICC_VALUE_STREAM_WRITE_BUF_AVAIL, &avail)) {
            quicc_err_clear();
            r->done = true;
            break;
        }
        if (avail == 0) break;
        size_t w;
        if (r->head_sent < r->head_len) {
            size_t n = (size_t)min_u64(avail, r->head_len - r->head_sent);
            if (!quicc_write_ex(r->out, r->head + r->head_sent, n, &w)) {
                quicc_err_clear();
                r->done = true;
                break;
            }
            r->head_sent += w;
            progress = true;
            continue;
        }
        /* Exactly the size the file had when the request came (Content-Length said so);
         * a file that shrank meanwhile ends the stream with a reset, not a short body. */
        uint64_t want = min_u64(min_u64(avail, sizeof(buf)), r->size - r->body_sent);
        ssize_t n = r->fd >= 0 && want > 0 ? pread(r->fd, buf, want, (off_t)r->body_sent) : 0;
        if (n <= 0) {
            if (r->body_sent == r->size || r->fd < 0) {
                quicc_stream_conclude(r->out, 0);
            } else {
                fprintf(stderr, "quicc-server: %s: the file changed while it was sent\n", sc->peer);
                quicc_stream_reset(r->out, 0x102); /* H3_INTERNAL_ERROR's number */
                r->error = 0x102;
                quicc_err_clear();
            }
            r->done = true;
            progress = true;
            break;
        }
        r->body_sent += (uint64_t)n;
        if (!quicc_write_ex(r->out, buf, (size_t)n, &w)) {
            quicc_err_clear();
            r->done = true;
            break;
        }
        sc->bytes += w;
        progress = true;
    }
    return progress;
}

static void req_free(sreq *r) {
    if (r->fd >= 0) close(r->fd);
    if (r->out && r->out != r->in) quicc_free(r->out);
    quicc_free(r->in);
    free(r);
}

static bool serve_raw(sconn *sc) {
    bool progress = false;
    quicc *st;
    while ((st = quicc_accept_stream(sc->conn, QUICC_ACCEPT_STREAM_NO_BLOCK)) != NULL) {
        sreq *r = calloc(1, sizeof(*r));
        if (!r) {
            quicc_free(st);
            break;
        }
        r->in = st;
        r->fd = -1;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        r->next = sc->reqs;
        sc->reqs = r;
        progress = true;
    }
    quicc_err_clear();
    sreq **pp = &sc->reqs;
    while (*pp) {
        sreq *r = *pp;
        if (!r->responding && !r->done) {
            size_t n = 0;
            while (r->len < sizeof(r->buf) - 1 &&
                   quicc_read_ex(r->in, r->buf + r->len, sizeof(r->buf) - 1 - r->len, &n)) {
                r->len += n;
                progress = true;
            }
            int e = quicc_get_error(r->in, 0);
            quicc_err_clear();
            r->buf[r->len] = 0;
            bool fin = e == QUICC_ERROR_ZERO_RETURN;
            bool complete = sc->proto == P_HTTP10 ? strstr(r->buf, "\r\n\r\n") != NULL
                                                  : (fin || strstr(r->buf, "\r\n") != NULL);
            if (complete || (fin && r->len))
                start_reply(sc, r);
            else if (fin || (e != QUICC_ERROR_WANT_READ && e != QUICC_ERROR_NONE) ||
                     r->len == sizeof(r->buf) - 1)
                r->done = true; /* reset, closed or oversized request */
        }
        if (pump_reply(sc, r)) progress = true;
        if (r->done) {
            *pp = r->next;
            if (r->responding)
                access_log(sc->peer, sc->proto, r->method, r->target, r->status,
                           r->fd >= 0 ? r->body_sent - r->body_start : 0, us_since(&r->t0),
                           r->error);
            req_free(r);
            continue;
        }
        pp = &r->next;
    }
    return progress;
}

/* ---- connections ---- */

static void log_close(sconn *sc) {
    if (opt.quiet) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs =
        (double)(now.tv_sec - sc->start.tv_sec) + (double)(now.tv_nsec - sc->start.tv_nsec) / 1e9;
    quicc_conn_close_info ci;
    char why[200] = "open";
    if (quicc_get_conn_close_info(sc->conn, &ci))
        snprintf(why, sizeof(why), "%s %s 0x%llx%s%.*s",
                 (ci.flags & QUICC_CONN_CLOSE_FLAG_LOCAL) ? "closed by server" : "closed by client",
                 (ci.flags & QUICC_CONN_CLOSE_FLAG_TRANSPORT) ? "transport" : "application",
                 (unsigned long long)ci.error_code, ci.reason_len ? ": " : "",
                 (int)(ci.reason_len > 60 ? 60 : ci.reason_len), ci.reason);
    uint64_t sent = 0, lost = 0, srtt = 0;
    quicc_get_value_uint(sc->conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_PACKETS_SENT, &sent);
    quicc_get_value_uint(sc->conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_PACKETS_LOST, &lost);
    quicc_get_value_uint(sc->conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_SMOOTHED_RTT_US,
                         &srtt);
    uint64_t kus = 0;
    quicc_get_value_uint(sc->conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_QUIC_KEY_UPDATES, &kus);
    char ecn[160];
    tool_ecn_summary(sc->conn, ecn, sizeof(ecn));
    uint64_t zrtt = 0;
    quicc_get_value_uint(sc->conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_0RTT_RECEIVED,
                         &zrtt);
    uint64_t moves = 0, failed = 0;
    quicc_get_value_uint(sc->conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_CONN_PATH_MIGRATIONS,
                         &moves);
    quicc_get_value_uint(sc->conn, QUICC_VALUE_CLASS_GENERIC,
                         QUICC_VALUE_CONN_PATH_VALIDATION_FAILURES, &failed);
    size_t el = strlen(ecn);
    snprintf(ecn + el, sizeof(ecn) - el, " zerortt=%llu migrations=%llu path_failures=%llu",
             (unsigned long long)zrtt, (unsigned long long)moves, (unsigned long long)failed);
    const char *cipher = quicc_get_current_cipher_name(sc->conn);
    printf("quicc-server: %s alpn=%s requests=%llu bytes=%llu duration=%.3fs packets=%llu "
           "lost=%llu rtt=%lluus cipher=%s resumed=%d key_updates=%llu version=%s %s %s\n",
           sc->peer, proto_names[sc->proto], (unsigned long long)sc->requests,
           (unsigned long long)sc->bytes, secs, (unsigned long long)sent, (unsigned long long)lost,
           (unsigned long long)srtt, cipher ? cipher : "-", quicc_session_reused(sc->conn),
           (unsigned long long)kus, tool_version_name(quicc_get_quic_version(sc->conn)), ecn, why);
    fflush(stdout);
}

static sconn *conn_setup(quicc *conn) {
    sconn *sc = calloc(1, sizeof(*sc));
    if (!sc) return NULL;
    sc->conn = conn;
    clock_gettime(CLOCK_MONOTONIC, &sc->start);
    quicc_set_blocking_mode(conn, 0);
    quicc_set_value_uint(conn, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                         QUICC_EVENT_HANDLING_MODE_EXPLICIT);
    quicc_set_default_stream_mode(conn, QUICC_DEFAULT_STREAM_MODE_NONE);
    quicc_set_incoming_stream_policy(conn, QUICC_INCOMING_STREAM_POLICY_ACCEPT, 0);
    const unsigned char *alpn;
    unsigned alen;
    quicc_get0_alpn_selected(conn, &alpn, &alen);
    if (alen == 2 && !memcmp(alpn, "h3", 2))
        sc->proto = P_H3;
    else if (alen == 10 && !memcmp(alpn, "hq-interop", 10))
        sc->proto = P_HQ;
    else
        sc->proto = P_HTTP10;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (quicc_get_peer_addr(conn, &ss, &sl)) {
        char host[64] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            snprintf(sc->peer, sizeof(sc->peer), "%s:%d", host, port);
        } else {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            snprintf(sc->peer, sizeof(sc->peer), "[%s]:%d", host, port);
        }
    }
    if (sc->proto == P_H3) {
        sc->h3 = quicc_h3_server_new(conn, opt.root);
        if (!sc->h3) {
            free(sc);
            return NULL;
        }
        quicc_h3_server_set_log_cb(sc->h3, h3_log, sc);
    }
    if (opt.verbose) printf("quicc-server: %s connected\n", sc->peer);
    return sc;
}

static void conn_free(sconn *sc) {
    if (sc->h3) quicc_h3_server_stats(sc->h3, &sc->requests, &sc->bytes);
    log_close(sc);
    if (sc->h3) quicc_h3_server_free(sc->h3);
    while (sc->reqs) {
        sreq *n = sc->reqs->next;
        req_free(sc->reqs);
        sc->reqs = n;
    }
    quicc_free(sc->conn);
    free(sc);
}

/* A port number: 0 to 65535 (0: any free port), digits only. */
static bool port_ok(const char *port) {
    size_t n = strspn(port, "0123456789");
    return n > 0 && n <= 5 && port[n] == 0 && strtol(port, NULL, 10) <= 65535;
}

/* A UDP socket bound to addr (an address or a host name: the first of its addresses that
 * binds) and port; its numeric address in shown. Returns the descriptor or -1. */
static int make_socket(const char *addr, const char *port, char *shown, size_t shown_len) {
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE}, *ai, *a;
    int rv = getaddrinfo(addr, port, &hints, &ai);
    if (rv) {
        fprintf(stderr, "quicc-server: cannot listen on %s: %s\n", addr, gai_strerror(rv));
        return -1;
    }
    int fd = -1, err = 0;
    for (a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int sz = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            close(fd);
            fd = -1;
            continue;
        }
        getnameinfo(a->ai_addr, a->ai_addrlen, shown, (socklen_t)shown_len, NULL, 0,
                    NI_NUMERICHOST);
    }
    if (fd < 0)
        fprintf(stderr, "quicc-server: cannot bind %s port %s: %s\n", addr, port, strerror(err));
    freeaddrinfo(ai);
    return fd;
}

/*
 * --cert-dir DIR: the development certificate kept there (cert.pem, key.pem) between runs,
 * made (with DIR, mode 0700) when missing or older than 25 days (it is valid for 30).
 * Returns 0 with the paths set, or -1 after saying why.
 */
static int cert_dir_setup(const char *dir, char *cert, char *key, size_t len) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "quicc-server: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(cert, len, "%s/cert.pem", dir);
    snprintf(key, len, "%s/key.pem", dir);
    struct stat cs, ks;
    bool fresh = stat(cert, &cs) == 0 && stat(key, &ks) == 0 && S_ISREG(cs.st_mode) &&
                 S_ISREG(ks.st_mode) && time(NULL) - cs.st_mtime < 25 * 86400;
    if (fresh) return 0;
    const char *names[] = {"localhost", "127.0.0.1", "::1"};
    if (!quicc_generate_self_signed_cert(cert, key, names, 3, 30)) {
        fprintf(stderr, "quicc-server: cannot make a certificate in %s: ", dir);
        quicc_err_print(stderr);
        return -1;
    }
    return 0;
}

/* The Interop Runner's server contract (docs/interop.md): false for an unsupported case. */
static bool testcase_supported(const char *name, bool *retry) {
    static const char *cases[] = {"handshake",
                                  "transfer",
                                  "longrtt",
                                  "blackhole",
                                  "transferloss",
                                  "transfercorruption",
                                  "goodput",
                                  "crosstraffic",
                                  "amplificationlimit",
                                  "ipv6",
                                  "multiplexing",
                                  "http3",
                                  "handshakeloss",
                                  "handshakecorruption",
                                  "multiconnect",
                                  "resumption",
                                  "chacha20",
                                  "keyupdate",
                                  "v2",
                                  "ecn",
                                  "zerortt",
                                  "rebind-port",
                                  "rebind-addr",
                                  "retry"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (!strcmp(name, cases[i])) {
            if (!strcmp(name, "retry")) *retry = true;
            return true;
        }
    return false;
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {{"root", required_argument, NULL, 'r'},
                                             {"cert", required_argument, NULL, 'c'},
                                             {"key", required_argument, NULL, 'k'},
                                             {"write-cert", required_argument, NULL, 'w'},
                                             {"cert-dir", required_argument, NULL, 'D'},
                                             {"log-format", required_argument, NULL, 'F'},
                                             {"retry", no_argument, NULL, 'R'},
                                             {"testcase", required_argument, NULL, 'T'},
                                             {"quic-versions", required_argument, NULL, 'V'},
                                             {"qlog-dir", required_argument, NULL, 'G'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 1000},
                                             {NULL, 0, NULL, 0}};
    const char *cert = NULL, *key = NULL, *write_cert = NULL, *versions = NULL, *qlog_dir = NULL;
    const char *cert_dir = NULL;
    bool retry = false;
    const char *testcase = getenv("TESTCASE");
    int c;
    while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            opt.root = optarg;
            break;
        case 'c':
            cert = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'w':
            write_cert = optarg;
            break;
        case 'D':
            cert_dir = optarg;
            break;
        case 'F':
            if (!strcmp(optarg, "json") || !strcmp(optarg, "common")) {
                opt.json_log = !strcmp(optarg, "json");
            } else {
                fprintf(stderr, "quicc-server: --log-format is common or json\n");
                return 2;
            }
            break;
        case 'R':
            retry = true;
            break;
        case 'T':
            testcase = optarg;
            break;
        case 'V':
            versions = optarg;
            break;
        case 'G':
            qlog_dir = optarg;
            break;
        case 'q':
            opt.quiet = true;
            break;
        case 'v':
            opt.verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 1000:
            tool_print_version("quicc-server");
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (testcase && *testcase && !testcase_supported(testcase, &retry)) {
        fprintf(stderr, "quicc-server: test case '%s' is not supported\n", testcase);
        return 127;
    }
    int nargs = argc - optind;
    if (nargs < 1 || nargs > 2 || (!cert) != (!key) || (cert_dir && (cert || write_cert))) {
        if (cert_dir && (cert || write_cert))
            fprintf(stderr, "quicc-server: --cert-dir goes without --cert, --key, --write-cert\n");
        usage(stderr);
        return 2;
    }
    const char *addr = nargs == 2 ? argv[optind] : "127.0.0.1";
    const char *port = argv[optind + nargs - 1];
    if (!port_ok(port)) {
        fprintf(stderr, "quicc-server: bad port '%s' (0 to 65535)\n", port);
        return 2;
    }
    struct stat st;
    if (stat(opt.root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "quicc-server: %s is not a directory\n", opt.root);
        return 2;
    }
    char tmpdir[] = "/tmp/quicc-server-XXXXXX", gcert[4200], gkey[4200];
    bool generated = false;
    if (cert_dir) {
        if (cert_dir_setup(cert_dir, gcert, gkey, sizeof(gcert)) != 0) return 1;
        cert = gcert;
        key = gkey;
    } else if (!cert) {
        if (!mkdtemp(tmpdir)) {
            perror("quicc-server: mkdtemp");
            return 1;
        }
        snprintf(gcert, sizeof(gcert), "%s/cert.pem", tmpdir);
        snprintf(gkey, sizeof(gkey), "%s/key.pem", tmpdir);
        const char *names[] = {"localhost", "127.0.0.1", "::1"};
        if (!quicc_generate_self_signed_cert(write_cert ? write_cert : gcert, gkey, names, 3, 30)) {
            fprintf(stderr, "quicc-server: cannot generate a certificate: ");
            quicc_err_print(stderr);
            return 1;
        }
        cert = write_cert ? write_cert : gcert;
        key = gkey;
        generated = true;
    }
    char shown[INET6_ADDRSTRLEN + 8] = "?";
    int fd = make_socket(addr, port, shown, sizeof(shown));
    if (fd < 0) return 1;
    quicc_ctx *ctx = quicc_ctx_new(QUICC_SERVER);
    static const unsigned char alpn[] = "\x02h3\x0ahq-interop\x08http/1.0";
    if (!ctx || !quicc_ctx_use_certificate_chain_file(ctx, cert) ||
        !quicc_ctx_use_PrivateKey_file(ctx, key) ||
        quicc_ctx_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
        quicc_err_print(stderr);
        return 1;
    }
    /* 0-RTT requests are accepted: every request here (GET) is safe to repeat. */
    quicc_ctx_set_max_early_data(ctx, 0xffffffffu);
    const char *qlog = qlog_dir ? qlog_dir : getenv("QLOGDIR");
    if (qlog && *qlog) quicc_ctx_set_qlog_dir(ctx, qlog);
    uint32_t vlist[4];
    size_t nv = versions ? tool_parse_versions(versions, vlist, 4) : 0;
    if (versions && (!nv || !quicc_ctx_set_quic_versions(ctx, vlist, nv))) {
        fprintf(stderr, "quicc-server: bad --quic-versions '%s' (v1, v2, v2draft)\n", versions);
        return 2;
    }
    quicc *l = quicc_new_listener(ctx, retry ? QUICC_LISTENER_FLAG_RETRY : 0);
    if (!l || !quicc_set_fd(l, fd) || !quicc_listen(l)) {
        quicc_err_print(stderr);
        return 1;
    }
    if (generated) {
        /* The key is loaded: remove the private key file (the certificate may stay). */
        unlink(gkey);
        if (!write_cert) unlink(gcert);
        rmdir(tmpdir);
    }
    quicc_set_blocking_mode(l, 0);
    quicc_set_value_uint(l, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_EVENT_HANDLING_MODE,
                         QUICC_EVENT_HANDLING_MODE_EXPLICIT);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    int bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                   : ((struct sockaddr_in6 *)&ss)->sin6_port);
    if (!opt.quiet || write_cert) {
        const char *shown_cert = write_cert ? write_cert : cert_dir ? gcert : NULL;
        printf("quicc-server: listening on %s port %d, serving %s%s%s\n", shown, bound_port,
               opt.root, shown_cert ? ", certificate in " : "", shown_cert ? shown_cert : "");
        fflush(stdout);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    sconn *conns = NULL;
    while (!stop) {
        quicc_handle_events(l);
        bool progress = false;
        quicc *conn;
        while ((conn = quicc_accept_connection(l, QUICC_ACCEPT_CONNECTION_NO_BLOCK)) != NULL) {
            sconn *sc = conn_setup(conn);
            if (!sc) {
                quicc_free(conn);
                continue;
            }
            sc->next = conns;
            conns = sc;
            progress = true;
        }
        quicc_err_clear();
        sconn **pp = &conns;
        while (*pp) {
            sconn *sc = *pp;
            if (sc->h3) {
                int rv = quicc_h3_server_pump(sc->h3);
                progress |= rv > 0;
            } else {
                progress |= serve_raw(sc);
            }
            if (!quicc_net_read_desired(sc->conn)) { /* closed: nothing more will arrive */
                *pp = sc->next;
                conn_free(sc);
                continue;
            }
            pp = &sc->next;
        }
        if (progress) continue;
        struct timeval tv;
        int inf = 0;
        quicc_get_event_timeout(l, &tv, &inf);
        int ms = inf ? 100 : (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
        if (ms > 100) ms = 100;
        struct pollfd p = {.fd = fd, .events = POLLIN | (quicc_net_write_desired(l) ? POLLOUT : 0)};
        poll(&p, 1, ms);
    }
    while (conns) {
        sconn *n = conns->next;
        quicc_shutdown_ex(conns->conn, QUICC_SHUTDOWN_FLAG_RAPID, NULL);
        conn_free(conns);
        conns = n;
    }
    uint64_t nretry = 0, resets = 0, vn = 0, dropped = 0;
    quicc_get_value_uint(l, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_RETRY_SENT, &nretry);
    quicc_get_value_uint(l, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_RESETS_SENT, &resets);
    quicc_get_value_uint(l, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_VN_SENT, &vn);
    quicc_get_value_uint(l, QUICC_VALUE_CLASS_GENERIC, QUICC_VALUE_LISTENER_DROPPED, &dropped);
    if (!opt.quiet)
        printf("quicc-server: stopping: retry=%llu stateless_reset=%llu version_negotiation=%llu "
               "dropped=%llu\n",
               (unsigned long long)nretry, (unsigned long long)resets, (unsigned long long)vn,
               (unsigned long long)dropped);
    quicc_free(l);
    quicc_ctx_free(ctx);
    close(fd);
    return 0;
}
