/*
 * recovery.c: loss detection, RTT estimation and PTO (RFC 9002 §5-6,
 * Appendix A), feeding the congestion controller (cc.h).
 *
 * Each packet number space keeps its sent packets in a ring of records in
 * packet number order (power-of-two capacity, doubled when full, never
 * shrunk while in use). A record stays in place when acknowledged or
 * declared lost (its state changes); records leave from the head once they
 * are no longer in flight, so a connection whose packets are acknowledged
 * promptly keeps a small ring and allocates nothing per packet.
 *
 * ACK processing runs in passes over the ring: mark the newly acknowledged
 * records, update the RTT, detect losses (which also removes them from
 * flight and feeds congestion events), then give the congestion controller
 * and the engine the acknowledged packets, then the lost ones.
 */
#include "core/recovery.h"

#include <stdlib.h>

#define K_PACKET_THRESHOLD 3
#define K_GRANULARITY QC_MS
#define K_PC_THRESHOLD 3
#define K_DEFAULT_INITIAL_RTT (333 * QC_MS)
#define K_DEFAULT_MAX_ACK_DELAY (25 * QC_MS)
#define RING_MIN_CAP 16

/* Record states (qc_sent_pkt.state). */
enum { ST_SENT = 0, ST_ACKED_NEW, ST_ACKED, ST_LOST_NEW, ST_LOST };

static qc_sent_pkt *ring_at(const qc_sent_ring *g, size_t i) {
    return &g->pkts[(g->head + i) & (g->cap - 1)];
}

/* Doubles the ring, moving the records to the front of a new array. */
static int ring_grow(qc_sent_ring *g) {
    size_t cap = g->cap ? g->cap * 2 : RING_MIN_CAP;
    if (cap < g->cap || cap > SIZE_MAX / sizeof(qc_sent_pkt)) return QC_ERR_NOMEM;
    qc_sent_pkt *n = qc_malloc(cap * sizeof(*n));
    if (!n) return QC_ERR_NOMEM;
    for (size_t i = 0; i < g->count; i++)
        n[i] = *ring_at(g, i);
    qc_free(g->pkts);
    g->pkts = n;
    g->cap = cap;
    g->head = 0;
    return 0;
}

static void ring_pop_done(qc_sent_ring *g) {
    while (g->count && ring_at(g, 0)->state != ST_SENT) {
        g->head = (g->head + 1) & (g->cap - 1);
        g->count--;
    }
    if (g->count == 0) g->head = 0;
}

