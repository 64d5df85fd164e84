/*
 * quicc-test-server: a small file server on the engine for the tool tests:
 * hq-interop (HTTP/0.9: "GET /path" then FIN; the file, then FIN) and
 * http/1.0 (the OpenSSL guide demo protocol: a request ends at the blank
 * line; "HTTP/1.0 200 ok" + headers + file, FIN; a request that came on a
 * client uni stream is answered on a new server uni stream). Missing files
 * get 404 (http/1.0) or a reset with code 0x10 (hq-interop).
 *
 * usage: quicc-test-server ROOT CERT KEY  (prints "port N" once listening on 127.0.0.1)
 * It serves until it receives SIGTERM, for at most 300 seconds.
 */
#include "core/conn_internal.h"
#include "net/udp.h"
#include "tls/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define MAX_REQS 256

typedef struct req {
    uint64_t sid, reply_sid;
    char buf[4096];
    size_t len;
    bool responding, done;
    int fd;
    char head[256];
    size_t head_len, head_sent;
} req;

typedef struct sconn {
    qc_conn *c;
    qc_addr peer;
    const uint8_t *alpn;
    size_t alpn_len;
    req reqs[MAX_REQS];
    size_t nreqs;
} sconn;

static volatile sig_atomic_t stop;
static void on_term(int sig) {
    (void)sig;
    stop = 1;
}

static qc_ts now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (qc_ts)ts.tv_sec * QC_SEC + (qc_ts)ts.tv_nsec;
}

static void rnd(void *u, uint8_t *b, size_t n) {
    (void)u;
    while (n) {
        ssize_t r = getrandom(b, n, 0);
        if (r > 0) {
            b += r;
            n -= (size_t)r;
        }
    }
}

static const char *root;

/* Opens ROOT/path (no "..") or returns -1. */
static int open_file(const char *path) {
    if (strstr(path, "..") || path[0] != '/') return -1;
    char full[4096];
    snprintf(full, sizeof(full), "%s%s", root, path);
    return open(full, O_RDONLY);
}

static void start_reply(sconn *s, req *r, bool http10) {
    char path[2048] = "";
    if (http10) {
        sscanf(r->buf, "GET %2047s", path);
    } else {
        size_t n = strcspn(r->buf, "\r\n");
        if (n > 4 && !strncmp(r->buf, "GET ", 4) && n - 4 < sizeof(path)) {
            memcpy(path, r->buf + 4, n - 4);
            path[n - 4] = 0;
        }
    }
    r->fd = open_file(path);
    r->reply_sid = r->sid;
    if (http10 && qc_sid_is_uni(r->sid)) {
        if (qc_conn_stream_open(s->c, true, true, &r->reply_sid) != 0) {
            r->done = true;
            return;
        }
    }
    if (http10) {
        r->head_len = (size_t)snprintf(r->head, sizeof(r->head), "%s",
                                       r->fd >= 0 ? "HTTP/1.0 200 ok\r\nContent-type: "
                                                    "application/octet-stream\r\n\r\n"
                                                  : "HTTP/1.0 404 not found\r\n\r\nnot found\n");
    } else if (r->fd < 0) {
        qc_conn_stream_reset(s->c, r->reply_sid, 0x10);
        r->done = true;
        return;
    }
    r->responding = true;
}

static void pump_reply(sconn *s, req *r) {
    static uint8_t buf[65536];
    while (r->responding && !r->done) {
        if (r->head_sent < r->head_len) {
            int64_t n = qc_conn_stream_write(s->c, r->reply_sid, (uint8_t *)r->head + r->head_sent,
                                             r->head_len - r->head_sent, false);
            if (n <= 0) return;
            r->head_sent += (size_t)n;
            continue;
        }
        size_t avail = qc_conn_stream_write_avail(s->c, r->reply_sid);
        if (avail == 0) return;
        ssize_t n = 0;
        if (r->fd >= 0) {
            n = read(r->fd, buf, avail < sizeof(buf) ? avail : sizeof(buf));
            if (n < 0) n = 0;
        }
        bool fin = n == 0;
        int64_t w = qc_conn_stream_write(s->c, r->reply_sid, buf, (size_t)n, fin);
        if (w < 0 || fin) {
            if (r->fd >= 0) close(r->fd);
            r->fd = -1;
            r->done = true;
            qc_conn_stream_release(s->c, r->reply_sid);
            if (r->reply_sid != r->sid) qc_conn_stream_release(s->c, r->sid);
        }
    }
}

