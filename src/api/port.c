/*
 * port.c: a port is one UDP socket and the event loop of every connection on it: a
 * client connection's own socket, or a listener's shared one.
 *
 * One turn of the loop (qc_api_port_turn):
 *   1. connections whose timer is due (the top of a min-heap) fire it;
 *   2. a batch of datagrams is received and each is routed by the port's owner
 *      (ops->route): to a connection, which then has work, or to a stateless reply;
 *   3. every connection with work (the ready list: it received data, fired a timer, or
 *      the application changed it through qc_api_touch) is run by the owner (ops->run:
 *      flush, policies, accept queue), and its timer is re-keyed in the heap.
 * The cost of a turn grows with the datagrams and the connections that have work, not
 * with the connections on the port. Everything here runs with the port's lock held,
 * except qc_api_port_new and qc_api_port_unref.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- time and randomness for the engines ---- */

qc_ts qc_api_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (qc_ts)ts.tv_sec * QC_SEC + (qc_ts)ts.tv_nsec;
}

void qc_api_rand(void *user, uint8_t *buf, size_t len) {
    (void)user;
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n <= 0) continue;
        buf += n;
        len -= (size_t)n;
    }
}

/* ---- the port itself ---- */

qc_api_port *qc_api_port_new(void) {
    qc_api_port *p = qc_calloc(1, sizeof(*p));
    if (!p) return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->progress, &ca);
    pthread_condattr_destroy(&ca);
    p->refs = 1;
    p->fd = -1;
    return p;
}

int qc_api_port_buffers(qc_api_port *p, size_t seg_cap) {
    if (p->tx.buf) return 0;
    p->tx.seg_cap = seg_cap;
    p->tx.buf = qc_malloc(QC_UDP_BATCH * seg_cap);
    if (!p->tx.buf || qc_udp_rx_init(&p->rx) != 0) return QC_ERR_NOMEM;
    return 0;
}

void qc_api_port_unref(qc_api_port *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    int refs = --p->refs;
    pthread_mutex_unlock(&p->lock);
    if (refs > 0) return;
    if (p->own_fd && p->fd >= 0) qc_udp_close(p->fd);
    qc_free(p->tx.buf);
    qc_udp_rx_free(&p->rx);
    if (p->ep_ready) qc_endpoint_free(&p->ep);
    if (p->tls_ctx) qc_tls_ctx_free(p->tls_ctx);
    qc_free(p->accept_q);
    qc_free(p->heap);
    pthread_cond_destroy(&p->progress);
    pthread_mutex_destroy(&p->lock);
    qc_free(p);
}

/* ---- the timer heap: connections by their next timer, earliest first ---- */

static void heap_place(qc_api_port *p, size_t i, qc_api_conn *c) {
    p->heap[i] = c;
    c->heap_idx = i;
}

static void heap_up(qc_api_port *p, size_t i) {
    qc_api_conn *c = p->heap[i];
    while (i > 0 && p->heap[(i - 1) / 2]->timer_at > c->timer_at) {
        heap_place(p, i, p->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_place(p, i, c);
}

static void heap_down(qc_api_port *p, size_t i) {
    qc_api_conn *c = p->heap[i];
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= p->heap_len) break;
        if (k + 1 < p->heap_len && p->heap[k + 1]->timer_at < p->heap[k]->timer_at) k++;
        if (p->heap[k]->timer_at >= c->timer_at) break;
        heap_place(p, i, p->heap[k]);
        i = k;
    }
    heap_place(p, i, c);
}

static void heap_remove(qc_api_port *p, qc_api_conn *c) {
    size_t i = c->heap_idx;
    if (i == SIZE_MAX) return;
    c->heap_idx = SIZE_MAX;
    qc_api_conn *last = p->heap[--p->heap_len];
    if (last == c) return;
    heap_place(p, i, last);
    heap_up(p, i);
    heap_down(p, last->heap_idx);
}

