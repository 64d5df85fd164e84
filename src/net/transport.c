/*
 * transport.c: the datagram path over an application's transport, and the
 * in-memory datagram pair. A transport's send and recv take arrays of
 * quicc_dgram; these adapters map the engine's batches onto them, so that
 * the port (src/api/port.c) moves datagrams the same way over a socket or
 * over a transport.
 */
#include "net/transport.h"

#include "core/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int qc_transport_send_batch(const quicc_transport *t, const qc_addr *dst, qc_udp_batch *b) {
    while (b->sent < b->count) {
        quicc_dgram d[QC_UDP_BATCH];
        size_t n = 0;
        for (size_t k = b->sent; k < b->count; k++, n++) {
            d[n].data = b->buf + k * b->seg_cap;
            d[n].len = b->len[k];
            memcpy(&d[n].peer, &dst->ss, dst->len);
            d[n].peer_len = dst->len;
            d[n].ecn = b->ecn;
        }
        int r = t->send(t->user, d, n);
        if (r < 0) {
            b->sent = b->count; /* a failed transport loses the batch, as a socket would */
            return -EIO;
        }
        if (r == 0) return -EAGAIN;
        b->sent += (size_t)r > n ? n : (size_t)r;
    }
    return 0;
}

int qc_transport_send_one(const quicc_transport *t, const qc_addr *dst, const uint8_t *data,
                          size_t len) {
    quicc_dgram d = {.data = (unsigned char *)data, .len = len, .peer_len = dst->len};
    memcpy(&d.peer, &dst->ss, dst->len);
    int r = t->send(t->user, &d, 1);
    return r < 0 ? -EIO : r == 0 ? -EAGAIN : 0;
}

int qc_transport_recv_batch(const quicc_transport *t, qc_udp_rx *rx) {
    quicc_dgram d[QC_UDP_RX_MSGS];
    for (size_t i = 0; i < QC_UDP_RX_MSGS; i++) {
        memset(&d[i], 0, sizeof(d[i]));
        d[i].data = rx->buf + i * QC_UDP_RX_MSG_SIZE;
        d[i].len = QC_UDP_RX_MSG_SIZE;
    }
    rx->count = 0;
    int r = t->recv(t->user, d, QC_UDP_RX_MSGS);
    if (r < 0) return -EIO;
    for (int i = 0; i < r && i < QC_UDP_RX_MSGS; i++) {
        qc_udp_dgram *o = &rx->d[rx->count++];
        o->data = d[i].data;
        o->len = d[i].len > QC_UDP_RX_MSG_SIZE ? QC_UDP_RX_MSG_SIZE : d[i].len;
        memcpy(&o->peer.ss, &d[i].peer, sizeof(d[i].peer));
        o->peer.len = d[i].peer_len;
        o->waited_ns = 0;
        o->ecn = d[i].ecn & 3;
    }
    return (int)rx->count;
}

/* ---- the in-memory datagram pair ---- */

typedef struct pair_msg {
    size_t len;
    unsigned char ecn; /* the pair carries ECN marks as a network would */
    unsigned char data[];
} pair_msg;

/* One direction: a ring of datagrams, and the eventfd of the end that receives them. */
typedef struct pair_queue {
    pair_msg **ring;
    size_t head, len;
    int efd;
} pair_queue;

typedef struct pair_end {
    struct quicc_dgram_pair *pair;
    int id;
} pair_end;

struct quicc_dgram_pair {
    pthread_mutex_t lock;
    size_t cap;
    pair_queue q[2]; /* q[i]: datagrams for end i */
    pair_end ends[2];
    struct sockaddr_in addr[2];
};

