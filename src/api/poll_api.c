/*
 * poll_api.c: quicc_poll, one wait over many connection, stream and
 * listener objects (OpenSSL's SSL_poll). Events are level-triggered: each
 * turn computes them from the objects' current state, after letting every
 * port involved process its network input and timers.
 */
#include "api/api_internal.h"
#include "core/stream.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#define ITEM(items, stride, i) ((quicc_poll_item *)((char *)(items) + (i) * (stride)))

static bool conn_terminating(const qc_api_conn *c) {
    return c->port->net_error || (c->engine && qc_conn_state(c->engine) >= QC_CONN_CLOSING);
}

/* Events of one stream of a connection. Lock held. */
static uint64_t stream_events(qc_api_conn *c, uint64_t sid) {
    qc_stream_info info;
    if (sid == UINT64_MAX || !c->engine || qc_conn_stream_info(c->engine, sid, &info) != 0)
        return 0;
    uint64_t ev = 0;
    if (info.recv_state != QC_RECV_NONE) {
        bool fin = false;
        size_t n = qc_conn_stream_readable(c->engine, sid, &fin);
        if (info.reset_recvd)
            ev |= QUICC_POLL_EVENT_ER;
        else if (n > 0 || (fin && info.recv_state != QC_RECV_DATA_READ))
            ev |= QUICC_POLL_EVENT_R;
    }
    if (info.send_state != QC_SEND_NONE) {
        if (info.stop_sending_recvd)
            ev |= QUICC_POLL_EVENT_EW;
        else if (!conn_terminating(c) && !info.reset_sent && !info.send_concluded &&
                 (info.send_state == QC_SEND_READY || info.send_state == QC_SEND_SEND) &&
                 qc_conn_stream_write_avail(c->engine, sid) > 0)
            ev |= QUICC_POLL_EVENT_W;
    }
    return ev;
}

/* Connection-level events. Lock held. */
static uint64_t conn_events(qc_api_conn *c) {
    if (!c->engine && !c->port->net_error) return 0;
    uint64_t ev = 0;
    if (conn_terminating(c)) {
        ev |= QUICC_POLL_EVENT_EC;
        if (c->port->net_error || qc_conn_state(c->engine) == QC_CONN_CLOSED)
            ev |= QUICC_POLL_EVENT_ECD;
        return ev;
    }
    if (!c->connected) return 0;
    qc_api_apply_incoming_policy(c);
    if (qc_conn_stream_incoming(c->engine, false)) ev |= QUICC_POLL_EVENT_ISB;
    if (qc_conn_stream_incoming(c->engine, true)) ev |= QUICC_POLL_EVENT_ISU;
    if (qc_conn_streams_avail(c->engine, false)) ev |= QUICC_POLL_EVENT_OSB;
    if (qc_conn_streams_avail(c->engine, true)) ev |= QUICC_POLL_EVENT_OSU;
    return ev;
}

/* The events of one item. Takes the object's lock. */
static uint64_t item_events(quicc *s) {
    qc_api_conn *c = s->c;
    uint64_t ev = 0;
    pthread_mutex_lock(c->lock);
    switch (s->kind) {
    case QC_OBJ_LISTENER:
        if (c->port->net_error) ev |= QUICC_POLL_EVENT_EL;
        if (c->port->accept_len > 0) ev |= QUICC_POLL_EVENT_IC;
        break;
    case QC_OBJ_CONN:
        ev = conn_events(c) | stream_events(c, c->default_sid);
        break;
    case QC_OBJ_STREAM:
        ev = stream_events(c, s->sid) |
             (conn_events(c) & (QUICC_POLL_EVENT_EC | QUICC_POLL_EVENT_ECD));
        break;
    default:
        ev = QUICC_POLL_EVENT_F;
    }
    pthread_mutex_unlock(c->lock);
    return ev;
}

/* Collects the distinct ports of the items (a port serves one or more objects). */
static size_t collect_ports(quicc_poll_item *items, size_t n, size_t stride, qc_api_conn **out) {
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        quicc *s = ITEM(items, stride, i)->desc;
        if (!s) continue;
        size_t j = 0;
        while (j < np && out[j]->port != s->c->port)
            j++;
        if (j == np) out[np++] = s->c;
    }
    return np;
}

int quicc_poll(quicc_poll_item *items, size_t num_items, size_t stride,
               const struct timeval *timeout, uint64_t flags, size_t *result_count) {
    if (result_count) *result_count = 0;
    if ((!items && num_items) || stride < sizeof(quicc_poll_item) || !result_count ||
        (timeout && (timeout->tv_sec < 0 || timeout->tv_usec < 0))) {
        qc_api_err_push(QUICC_R_PASSED_INVALID_ARGUMENT, "quicc_poll: bad arguments");
        return 0;
    }
    qc_api_conn **ports = qc_malloc((num_items ? num_items : 1) * sizeof(*ports));
    struct pollfd *pfd = qc_malloc((num_items ? num_items : 1) * sizeof(*pfd));
    if (!ports || !pfd) {
        qc_free(ports);
        qc_free(pfd);
        qc_api_err_push(QUICC_R_INTERNAL_ERROR, "out of memory");
        return 0;
    }
    size_t np = collect_ports(items, num_items, stride, ports);
    qc_ts deadline = QC_TS_NONE;
    if (timeout)
        deadline = qc_api_now() + (qc_ts)timeout->tv_sec * QC_SEC + (qc_ts)timeout->tv_usec * QC_US;
    bool handle = !(flags & QUICC_POLL_FLAG_NO_HANDLE_EVENTS);
    size_t count = 0;
    for (;;) {
        if (handle) {
            for (size_t j = 0; j < np; j++) {
                pthread_mutex_lock(ports[j]->lock);
                qc_api_port_turn(ports[j]->port);
                pthread_mutex_unlock(ports[j]->lock);
            }
        }
        count = 0;
        for (size_t i = 0; i < num_items; i++) {
            quicc_poll_item *it = ITEM(items, stride, i);
            it->revents = 0;
            if (!it->desc) continue;
            it->revents = item_events(it->desc) & (it->events | QUICC_POLL_EVENT_F);
            if (it->revents) count++;
        }
        qc_ts now = qc_api_now();
        if (count > 0 || now >= deadline || np == 0) break;
        /* Wait for any port's socket or the earliest timer. Connections served by other
         * threads (thread-assisted, or streams used elsewhere) may change state without
         * our socket waking us: look again often. */
        qc_ts t = deadline;
        bool others = !handle;
        for (size_t j = 0; j < np; j++) {
            qc_api_conn *c = ports[j];
            pthread_mutex_lock(c->lock);
            t = QC_MIN(t, qc_api_port_next_timeout(c->port));
            pfd[j].fd = c->port->fd;
            pfd[j].events = POLLIN | (c->port->tx_blocked ? POLLOUT : 0);
            others |= c->thread_running || c->nstream_objs > 0;
            pthread_mutex_unlock(c->lock);
        }
        qc_ts wait = t > now ? t - now : 0;
        if (others && wait > 5 * QC_MS) wait = 5 * QC_MS;
        int ms = wait == 0 ? 0 : (int)QC_MIN((wait + QC_MS - 1) / QC_MS, 1000);
        if (poll(pfd, np, ms) < 0 && errno != EINTR) {
            for (size_t j = 0; j < np; j++) {
                pthread_mutex_lock(ports[j]->lock);
                ports[j]->port->net_error = errno;
                pthread_mutex_unlock(ports[j]->lock);
            }
        }
    }
    qc_free(ports);
    qc_free(pfd);
    *result_count = count;
    return 1;
}