/* Keys c by t (QC_TS_NONE: out of the heap). Fails only when the heap cannot grow. */
static int heap_set(qc_api_port *p, qc_api_conn *c, qc_ts t) {
    if (t == QC_TS_NONE) {
        heap_remove(p, c);
        return 0;
    }
    if (c->heap_idx != SIZE_MAX) {
        qc_ts old = c->timer_at;
        c->timer_at = t;
        if (t < old) heap_up(p, c->heap_idx);
        if (t > old) heap_down(p, c->heap_idx);
        return 0;
    }
    if (p->heap_len == p->heap_cap) {
        size_t ncap = p->heap_cap ? 2 * p->heap_cap : 8;
        qc_api_conn **h = qc_realloc(p->heap, ncap * sizeof(*h));
        if (!h) return QC_ERR_NOMEM;
        p->heap = h;
        p->heap_cap = ncap;
    }
    c->timer_at = t;
    heap_place(p, p->heap_len++, c);
    heap_up(p, c->heap_idx);
    return 0;
}

/* ---- the ready list: connections with work for this or the next turn ---- */

static void ready_push(qc_api_port *p, qc_api_conn *c) {
    if (c->ready) return;
    c->ready = true;
    c->ready_next = NULL;
    c->ready_prev = p->ready_tail;
    if (p->ready_tail)
        p->ready_tail->ready_next = c;
    else
        p->ready_head = c;
    p->ready_tail = c;
}

static void ready_unlink(qc_api_port *p, qc_api_conn *c) {
    if (!c->ready) return;
    c->ready = false;
    if (c->ready_prev)
        c->ready_prev->ready_next = c->ready_next;
    else
        p->ready_head = c->ready_next;
    if (c->ready_next)
        c->ready_next->ready_prev = c->ready_prev;
    else
        p->ready_tail = c->ready_prev;
    c->ready_next = c->ready_prev = NULL;
}

/* ---- connections on the port ---- */

int qc_api_port_add(qc_api_port *p, qc_api_conn *c) {
    c->heap_idx = SIZE_MAX;
    c->port_prev = NULL;
    c->port_next = p->conns;
    if (p->conns) p->conns->port_prev = c;
    p->conns = c;
    c->on_port = true;
    ready_push(p, c); /* it has its first flight to send, or its first datagram to answer */
    return heap_set(p, c, qc_conn_next_timeout(c->engine));
}

void qc_api_port_remove(qc_api_port *p, qc_api_conn *c) {
    if (!c->on_port) return;
    c->on_port = false;
    heap_remove(p, c);
    ready_unlink(p, c);
    if (c->port_prev)
        c->port_prev->port_next = c->port_next;
    else
        p->conns = c->port_next;
    if (c->port_next) c->port_next->port_prev = c->port_prev;
    c->port_next = c->port_prev = NULL;
}

void qc_api_touch(qc_api_conn *c) {
    if (c->on_port) ready_push(c->port, c);
}

/* A server sends where its engine says: the active path's address (it changes when the
 * client moves, and back if the new path fails validation), and first a PATH_RESPONSE to
 * a challenge from another address, there. */
static void server_paths(qc_api_conn *c, qc_ts now) {
    const qc_path_addr *pa = qc_conn_peer_addr(c->engine);
    qc_path_addr cur;
    qc_addr_to_path(&c->peer, &cur);
    if (pa->ip_len && !qc_path_addr_eq(pa, &cur)) qc_addr_from_path(pa, &c->peer);
    uint8_t buf[1500];
    qc_path_addr to;
    int n = qc_conn_send_probe(c->engine, buf, sizeof(buf), &to, now);
    if (n > 0) {
        qc_addr a;
        qc_addr_from_path(&to, &a);
        qc_api_port_reply(c->port, buf, (size_t)n, &a);
    }
}

/* Sends what the engine has, in batches to the connection's peer, then re-keys its timer.
 * A connection the socket could not take all from stays ready (the wait asks for POLLOUT),
 * and so does one that stopped at the round limit with more to send. */
