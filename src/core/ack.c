/*
 * ack.c: received packet numbers of one packet number space, the ACK
 * scheduling rules of RFC 9000 §13.2.1-2, and ACK frame encoding (§19.3).
 *
 * Received numbers are kept as at most QC_ACK_MAX_RANGES ranges. When a new
 * range would exceed the cap, the oldest is forgotten and the floor rises to
 * the lowest range still kept: anything below the floor is reported as a
 * duplicate, since it can no longer be told apart from one.
 */
#include "core/ack.h"

void qc_ack_init(qc_ack_tracker *t) {
    memset(t, 0, sizeof(*t));
    qc_rangeset_init(&t->received, QC_ACK_MAX_RANGES);
    t->largest = UINT64_MAX;
    t->largest_time = QC_TS_NONE;
    t->floor = 0;
    t->ack_deadline = QC_TS_NONE;
}

void qc_ack_free(qc_ack_tracker *t) {
    qc_rangeset_free(&t->received);
}

bool qc_ack_is_duplicate(const qc_ack_tracker *t, uint64_t pn) {
    return pn < t->floor || qc_rangeset_contains(&t->received, pn);
}

/*
 * Records pn and decides when the ACK goes out. An ack-eliciting packet
 * forces an immediate ACK when asked to, when it arrives out of order (below
 * the largest received, or leaving a gap above it), or when it is the second
 * ack-eliciting packet not yet acknowledged; otherwise it arms the delayed
 * ACK deadline. Non-eliciting packets only mark that an ACK may piggyback.
 */
int qc_ack_on_packet(qc_ack_tracker *t, uint64_t pn, bool ack_eliciting, bool immediate, qc_ts now,
                     qc_ts ack_delay_max) {
    if (pn > QC_MAX_VARINT) return QC_ERR_INVAL;
    if (qc_ack_is_duplicate(t, pn)) return 0;
    bool out_of_order = t->largest != UINT64_MAX && (pn < t->largest || pn > t->largest + 1);
    bool full = t->received.n >= QC_ACK_MAX_RANGES;
    bool touches = (pn > 0 && qc_rangeset_contains(&t->received, pn - 1)) ||
                   qc_rangeset_contains(&t->received, pn + 1);
    int rv = qc_rangeset_add(&t->received, pn, pn);
    if (rv) return rv;
    if (full && !touches) {
        /* A range was dropped (possibly pn itself): forget everything below. */
        const qc_range *first = qc_rangeset_first(&t->received);
        if (first->lo > t->floor) t->floor = first->lo;
        if (pn < t->floor) return 0;
    }
    if (t->largest == UINT64_MAX || pn > t->largest) {
        t->largest = pn;
        t->largest_time = now;
    }
    t->ack_needed = true;
    if (!ack_eliciting) return 0;
    t->unacked_eliciting++;
    if (immediate || out_of_order || t->unacked_eliciting >= 2) {
        t->ack_now = true;
        if (t->ack_deadline == QC_TS_NONE || t->ack_deadline > now) t->ack_deadline = now;
    } else if (t->ack_deadline == QC_TS_NONE) {
        t->ack_deadline = ack_delay_max > QC_TS_NONE - now ? QC_TS_NONE - 1 : now + ack_delay_max;
    }
    return 0;
}

qc_ts qc_ack_deadline(const qc_ack_tracker *t) {
    return t->ack_deadline;
}

bool qc_ack_should_send(const qc_ack_tracker *t, qc_ts now) {
    if (t->ack_deadline != QC_TS_NONE && t->ack_deadline <= now) return true;
    return t->ack_needed;
}

/*
 * Encodes type, largest, delay, range count, first range, then (gap, len)
 * pairs going down, then ECN counts if any is nonzero. Keeps as many of
 * the newest ranges as fit in w.
 */
int qc_ack_write(qc_ack_tracker *t, qc_wr *w, qc_ts now, unsigned ack_delay_exp,
                 uint64_t *largest) {
    size_t n = t->received.n;
    if (n == 0) return QC_ERR_INVAL;
    const qc_range *r = t->received.r; /* ascending: r[n - 1] is the newest */
    bool ecn = t->ecn[0] || t->ecn[1] || t->ecn[2];
    uint64_t top = r[n - 1].hi;
    qc_ts delay_ns = now > t->largest_time ? now - t->largest_time : 0;
    uint64_t delay = ack_delay_exp < 64 ? (delay_ns / QC_US) >> ack_delay_exp : 0;
    if (delay > QC_MAX_VARINT) delay = QC_MAX_VARINT;
    size_t fixed =
        1 + qc_varint_len(top) + qc_varint_len(delay) + qc_varint_len(r[n - 1].hi - r[n - 1].lo);
    if (ecn)
        fixed += qc_varint_len(t->ecn[0]) + qc_varint_len(t->ecn[1]) + qc_varint_len(t->ecn[2]);
    /* Find the most ranges k whose encoding fits; the total only grows with k. */
    size_t left = qc_wr_left(w), k = 0, pairs = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i > 1) {
            const qc_range *hi = &r[n - i + 1], *lo = &r[n - i];
            pairs += qc_varint_len(hi->lo - lo->hi - 2) + qc_varint_len(lo->hi - lo->lo);
        }
        if (fixed + qc_varint_len(i - 1) + pairs > left) break;
        k = i;
    }
    if (k == 0) return QC_ERR_NOBUF;
    uint8_t *p = w->p;
    *p++ = ecn ? 0x03 : 0x02;
    p = qc_varint_put(p, top);
    p = qc_varint_put(p, delay);
    p = qc_varint_put(p, k - 1);
    p = qc_varint_put(p, r[n - 1].hi - r[n - 1].lo);
    for (size_t i = 2; i <= k; i++) {
        const qc_range *hi = &r[n - i + 1], *lo = &r[n - i];
        p = qc_varint_put(p, hi->lo - lo->hi - 2);
        p = qc_varint_put(p, lo->hi - lo->lo);
    }
    if (ecn)
        for (int i = 0; i < 3; i++)
            p = qc_varint_put(p, t->ecn[i]);
    w->p = p;
    t->ack_now = false;
    t->ack_needed = false;
    t->unacked_eliciting = 0;
    t->ack_deadline = QC_TS_NONE;
    if (largest) *largest = top;
    return 0;
}

void qc_ack_on_ack_acked(qc_ack_tracker *t, uint64_t largest) {
    if (largest == UINT64_MAX || largest <= t->floor || t->largest == UINT64_MAX ||
        largest > t->largest)
        return;
    qc_rangeset_remove_below(&t->received, largest);
    t->floor = largest;
}