static void serve(sconn *s) {
    bool http10 = s->alpn_len == 8 && !memcmp(s->alpn, "http/1.0", 8);
    uint64_t sid;
    while (qc_conn_stream_accept(s->c, &sid)) {
        if (s->nreqs == MAX_REQS) {
            qc_conn_stream_reset(s->c, sid, 0x11);
            qc_conn_stream_release(s->c, sid);
            continue;
        }
        req *r = &s->reqs[s->nreqs++];
        memset(r, 0, sizeof(*r));
        r->sid = sid;
        r->fd = -1;
    }
    for (size_t i = 0; i < s->nreqs; i++) {
        req *r = &s->reqs[i];
        if (r->done) continue;
        if (!r->responding) {
            bool fin = false;
            int64_t n = qc_conn_stream_read(s->c, r->sid, (uint8_t *)r->buf + r->len,
                                            sizeof(r->buf) - 1 - r->len, &fin);
            if (n > 0) r->len += (size_t)n;
            r->buf[r->len] = 0;
            bool complete = http10 ? strstr(r->buf, "\r\n\r\n") != NULL
                                   : (fin || strstr(r->buf, "\r\n") != NULL);
            if (complete)
                start_reply(s, r, http10);
            else if (fin || n < 0 || r->len == sizeof(r->buf) - 1) {
                r->done = true;
                qc_conn_stream_release(s->c, r->sid);
            }
        }
        pump_reply(s, r);
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s ROOT CERT KEY\n", argv[0]);
        return 2;
    }
    root = argv[1];
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    const char *alpns[] = {"hq-interop", "http/1.0"};
    qc_tls_ctx_config tc = {.is_server = true,
                            .alpn = alpns,
                            .alpn_count = 2,
                            .cert_file = argv[2],
                            .key_file = argv[3]};
    char err[256];
    qc_tls_ctx *tls = qc_tls_ctx_new(&tc, err, sizeof(err));
    if (!tls) {
        fprintf(stderr, "tls: %s\n", err);
        return 1;
    }
    qc_addr local = {.len = sizeof(struct sockaddr_in)};
    struct sockaddr_in *sin = (struct sockaddr_in *)&local.ss;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = qc_udp_open(NULL, &local, false);
    if (fd < 0) return 1;
    socklen_t sl = sizeof(local.ss);
    getsockname(fd, (struct sockaddr *)&local.ss, &sl);
    printf("port %d\n", ntohs(sin->sin_port));
    fflush(stdout);
    qc_udp_rx rx;
    qc_udp_rx_init(&rx);
    static sconn conns[MAX_CONNS];
    qc_conn_config cfg;
    qc_conn_config_default(&cfg, true);
    cfg.crypto = &qc_gnutls_crypto;
    cfg.rand = rnd;
    qc_ts deadline = now_ns() + 300 * QC_SEC;
    while (!stop && now_ns() < deadline) {
        qc_ts next = now_ns() + 100 * QC_MS;
        for (int i = 0; i < MAX_CONNS; i++)
            if (conns[i].c) next = QC_MIN(next, qc_conn_next_timeout(conns[i].c));
        qc_ts t = now_ns();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, next > t ? (int)((next - t) / QC_MS) + 1 : 0);
        int n = qc_udp_recv_batch(fd, &rx);
        for (int k = 0; k < n; k++) {
            qc_udp_dgram *d = &rx.d[k];
            qc_pkt_hdr h;
            int prv = qc_pkt_parse(d->data, d->len, cfg.scid_len, &h);
            if (prv != 0) continue;
            sconn *s = NULL;
            for (int i = 0; i < MAX_CONNS && !s; i++)
                if (conns[i].c && (qc_cids_is_local(&conns[i].c->cids, &h.dcid) ||
                                   qc_cid_eq(&h.dcid, &conns[i].c->ids.initial_dcid)))
                    s = &conns[i];
            if (!s) {
                if (h.type != QC_PT_INITIAL || d->len < QC_MIN_INITIAL_SIZE) continue;
                for (int i = 0; i < MAX_CONNS && !s; i++)
                    if (!conns[i].c) s = &conns[i];
                if (!s) continue;
                memset(s, 0, sizeof(*s));
                qc_cid scid = {.len = (uint8_t)cfg.scid_len};
                rnd(NULL, scid.id, scid.len);
                if (qc_conn_new_server(&s->c, &cfg, &h, &scid, NULL, NULL, false, now_ns()) != 0)
                    continue;
                qc_hs_callbacks cbs;
                qc_conn_hs_callbacks(s->c, &cbs);
                qc_hs hs;
                if (qc_tls_new(tls, NULL, &cbs, &hs) != 0 || qc_conn_set_hs(s->c, hs) != 0) {
                    qc_conn_free(s->c);
                    s->c = NULL;
                    continue;
                }
                s->peer = d->peer;
            }
            qc_conn_recv(s->c, d->data, d->len, now_ns());
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            sconn *s = &conns[i];
            if (!s->c) continue;
            qc_ts now = now_ns();
            if (now >= qc_conn_next_timeout(s->c)) qc_conn_on_timeout(s->c, now);
            if (!s->alpn && qc_conn_is_established(s->c))
                s->alpn = s->c->hs.ops->alpn(s->c->hs.impl, &s->alpn_len);
            if (s->alpn) serve(s);
            uint8_t out[1500];
            for (int k = 0; k < 4096; k++) {
                int len = qc_conn_send(s->c, out, sizeof(out), now);
                if (len <= 0) break;
                sendto(fd, out, (size_t)len, 0, (struct sockaddr *)&s->peer.ss, s->peer.len);
            }
            if (qc_conn_state(s->c) == QC_CONN_CLOSED) {
                for (size_t r = 0; r < s->nreqs; r++)
                    if (s->reqs[r].fd >= 0) close(s->reqs[r].fd);
                qc_conn_free(s->c);
                s->c = NULL;
            }
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].c) {
            for (size_t r = 0; r < conns[i].nreqs; r++)
                if (conns[i].reqs[r].fd >= 0) close(conns[i].reqs[r].fd);
            qc_conn_free(conns[i].c);
        }
    qc_udp_rx_free(&rx);
    qc_tls_ctx_free(tls);
    close(fd);
    return 0;
}