void qc_api_conn_flush(qc_api_conn *c, qc_ts now) {
    qc_api_port *p = c->port;
    bool more = false;
    if (p->is_server && !p->has_transport) server_paths(c, now);
    for (int rounds = 0;; rounds++) {
        if (p->tx.sent < p->tx.count) {
            int rv = p->has_transport ? qc_transport_send_batch(&p->transport, &p->tx_dst, &p->tx)
                                      : qc_udp_send_batch(p->fd, p->connected ? NULL : &p->tx_dst,
                                                          &p->tx, p->udp_features);
            if (rv == -EAGAIN) {
                p->tx_blocked = true;
                more = true;
                break;
            }
            if (rv < 0 && p->has_transport) p->net_error = -rv; /* the transport said: for good */
        }
        p->tx_blocked = false;
        p->tx.count = p->tx.sent = 0;
        if (rounds == 64) {
            more = qc_conn_want_send(c->engine, now);
            break;
        }
        p->tx_dst = c->peer;
        p->tx.ecn = (uint8_t)qc_conn_ecn_mark(c->engine);
        while (p->tx.count < QC_UDP_BATCH) {
            int n = qc_conn_send(c->engine, p->tx.buf + p->tx.count * p->tx.seg_cap, p->tx.seg_cap,
                                 now);
            if (n <= 0) break;
            p->tx.len[p->tx.count++] = (size_t)n;
        }
        if (p->tx.count == 0) break;
    }
    if (!c->on_port) return;
    if (more || heap_set(p, c, qc_conn_next_timeout(c->engine)) != 0) ready_push(p, c);
}

void qc_api_port_reply(qc_api_port *p, const uint8_t *data, size_t len, const qc_addr *peer) {
    if (p->has_transport)
        (void)qc_transport_send_one(&p->transport, peer, data, len);
    else
        (void)qc_udp_send_one(p->fd, p->connected ? NULL : peer, data, len);
}

qc_ts qc_api_rx_time(qc_api_port *p, qc_ts now, const qc_udp_dgram *d) {
    qc_ts t = d->waited_ns < now ? now - d->waited_ns : now;
    if (t < p->last_event) t = p->last_event;
    p->last_event = t;
    return t;
}

/* ---- the loop ---- */

/* Tells threads waiting on the port that its state may have changed. */
static void port_progress(qc_api_port *p) {
    p->gen++;
    pthread_cond_broadcast(&p->progress);
}

/* Runs the connections that had work when the turn began; those given work meanwhile wait
 * for the next turn. ops->run may free the connection. */
static void run_ready(qc_api_port *p, qc_ts now) {
    size_t n = 0;
    for (qc_api_conn *c = p->ready_head; c; c = c->ready_next)
        n++;
    while (n-- > 0 && p->ready_head) {
        qc_api_conn *c = p->ready_head;
        ready_unlink(p, c);
        if (now >= qc_conn_next_timeout(c->engine)) qc_conn_on_timeout(c->engine, now);
        p->runs++;
        p->ops->run(p, c, now);
    }
}

void qc_api_port_turn(qc_api_port *p) {
    if (!p->ops) return;
    p->turns++;
    qc_ts now = qc_api_now();
    /* Timers that expired while the application was away fire first: an idle connection is
     * dead even if datagrams are waiting in the socket. */
    while (p->heap_len > 0 && p->heap[0]->timer_at <= now) {
        qc_api_conn *c = p->heap[0];
        heap_remove(p, c);
        qc_conn_on_timeout(c->engine, now);
        ready_push(p, c);
        if (p->last_event < now) p->last_event = now; /* the engine has seen now */
    }
    for (int rounds = 0; rounds < 64 && !p->net_error; rounds++) {
        int n = p->has_transport ? qc_transport_recv_batch(&p->transport, &p->rx)
                                 : qc_udp_recv_batch(p->fd, &p->rx);
        if (n < 0) {
            if (n == -EINTR) continue;
            if (n == -ECONNREFUSED || n == -EHOSTUNREACH || n == -ENETUNREACH) {
                if (p->ops->unreachable) p->ops->unreachable(p, -n);
                continue; /* ICMP errors: the owner decides (see client_unreachable) */
            }
            p->net_error = -n; /* the socket failed: its objects report it */
            break;
        }
        if (n == 0) break;
        now = qc_api_now();
        for (int i = 0; i < n; i++) {
            qc_api_conn *c = p->ops->route(p, &p->rx.d[i], now);
            if (c) ready_push(p, c);
        }
        if (n < (int)QC_UDP_RX_MSGS) break;
    }
    now = qc_api_now();
    run_ready(p, now);
    if (p->last_event < now) p->last_event = now;
    port_progress(p);
}

