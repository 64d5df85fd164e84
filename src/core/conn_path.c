/*
 * conn_path.c: the connection's paths (RFC 9000 §9). A server follows its client to a new
 * address (a NAT rebinding, or a client that migrated) when a packet from there is the
 * largest yet and carries more than probing frames: it validates the new path with
 * PATH_CHALLENGE (in the first packet it sends there), stays within three times what came
 * in on it until then, uses a fresh connection ID when the client gave spares, and starts
 * its congestion window and RTT estimate again unless only the port changed. If the
 * validation fails it goes back to the old path. A PATH_CHALLENGE from any other address
 * is answered there, and only there.
 */
#include "core/conn_internal.h"

void qc_conn_path_rx_begin(qc_conn *c, const qc_path_addr *from, size_t len) {
    c->path.rx_new = c->path.rx_moves = false;
    if (from && from->ip_len) {
        if (!c->path.addr.ip_len)
            c->path.addr = *from; /* the first datagram names the path */
        else if (!qc_path_addr_eq(from, &c->path.addr))
            c->path.rx_new = true;
        c->path.rx_addr = *from;
    }
    if (c->path.rx_new) {
        if (!qc_path_addr_eq(&c->path.probe.addr, from)) {
            c->path.probe.addr = *from;
            c->path.probe.bytes_recv = 0;
            c->path.probe.pending = false;
        }
        c->path.probe.bytes_recv += len;
    } else if (c->path.amp_limited) {
        c->path.bytes_recv_unvalidated += len;
    }
}

void qc_conn_path_on_challenge(qc_conn *c, const uint8_t data[8]) {
    if (c->path.rx_new) {
        /* PATH_RESPONSE goes back on the path the challenge came on (RFC 9000 §8.2.2). */
        memcpy(c->path.probe.data, data, 8);
        c->path.probe.pending = true;
        return;
    }
    qc_conn_path_queue_response(c, data);
}

void qc_conn_path_queue_response(qc_conn *c, const uint8_t data[8]) {
    /* Every challenge gets its answer (a few at a time: past four, the oldest goes). */
    if (c->path.n_path_responses == 4) {
        memmove(c->path.path_responses[0], c->path.path_responses[1], 3 * 8);
        c->path.n_path_responses = 3;
    }
    memcpy(c->path.path_responses[c->path.n_path_responses++], data, 8);
    qc_conn_ctl_queue(c, QC_CTL_PATH_RESPONSE);
}

void qc_conn_path_on_response(qc_conn *c, const uint8_t data[8]) {
    if (!qc_path_validation_response(&c->path.val, data)) return; /* not ours: ignored */
    c->path.amp_limited = false;
    c->path.old.in_use = false;
}

/* Back to the old path, with its congestion state and RTT (RFC 9000 §9.3.2, §9.3.3): the
 * new one failed validation, or the client is heard from the old address again (the
 * packet that moved us was perhaps a spoofed copy). */
static void restore_old_path(qc_conn *c) {
    uint64_t in_flight = c->rec.cc.bytes_in_flight;
    c->path.addr = c->path.old.addr;
    c->rec.rtt = c->path.old.rtt;
    c->rec.cc = c->path.old.cc;
    c->rec.cc.bytes_in_flight = in_flight;
    c->path.amp_limited = false;
    c->path.old.in_use = false;
}

/* The server moves to the address the datagram came from. */
static void migrate(qc_conn *c, size_t len, qc_ts now) {
    const qc_path_addr to = c->path.rx_addr;
    if (c->path.old.in_use && c->path.val.state == QC_PATH_VALIDATING &&
        qc_path_addr_eq(&to, &c->path.old.addr)) {
        qc_path_validation_abandon(&c->path.val);
        restore_old_path(c);
        return;
    }
    bool port_only = qc_path_addr_same_ip(&to, &c->path.addr);
    if (c->path.val.state != QC_PATH_VALIDATING || !c->path.old.in_use) {
        /* The path we leave was validated: keep it to fall back to. */
        c->path.old.in_use = true;
        c->path.old.addr = c->path.addr;
        c->path.old.rtt = c->rec.rtt;
        c->path.old.cc = c->rec.cc;
    }
    c->path.addr = to;
    if (!port_only) qc_recovery_reset_path(&c->rec);
    c->path.amp_limited = true;
    c->path.bytes_recv_unvalidated = len;
    c->path.bytes_sent_unvalidated = 0;
    if (c->path.probe.pending && qc_path_addr_eq(&c->path.probe.addr, &to)) {
        qc_conn_path_queue_response(c, c->path.probe.data);
    }
    c->path.probe.pending = false;
    c->path.probe.addr = (qc_path_addr){0};
    uint8_t rnd[8];
    c->cfg.rand(c->cfg.rand_user, rnd, sizeof(rnd));
    /* Three times the larger of the current PTO and a new path's (RFC 9000 §8.2.4). */
    qc_ts pto = qc_conn_pto(c), fresh = 3 * c->rec.initial_rtt;
    qc_path_validation_start(&c->path.val, rnd, now, 3 * QC_MAX(pto, fresh));
    (void)qc_cids_rotate(&c->cids);
    c->path.migrations++;
}

void qc_conn_path_rx_end(qc_conn *c, size_t len, qc_ts now) {
    if (!c->path.rx_new || !c->path.rx_moves) return; /* answered on its own path only */
    /* Only a server follows, and only once the handshake is confirmed (RFC 9000 §9). */
    if (!c->is_server || !c->handshake_confirmed || c->state != QC_CONN_ESTABLISHED) return;
    migrate(c, len, now);
}

qc_ts qc_conn_path_timer(const qc_conn *c) {
    return qc_path_validation_timer(&c->path.val);
}

void qc_conn_path_on_timeout(qc_conn *c, qc_ts now) {
    if (c->path.val.state != QC_PATH_VALIDATING) return;
    uint8_t rnd[8];
    c->cfg.rand(c->cfg.rand_user, rnd, sizeof(rnd));
    if (!qc_path_validation_timeout(&c->path.val, rnd, now)) return;
    c->path.validation_failures++;
    if (c->path.old.in_use) restore_old_path(c);
}

void qc_conn_path_challenge_sent(qc_conn *c, qc_ts now) {
    qc_path_validation_sent(&c->path.val, now, qc_conn_pto(c));
}

const qc_path_addr *qc_conn_peer_addr(const qc_conn *c) {
    return &c->path.addr;
}