static int pair_send(void *user, const quicc_dgram *d, size_t n) {
    pair_end *e = user;
    struct quicc_dgram_pair *p = e->pair;
    pair_queue *q = &p->q[1 - e->id];
    pthread_mutex_lock(&p->lock);
    bool was_empty = q->len == 0;
    for (size_t i = 0; i < n; i++) {
        if (q->len == p->cap || d[i].len > 65535) continue; /* full: dropped, as on a wire */
        pair_msg *m = qc_malloc(sizeof(*m) + d[i].len);
        if (!m) continue;
        m->len = d[i].len;
        m->ecn = d[i].ecn & 3;
        memcpy(m->data, d[i].data, d[i].len);
        q->ring[(q->head + q->len++) % p->cap] = m;
    }
    bool wake = was_empty && q->len > 0;
    pthread_mutex_unlock(&p->lock);
    if (wake) {
        uint64_t one = 1;
        ssize_t w = write(q->efd, &one, sizeof(one));
        (void)w;
    }
    return (int)n;
}

static int pair_recv(void *user, quicc_dgram *d, size_t n) {
    pair_end *e = user;
    struct quicc_dgram_pair *p = e->pair;
    pair_queue *q = &p->q[e->id];
    pthread_mutex_lock(&p->lock);
    size_t got = 0;
    while (got < n && q->len > 0) {
        pair_msg *m = q->ring[q->head];
        q->head = (q->head + 1) % p->cap;
        q->len--;
        size_t len = m->len < d[got].len ? m->len : d[got].len;
        memcpy(d[got].data, m->data, len);
        d[got].len = len;
        d[got].ecn = m->ecn;
        memcpy(&d[got].peer, &p->addr[1 - e->id], sizeof(p->addr[0]));
        d[got].peer_len = sizeof(p->addr[0]);
        qc_free(m);
        got++;
    }
    if (q->len == 0) {
        uint64_t v;
        ssize_t r = read(q->efd, &v, sizeof(v)); /* nothing left: no longer readable */
        (void)r;
    }
    pthread_mutex_unlock(&p->lock);
    return (int)got;
}

quicc_dgram_pair *quicc_dgram_pair_new(size_t capacity) {
    struct quicc_dgram_pair *p = qc_calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->cap = capacity ? capacity : 4096;
    pthread_mutex_init(&p->lock, NULL);
    for (int i = 0; i < 2; i++) {
        p->q[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        p->q[i].ring = qc_calloc(p->cap, sizeof(pair_msg *));
        p->ends[i] = (pair_end){p, i};
        /* Addresses the ends appear to have: 127.0.0.1, ports 1 and 2 (never on the wire). */
        p->addr[i].sin_family = AF_INET;
        p->addr[i].sin_port = htons((uint16_t)(i + 1));
        p->addr[i].sin_addr.s_addr = htonl(0x7f000001);
        if (p->q[i].efd < 0 || !p->q[i].ring) {
            quicc_dgram_pair_free(p);
            return NULL;
        }
    }
    return p;
}

void quicc_dgram_pair_free(quicc_dgram_pair *p) {
    if (!p) return;
    for (int i = 0; i < 2; i++) {
        pair_queue *q = &p->q[i];
        while (q->ring && q->len > 0) {
            qc_free(q->ring[q->head]);
            q->head = (q->head + 1) % p->cap;
            q->len--;
        }
        qc_free(q->ring);
        if (q->efd >= 0) close(q->efd);
    }
    pthread_mutex_destroy(&p->lock);
    qc_free(p);
}

int quicc_dgram_pair_transport(quicc_dgram_pair *p, int end, quicc_transport *t) {
    if (!p || !t || (end != 0 && end != 1)) return 0;
    t->send = pair_send;
    t->recv = pair_recv;
    t->fd = p->q[end].efd;
    t->user = &p->ends[end];
    return 1;
}

int quicc_dgram_pair_addr(const quicc_dgram_pair *p, int end, struct sockaddr_storage *addr,
                          socklen_t *len) {
    if (!p || !addr || !len || (end != 0 && end != 1)) return 0;
    memset(addr, 0, sizeof(*addr));
    memcpy(addr, &p->addr[end], sizeof(p->addr[end]));
    *len = sizeof(p->addr[end]);
    return 1;
}