/* Index of the first record with pn >= v (count if none). */
static size_t ring_lower_bound(const qc_sent_ring *g, uint64_t v) {
    size_t lo = 0, hi = g->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_at(g, mid)->pn < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static qc_ts sat_add(qc_ts a, qc_ts b) {
    return a > QC_TS_NONE - 1 - b ? QC_TS_NONE - 1 : a + b;
}

static qc_ts sat_shl(qc_ts v, unsigned k) {
    if (v == 0) return 0;
    if (k >= 63 || v > ((QC_TS_NONE - 1) >> k)) return QC_TS_NONE - 1;
    return v << k;
}

static void flight_sub(qc_recovery *r, uint64_t bytes) {
    r->cc.bytes_in_flight = r->cc.bytes_in_flight > bytes ? r->cc.bytes_in_flight - bytes : 0;
}

/*
 * Walks the ranges of a decoded ACK frame, largest first, from the raw
 * (gap, length) pairs (RFC 9000 §19.3.1). Kept private so this file does not
 * depend on the frame codec; it re-checks that no range goes below zero.
 */
typedef struct ack_walk {
    qc_rd rd;
    uint64_t remaining;
    uint64_t lo; /* low end of the previous range */
    bool started;
} ack_walk;

static void ack_walk_init(ack_walk *w, const qc_frame *f) {
    w->rd = qc_rd_init(f->u.ack.ranges, f->u.ack.ranges ? f->u.ack.ranges_len : 0);
    w->remaining = f->u.ack.range_count;
    w->lo = 0;
    w->started = false;
}

/* Returns 1 with *out set, 0 when done, or QC_ERR_FRAME_ENCODING. */
static int ack_walk_next(ack_walk *w, const qc_frame *f, qc_range *out) {
    if (!w->started) {
        w->started = true;
        if (f->u.ack.first_range > f->u.ack.largest) return QC_ERR_FRAME_ENCODING;
        out->hi = f->u.ack.largest;
        out->lo = f->u.ack.largest - f->u.ack.first_range;
        w->lo = out->lo;
        return 1;
    }
    if (w->remaining == 0) return 0;
    uint64_t gap, len;
    if (qc_rd_varint(&w->rd, &gap) || qc_rd_varint(&w->rd, &len)) return QC_ERR_FRAME_ENCODING;
    if (w->lo < 2 || gap > w->lo - 2) return QC_ERR_FRAME_ENCODING;
    uint64_t hi = w->lo - gap - 2;
    if (len > hi) return QC_ERR_FRAME_ENCODING;
    out->hi = hi;
    out->lo = hi - len;
    w->lo = out->lo;
    w->remaining--;
    return 1;
}

void qc_recovery_init(qc_recovery *r, const qc_recovery_cbs *cbs, bool is_server,
                      size_t max_datagram, qc_ts initial_rtt) {
    memset(r, 0, sizeof(*r));
    if (cbs) r->cbs = *cbs;
    qc_cc_init(&r->cc, &qc_cc_newreno, max_datagram);
    r->initial_rtt = initial_rtt ? initial_rtt : K_DEFAULT_INITIAL_RTT;
    r->rtt.latest = 0;
    r->rtt.min = 0;
    r->rtt.smoothed = r->initial_rtt;
    r->rtt.rttvar = r->initial_rtt / 2;
    r->rtt.first_sample_time = QC_TS_NONE;
    for (int s = 0; s < QC_PNS_COUNT; s++) {
        r->largest_acked[s] = UINT64_MAX;
        r->largest_sent[s] = UINT64_MAX;
        r->last_ack_eliciting[s] = QC_TS_NONE;
        r->loss_time[s] = QC_TS_NONE;
    }
    r->max_ack_delay = K_DEFAULT_MAX_ACK_DELAY;
    r->is_server = is_server;
    r->timer_base = QC_TS_NONE;
}

void qc_recovery_free(qc_recovery *r) {
    for (int s = 0; s < QC_PNS_COUNT; s++) {
        qc_free(r->sent[s].pkts);
        memset(&r->sent[s], 0, sizeof(r->sent[s]));
    }
}

qc_sent_pkt *qc_recovery_next(qc_recovery *r, enum qc_pn_space space) {
    if ((unsigned)space >= QC_PNS_COUNT) return NULL;
    qc_sent_ring *g = &r->sent[space];
    if (g->count == g->cap && ring_grow(g)) return NULL;
    qc_sent_pkt *p = ring_at(g, g->count);
    memset(p, 0, offsetof(qc_sent_pkt, frames));
    return p;
}

void qc_recovery_on_sent(qc_recovery *r, enum qc_pn_space space, qc_sent_pkt *p, qc_ts now) {
    if ((unsigned)space >= QC_PNS_COUNT || r->discarded[space]) return;
    qc_sent_ring *g = &r->sent[space];
    if (g->count == g->cap) return; /* not reserved with qc_recovery_next */
    if (r->largest_sent[space] != UINT64_MAX && p->pn <= r->largest_sent[space])
        return; /* packet numbers must increase */
    qc_sent_pkt *slot = ring_at(g, g->count);
    if (slot != p) *slot = *p;
    slot->time_sent = now;
    slot->state = ST_SENT;
    if (slot->nframes > QC_SENT_MAX_FRAMES) slot->nframes = QC_SENT_MAX_FRAMES;
    g->count++;
    r->largest_sent[space] = slot->pn;
    if (slot->in_flight) {
        if (slot->ack_eliciting) {
            r->last_ack_eliciting[space] = now;
            r->ack_eliciting_in_flight[space]++;
        }
        r->cc.bytes_in_flight += slot->size;
        r->cc.ops->on_sent(&r->cc, slot->size, now);
        r->timer_base = now;
    }
}

/* RFC 9002 §5.3 with latest already set. */
static void update_rtt(qc_recovery *r, qc_ts ack_delay, bool handshake_confirmed, qc_ts now) {
    qc_rtt *t = &r->rtt;
    if (t->first_sample_time == QC_TS_NONE) {
        t->min = t->latest;
        t->smoothed = t->latest;
        t->rttvar = t->latest / 2;
        t->first_sample_time = now;
        return;
    }
    if (t->latest < t->min) t->min = t->latest;
    if (handshake_confirmed && ack_delay > r->max_ack_delay) ack_delay = r->max_ack_delay;
    qc_ts adjusted = t->latest;
    if (t->latest >= t->min && t->latest - t->min >= ack_delay) adjusted = t->latest - ack_delay;
    qc_ts diff = t->smoothed > adjusted ? t->smoothed - adjusted : adjusted - t->smoothed;
    t->rttvar = (3 * t->rttvar + diff) / 4;
    t->smoothed = (7 * t->smoothed + adjusted) / 8;
}

/*
 * Declares lost the in-flight records at or below the largest acknowledged
 * that are kPacketThreshold behind it or older than the time threshold
 * (RFC 9002 §6.1), removing them from flight at once; sets loss_time for
 * the others. Then raises at most one congestion event (for the newest lost
 * in-flight packet) and checks persistent congestion (§7.6.2, within this
 * space). Records become ST_LOST_NEW; report_lost calls back later.
 * Returns the number of packets declared lost.
 */
static size_t detect_lost(qc_recovery *r, enum qc_pn_space space, qc_ts now) {
    qc_sent_ring *g = &r->sent[space];
    uint64_t largest = r->largest_acked[space];
    r->loss_time[space] = QC_TS_NONE;
    if (largest == UINT64_MAX) return 0;
    const qc_rtt *t = &r->rtt;
    qc_ts loss_delay = QC_MAX(t->latest, t->smoothed);
    loss_delay = sat_add(loss_delay, loss_delay / 8);
    loss_delay = QC_MAX(loss_delay, K_GRANULARITY);
    qc_ts pc_duration =
        sat_add(sat_add(t->smoothed, QC_MAX(4 * t->rttvar, K_GRANULARITY)), r->max_ack_delay);
    pc_duration = pc_duration > (QC_TS_NONE - 1) / K_PC_THRESHOLD ? QC_TS_NONE - 1
                                                                  : pc_duration * K_PC_THRESHOLD;
    size_t nlost = 0;
    qc_ts newest_lost = QC_TS_NONE, run_start = QC_TS_NONE;
    bool persistent = false;
    for (size_t i = 0; i < g->count; i++) {
        qc_sent_pkt *p = ring_at(g, i);
        if (p->pn > largest) break;
        if (p->state == ST_ACKED || p->state == ST_ACKED_NEW) {
            run_start = QC_TS_NONE; /* an acknowledgement breaks a persistent run */
            continue;
        }
        if (p->state != ST_SENT) continue;
        bool by_time = now >= loss_delay && p->time_sent <= now - loss_delay;
        if (!by_time && largest < p->pn + K_PACKET_THRESHOLD) {
            qc_ts when = sat_add(p->time_sent, loss_delay);
            if (when < r->loss_time[space]) r->loss_time[space] = when;
            continue;
        }
        p->state = ST_LOST_NEW;
        nlost++;
        if (p->in_flight) {
            flight_sub(r, p->size);
            if (p->ack_eliciting && r->ack_eliciting_in_flight[space])
                r->ack_eliciting_in_flight[space]--;
            if (newest_lost == QC_TS_NONE || p->time_sent > newest_lost) newest_lost = p->time_sent;
        }
        if (p->ack_eliciting && t->first_sample_time != QC_TS_NONE &&
            p->time_sent > t->first_sample_time) {
            if (run_start == QC_TS_NONE)
                run_start = p->time_sent;
            else if (p->time_sent - run_start > pc_duration)
                persistent = true;
        }
    }
    if (newest_lost != QC_TS_NONE) r->cc.ops->on_congestion(&r->cc, newest_lost, now);
    if (persistent) r->cc.ops->on_persistent_congestion(&r->cc);
    return nlost;
}

/* Calls on_lost for each ST_LOST_NEW record among the first n. */
static void report_lost(qc_recovery *r, enum qc_pn_space space, size_t n) {
    qc_sent_ring *g = &r->sent[space];
    for (size_t i = 0; i < n && i < g->count; i++) {
        qc_sent_pkt *p = ring_at(g, i);
        if (p->state != ST_LOST_NEW) continue;
        p->state = ST_LOST;
        if (r->cbs.on_lost) {
            qc_sent_pkt copy = *p; /* the callback may grow the ring */
            r->cbs.on_lost(r->cbs.user, space, &copy);
        }
    }
}

void qc_recovery_on_0rtt_rejected(qc_recovery *r, qc_ts now) {
    (void)now;
    qc_sent_ring *g = &r->sent[QC_PNS_APP];
    for (size_t i = 0; i < g->count; i++) {
        qc_sent_pkt *p = ring_at(g, i);
        if (p->state != ST_SENT || !p->zero_rtt) continue;
        /* Not congestion: the server threw them away unread. */
        p->state = ST_LOST_NEW;
        if (p->in_flight) {
            flight_sub(r, p->size);
            if (p->ack_eliciting && r->ack_eliciting_in_flight[QC_PNS_APP])
                r->ack_eliciting_in_flight[QC_PNS_APP]--;
        }
    }
    report_lost(r, QC_PNS_APP, g->count);
}

const qc_sent_pkt *qc_recovery_oldest_unacked(const qc_recovery *r, enum qc_pn_space space) {
    const qc_sent_ring *g = &r->sent[space];
    for (size_t i = 0; i < g->count; i++) {
        const qc_sent_pkt *p = ring_at(g, i);
        if (p->state == ST_SENT && p->ack_eliciting) return p;
    }
    return NULL;
}

void qc_recovery_on_skipped(qc_recovery *r, uint64_t pn) {
    if (r->nskipped == QC_ARRAY_LEN(r->skipped)) {
        memmove(&r->skipped[0], &r->skipped[1], sizeof(r->skipped) - sizeof(r->skipped[0]));
        r->nskipped--;
    }
    r->skipped[r->nskipped++] = pn;
}

static bool covers_skipped(const qc_recovery *r, const qc_range *rg) {
    for (size_t i = 0; i < r->nskipped; i++)
        if (r->skipped[i] >= rg->lo && r->skipped[i] <= rg->hi) return true;
    return false;
}

int qc_recovery_on_ack(qc_recovery *r, enum qc_pn_space space, const qc_frame *ack,
                       qc_ts ack_delay_ns, bool handshake_confirmed, qc_ts now) {
    if ((unsigned)space >= QC_PNS_COUNT || !ack) return QC_ERR_INVAL;
    if (r->discarded[space]) return 0;
    uint64_t largest = ack->u.ack.largest;
    if (r->largest_sent[space] == UINT64_MAX || largest > r->largest_sent[space])
        return QC_ERR_PROTO;
    /* Validate every range before changing anything. */
    ack_walk w;
    qc_range rg;
    int rv;
    ack_walk_init(&w, ack);
    while ((rv = ack_walk_next(&w, ack, &rg)) == 1)
        if (space == QC_PNS_APP && covers_skipped(r, &rg)) return QC_ERR_PROTO;
    if (rv < 0) return rv;

    if (space == QC_PNS_HANDSHAKE) r->handshake_acked = true;
    if (r->largest_acked[space] == UINT64_MAX || largest > r->largest_acked[space])
        r->largest_acked[space] = largest;

    /* Pass 1: mark the newly acknowledged records. */
    qc_sent_ring *g = &r->sent[space];
    size_t newly = 0;
    bool eliciting = false, largest_newly = false;
    qc_ts largest_time = 0, newest_time = QC_TS_NONE;
    ack_walk_init(&w, ack);
    while (ack_walk_next(&w, ack, &rg) == 1) {
        for (size_t i = ring_lower_bound(g, rg.lo); i < g->count; i++) {
            qc_sent_pkt *p = ring_at(g, i);
            if (p->pn > rg.hi) break;
            if (p->state != ST_SENT) continue;
            p->state = ST_ACKED_NEW;
            newly++;
            eliciting |= p->ack_eliciting != 0;
            if (newest_time == QC_TS_NONE)
                newest_time = p->time_sent; /* ranges go down: the first is the newest */
            if (p->pn == largest) {
                largest_newly = true;
                largest_time = p->time_sent;
            }
        }
    }
    if (newly == 0) return 0;

    if (largest_newly && eliciting) {
        r->rtt.latest = now > largest_time ? now - largest_time : 0;
        update_rtt(r, ack_delay_ns, handshake_confirmed, now);
    }
    if (ack->u.ack.ecn && ack->u.ack.ce > r->ecn_ce[space]) {
        r->ecn_ce[space] = ack->u.ack.ce;
        r->cc.ops->on_congestion(&r->cc, newest_time, now);
    }

    detect_lost(r, space, now);

    /* Pass 2: acknowledged packets to the congestion controller and the engine. */
    size_t end = ring_lower_bound(g, largest + 1);
    for (size_t i = 0; i < end && i < g->count; i++) {
        qc_sent_pkt *p = ring_at(g, i);
        if (p->state != ST_ACKED_NEW) continue;
        p->state = ST_ACKED;
        if (p->in_flight) {
            flight_sub(r, p->size);
            if (p->ack_eliciting && r->ack_eliciting_in_flight[space])
                r->ack_eliciting_in_flight[space]--;
            r->cc.ops->on_acked(&r->cc, p->size, p->time_sent, now);
        }
        if (r->cbs.on_acked) {
            qc_sent_pkt copy = *p;
            r->cbs.on_acked(r->cbs.user, space, &copy);
        }
    }
    /* Pass 3: lost packets (all at or below the largest acknowledged). */
    report_lost(r, space, ring_lower_bound(g, r->largest_acked[space] + 1));

    if (r->is_server || handshake_confirmed || r->handshake_acked) r->pto_count = 0;
    r->timer_base = now;
    ring_pop_done(g);
    return 0;
}

static uint64_t total_eliciting(const qc_recovery *r) {
    uint64_t n = 0;
    for (int s = 0; s < QC_PNS_COUNT; s++)
        n += r->ack_eliciting_in_flight[s];
    return n;
}

static qc_ts earliest_loss(const qc_recovery *r, enum qc_pn_space *space) {
    qc_ts t = QC_TS_NONE;
    for (int s = 0; s < QC_PNS_COUNT; s++) {
        if (r->loss_time[s] < t) {
            t = r->loss_time[s];
            *space = (enum qc_pn_space)s;
        }
    }
    return t;
}

void qc_recovery_reset_path(qc_recovery *r) {
    uint64_t in_flight = r->cc.bytes_in_flight;
    qc_cc_init(&r->cc, r->cc.ops, r->cc.max_datagram);
    r->cc.bytes_in_flight = in_flight;
    r->rtt.latest = r->rtt.min = 0;
    r->rtt.smoothed = r->initial_rtt;
    r->rtt.rttvar = r->initial_rtt / 2;
    r->rtt.first_sample_time = QC_TS_NONE;
}

qc_ts qc_recovery_pto_base(const qc_recovery *r) {
    qc_ts d = sat_add(r->rtt.smoothed, QC_MAX(4 * r->rtt.rttvar, K_GRANULARITY));
    return sat_add(d, r->max_ack_delay);
}

qc_ts qc_recovery_pto(const qc_recovery *r, bool include_max_ack_delay) {
    qc_ts d = sat_add(r->rtt.smoothed, QC_MAX(4 * r->rtt.rttvar, K_GRANULARITY));
    if (include_max_ack_delay) d = sat_add(d, r->max_ack_delay);
    return sat_shl(d, r->pto_count);
}

/*
 * RFC 9002 GetPtoTimeAndSpace: with nothing ack-eliciting in flight (the
 * client's anti-deadlock case) the PTO counts from the last timer event in
 * Handshake or Initial; otherwise from the last ack-eliciting packet of each
 * space, the application space only once the handshake is confirmed.
 */
static qc_ts pto_time(const qc_recovery *r, bool handshake_confirmed, bool has_handshake_keys,
                      enum qc_pn_space *space) {
    if (total_eliciting(r) == 0) {
        *space = has_handshake_keys ? QC_PNS_HANDSHAKE : QC_PNS_INITIAL;
        if (r->timer_base == QC_TS_NONE) return QC_TS_NONE;
        return sat_add(r->timer_base, qc_recovery_pto(r, false));
    }
    qc_ts best = QC_TS_NONE;
    *space = QC_PNS_INITIAL;
    for (int s = 0; s < QC_PNS_COUNT; s++) {
        if (r->discarded[s] || r->ack_eliciting_in_flight[s] == 0 ||
            r->last_ack_eliciting[s] == QC_TS_NONE)
            continue;
        if (s == QC_PNS_APP && !handshake_confirmed) break;
        qc_ts t = sat_add(r->last_ack_eliciting[s], qc_recovery_pto(r, s == QC_PNS_APP));
        if (t < best) {
            best = t;
            *space = (enum qc_pn_space)s;
        }
    }
    return best;
}

static bool peer_completed_validation(const qc_recovery *r, bool handshake_confirmed,
                                      bool peer_validated) {
    return r->is_server || peer_validated || handshake_confirmed || r->handshake_acked;
}

qc_ts qc_recovery_timer(const qc_recovery *r, bool handshake_confirmed, bool peer_validated,
                        bool has_handshake_keys) {
    enum qc_pn_space s;
    qc_ts t = earliest_loss(r, &s);
    if (t != QC_TS_NONE) return t;
    if (total_eliciting(r) == 0 &&
        peer_completed_validation(r, handshake_confirmed, peer_validated))
        return QC_TS_NONE;
    return pto_time(r, handshake_confirmed, has_handshake_keys, &s);
}

int qc_recovery_on_timeout(qc_recovery *r, bool handshake_confirmed, bool peer_validated,
                           bool has_handshake_keys, qc_ts now, enum qc_pn_space *probe_space) {
    enum qc_pn_space s = QC_PNS_INITIAL;
    qc_ts t = earliest_loss(r, &s);
    if (t != QC_TS_NONE) {
        if (t > now) return 0;
        detect_lost(r, s, now);
        report_lost(r, s, r->sent[s].count);
        r->timer_base = now;
        ring_pop_done(&r->sent[s]);
        return 0;
    }
    t = qc_recovery_timer(r, handshake_confirmed, peer_validated, has_handshake_keys);
    if (t == QC_TS_NONE || t > now) return 0;
    pto_time(r, handshake_confirmed, has_handshake_keys, &s);
    if (probe_space) *probe_space = s;
    r->pto_count++;
    r->timer_base = now;
    return 1;
}

void qc_recovery_discard_space(qc_recovery *r, enum qc_pn_space space) {
    if ((unsigned)space >= QC_PNS_COUNT) return;
    qc_sent_ring *g = &r->sent[space];
    uint64_t bytes = 0;
    for (size_t i = 0; i < g->count; i++) {
        const qc_sent_pkt *p = ring_at(g, i);
        if (p->state == ST_SENT && p->in_flight) bytes += p->size;
    }
    flight_sub(r, bytes);
    r->cc.ops->on_discarded(&r->cc, (size_t)bytes);
    qc_free(g->pkts);
    memset(g, 0, sizeof(*g));
    r->last_ack_eliciting[space] = QC_TS_NONE;
    r->loss_time[space] = QC_TS_NONE;
    r->ack_eliciting_in_flight[space] = 0;
    r->pto_count = 0;
    r->discarded[space] = true;
}

void qc_recovery_reset_space(qc_recovery *r, enum qc_pn_space space) {
    if ((unsigned)space >= QC_PNS_COUNT) return;
    qc_recovery_discard_space(r, space);
    /* The space stays in use (after a Retry, Initial packets go on with new keys); packet
     * numbers keep increasing. */
    r->discarded[space] = false;
}