void qc_api_port_inject(qc_api_port *p, uint8_t *data, size_t len, const qc_addr *peer) {
    if (!p->ops) return;
    qc_udp_dgram d = {.data = data, .len = len, .peer = *peer};
    qc_api_conn *c = p->ops->route(p, &d, qc_api_now());
    if (c) ready_push(p, c);
    qc_api_port_turn(p);
}

qc_ts qc_api_port_next_timeout(qc_api_port *p) {
    if (p->ready_head && !p->tx_blocked) return 0;
    return p->heap_len > 0 ? p->heap[0]->timer_at : QC_TS_NONE;
}

int qc_api_port_wait(qc_api_port *p, qc_ts deadline) {
    qc_ts now = qc_api_now(), t = QC_MIN(deadline, qc_api_port_next_timeout(p));
    int ms;
    if (t == QC_TS_NONE)
        ms = 1000;
    else if (t <= now)
        ms = 0;
    else
        ms = (int)QC_MIN((t - now + QC_MS - 1) / QC_MS, 1000);
    if (p->polling && ms > 0) {
        /* Another thread watches the socket: wait until it (or anyone) makes progress. */
        uint64_t gen = p->gen;
        qc_ts until = now + (qc_ts)ms * QC_MS;
        struct timespec ts = {.tv_sec = (time_t)(until / QC_SEC),
                              .tv_nsec = (long)(until % QC_SEC)};
        while (p->gen == gen && p->polling)
            if (pthread_cond_timedwait(&p->progress, &p->lock, &ts) != 0) break;
        /* No progress by the time our own timer is due: do the work ourselves. */
        if (p->gen == gen) qc_api_port_turn(p);
        return 0;
    }
    p->polling = true;
    struct pollfd pfd = {.fd = p->fd, .events = POLLIN | (p->tx_blocked ? POLLOUT : 0)};
    pthread_mutex_unlock(&p->lock);
    int r = poll(&pfd, 1, ms);
    pthread_mutex_lock(&p->lock);
    p->polling = false;
    if (r < 0 && errno != EINTR) {
        p->net_error = errno;
        port_progress(p);
        return -1;
    }
    qc_api_port_turn(p);
    return 0;
}

bool qc_api_block_until(quicc *s, unsigned flags, bool (*done)(quicc *s, void *arg), void *arg,
                        qc_ts deadline) {
    qc_api_port *p = s->c->port;
    bool blocking = s->blocking && !(flags & QC_API_WAIT_NO_BLOCK);
    bool may_turn = !s->c->explicit_events || (flags & QC_API_WAIT_TURN);
    /* Before quicc_connect returns in 0-RTT mode, a nonblocking call only sends (as io_tick):
     * reading the server's answer now could complete the handshake, and what the
     * application writes next would leave in 1-RTT instead of 0-RTT. */
    bool send_only = s->c->early_mode && !s->c->connected && !(flags & QC_API_WAIT_TURN);
    bool turned = false;
    for (;;) {
        if (done(s, arg)) return true;
        if (p->net_error) return false;
        if (!blocking) {
            if (turned || !may_turn) return false;
            if (send_only)
                qc_api_conn_flush(s->c, qc_api_now());
            else
                qc_api_port_turn(p);
            turned = true;
            continue;
        }
        if (deadline != QC_TS_NONE && qc_api_now() >= deadline) return false;
        qc_api_port_wait(p, deadline);
    }
}
