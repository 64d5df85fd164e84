/*
 * test_recovery.c: RTT estimation, ACK processing, packet- and
 * time-threshold loss, PTO and anti-deadlock timers, key discard and
 * persistent congestion (RFC 9002). ACK frames are built here by hand from
 * (gap, length) varints, as the frame decoder would deliver them.
 */
#include "core/recovery.h"
#include "unit/test.h"

#define MS QC_MS
#define MDS 1200

/* What the callbacks saw, in order. */
typedef struct event {
    int lost; /* 0 acked, 1 lost */
    enum qc_pn_space space;
    uint64_t pn;
    uint64_t frame_id, frame_offset;
    uint8_t kind, nframes;
} event;

static event events[256];
static size_t nevents;
static uint64_t nacked_total;

static void on_acked(void *user, enum qc_pn_space space, const qc_sent_pkt *p) {
    (void)user;
    nacked_total++;
    if (nevents < QC_ARRAY_LEN(events))
        events[nevents++] = (event){
            0, space, p->pn, p->frames[0].id, p->frames[0].offset, p->frames[0].kind, p->nframes};
}

static void on_lost(void *user, enum qc_pn_space space, const qc_sent_pkt *p) {
    (void)user;
    if (nevents < QC_ARRAY_LEN(events))
        events[nevents++] = (event){
            1, space, p->pn, p->frames[0].id, p->frames[0].offset, p->frames[0].kind, p->nframes};
}

static const qc_recovery_cbs cbs = {NULL, on_acked, on_lost};

static void setup(qc_recovery *r, bool is_server, qc_ts initial_rtt) {
    nevents = 0;
    nacked_total = 0;
    qc_recovery_init(r, &cbs, is_server, MDS, initial_rtt);
}

/* Sends pn in space at now: ack-eliciting, in flight, one STREAM frame. */
static void send_pkt(qc_recovery *r, enum qc_pn_space space, uint64_t pn, qc_ts now) {
    qc_sent_pkt *p = qc_recovery_next(r, space);
    CHECK(p != NULL);
    if (!p) return;
    p->pn = pn;
    p->size = MDS;
    p->ack_eliciting = 1;
    p->in_flight = 1;
    p->nframes = 1;
    p->frames[0] =
        (qc_sent_frame){.kind = QC_SK_STREAM, .id = pn * 4, .offset = pn * 1000, .len = 1000};
    qc_recovery_on_sent(r, space, p, now);
}

/* An ACK-only packet: not in flight, not ack-eliciting. */
static void send_ack_only(qc_recovery *r, enum qc_pn_space space, uint64_t pn, qc_ts now) {
    qc_sent_pkt *p = qc_recovery_next(r, space);
    CHECK(p != NULL);
    if (!p) return;
    p->pn = pn;
    p->size = 50;
    p->nframes = 1;
    p->frames[0] = (qc_sent_frame){.kind = QC_SK_ACK, .id = 7};
    qc_recovery_on_sent(r, space, p, now);
}

/* Builds an ACK frame for ranges given largest first ({lo, hi} pairs). */
static qc_frame mk_ack(uint8_t *buf, const qc_range *rg, size_t n) {
    qc_frame f;
    memset(&f, 0, sizeof(f));
    f.type = QC_FT_ACK;
    f.u.ack.largest = rg[0].hi;
    f.u.ack.first_range = rg[0].hi - rg[0].lo;
    f.u.ack.range_count = n - 1;
    uint8_t *p = buf;
    for (size_t i = 1; i < n; i++) {
        p = qc_varint_put(p, rg[i - 1].lo - rg[i].hi - 2);
        p = qc_varint_put(p, rg[i].hi - rg[i].lo);
    }
    f.u.ack.ranges = buf;
    f.u.ack.ranges_len = (size_t)(p - buf);
    return f;
}

static int ack1(qc_recovery *r, enum qc_pn_space space, uint64_t lo, uint64_t hi, qc_ts ack_delay,
                bool confirmed, qc_ts now) {
    uint8_t buf[64];
    qc_range rg = {lo, hi};
    qc_frame f = mk_ack(buf, &rg, 1);
    return qc_recovery_on_ack(r, space, &f, ack_delay, confirmed, now);
}

static void test_init(void) {
    qc_recovery r;
    setup(&r, true, 0);
    CHECK_U64(r.rtt.smoothed, 333 * MS);
    CHECK_U64(r.rtt.rttvar, 333 * MS / 2);
    CHECK_U64(r.rtt.first_sample_time, QC_TS_NONE);
    CHECK_U64(r.max_ack_delay, 25 * MS);
    CHECK_U64(r.cc.cwnd, 12000);
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    CHECK_U64(qc_recovery_timer(&r, true, true, true), QC_TS_NONE);
    qc_recovery_free(&r);
    setup(&r, false, 100 * MS);
    CHECK_U64(r.rtt.smoothed, 100 * MS);
    CHECK_U64(r.rtt.rttvar, 50 * MS);
    /* A client before sending anything has no timer. */
    CHECK_U64(qc_recovery_timer(&r, false, false, false), QC_TS_NONE);
    qc_recovery_free(&r);
}

static void test_rtt_estimator(void) {
    qc_recovery r;
    setup(&r, true, 0);
    send_pkt(&r, QC_PNS_APP, 0, 0);
    CHECK_U64(qc_recovery_in_flight(&r), MDS);
    /* First sample: ack_delay ignored. */
    CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 0, 10 * MS, true, 100 * MS), 0);
    CHECK_U64(r.rtt.latest, 100 * MS);
    CHECK_U64(r.rtt.min, 100 * MS);
    CHECK_U64(r.rtt.smoothed, 100 * MS);
    CHECK_U64(r.rtt.rttvar, 50 * MS);
    CHECK_U64(r.rtt.first_sample_time, 100 * MS);
    /* latest 160, ack_delay 20: adjusted 140. */
    send_pkt(&r, QC_PNS_APP, 1, 100 * MS);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 1, 20 * MS, true, 260 * MS), 0);
    CHECK_U64(r.rtt.latest, 160 * MS);
    CHECK_U64(r.rtt.min, 100 * MS);
    CHECK_U64(r.rtt.rttvar, 47500 * QC_US);
    CHECK_U64(r.rtt.smoothed, 105 * MS);
    /* latest 80 < min + ack_delay: not adjusted; new min. */
    send_pkt(&r, QC_PNS_APP, 2, 300 * MS);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 2, 2, 5 * MS, true, 380 * MS), 0);
    CHECK_U64(r.rtt.latest, 80 * MS);
    CHECK_U64(r.rtt.min, 80 * MS);
    CHECK_U64(r.rtt.rttvar, 41875 * QC_US);
    CHECK_U64(r.rtt.smoothed, 101875 * QC_US);
    CHECK_U64(r.rtt.first_sample_time, 100 * MS);
    /* An ACK whose largest is not newly acknowledged gives no sample. */
    send_pkt(&r, QC_PNS_APP, 3, 400 * MS);
    send_pkt(&r, QC_PNS_APP, 4, 401 * MS);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 4, 4, 0, true, 500 * MS), 0);
    qc_ts s = r.rtt.smoothed;
    CHECK_EQ(ack1(&r, QC_PNS_APP, 3, 4, 0, true, 900 * MS), 0);
    CHECK_U64(r.rtt.latest, 99 * MS);
    CHECK_U64(r.rtt.smoothed, s);
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    qc_recovery_free(&r);
}

/* Samples of 100 ms then 200 ms with ack_delay 50 ms, max_ack_delay 25 ms. */
static void test_ack_delay_cap(void) {
    for (int confirmed = 0; confirmed < 2; confirmed++) {
        qc_recovery r;
        setup(&r, true, 0);
        send_pkt(&r, QC_PNS_APP, 0, 0);
        CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 0, 0, confirmed, 100 * MS), 0);
        send_pkt(&r, QC_PNS_APP, 1, 100 * MS);
        CHECK_EQ(ack1(&r, QC_PNS_APP, 1, 1, 50 * MS, confirmed, 300 * MS), 0);
        CHECK_U64(r.rtt.latest, 200 * MS);
        if (confirmed) { /* adjusted 175 */
            CHECK_U64(r.rtt.smoothed, 109375 * QC_US);
            CHECK_U64(r.rtt.rttvar, 56250 * QC_US);
        } else { /* adjusted 150 */
            CHECK_U64(r.rtt.smoothed, 106250 * QC_US);
            CHECK_U64(r.rtt.rttvar, 50 * MS);
        }
        qc_recovery_free(&r);
    }
}

static void test_packet_threshold_and_time_loss(void) {
    qc_recovery r;
    setup(&r, true, 0);
    for (uint64_t pn = 0; pn < 5; pn++)
        send_pkt(&r, QC_PNS_APP, pn, pn * MS);
    CHECK_U64(qc_recovery_in_flight(&r), 5 * MDS);
    CHECK_U64(r.ack_eliciting_in_flight[QC_PNS_APP], 5);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 3, 4, 0, true, 100 * MS), 0);
    /* latest 96 ms: loss delay 108 ms; 0 and 1 lost by packet threshold, 2 waits. */
    CHECK_EQ(nevents, 4);
    CHECK_EQ(events[0].lost, 0);
    CHECK_U64(events[0].pn, 3);
    CHECK_EQ(events[1].lost, 0);
    CHECK_U64(events[1].pn, 4);
    CHECK_EQ(events[2].lost, 1);
    CHECK_U64(events[2].pn, 0);
    CHECK_EQ(events[3].lost, 1);
    CHECK_U64(events[3].pn, 1);
    CHECK_EQ(events[3].space, QC_PNS_APP);
    CHECK_U64(events[3].frame_offset, 1000);
    CHECK_U64(qc_recovery_in_flight(&r), MDS);
    CHECK_U64(r.ack_eliciting_in_flight[QC_PNS_APP], 1);
    CHECK_U64(r.loss_time[QC_PNS_APP], 110 * MS);
    /* One congestion event; packets sent before it do not grow the window. */
    CHECK_U64(r.cc.cwnd, 6000);
    CHECK_U64(r.cc.recovery_start, 100 * MS);
    CHECK_EQ(r.sent[QC_PNS_APP].count, 3); /* 2 in flight at the head, then 3 and 4 */

    /* Time threshold through the timer. */
    enum qc_pn_space ps = QC_PNS_HANDSHAKE;
    CHECK_U64(qc_recovery_timer(&r, true, true, true), 110 * MS);
    CHECK_EQ(qc_recovery_on_timeout(&r, true, true, true, 110 * MS - 1, &ps), 0);
    CHECK_EQ(nevents, 4);
    CHECK_EQ(qc_recovery_on_timeout(&r, true, true, true, 110 * MS, &ps), 0);
    CHECK_EQ(ps, QC_PNS_HANDSHAKE); /* untouched */
    CHECK_EQ(nevents, 5);
    CHECK_EQ(events[4].lost, 1);
    CHECK_U64(events[4].pn, 2);
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    CHECK_U64(r.loss_time[QC_PNS_APP], QC_TS_NONE);
    CHECK_U64(r.cc.cwnd, 6000); /* same recovery period */
    CHECK_EQ(r.pto_count, 0);
    CHECK_EQ(r.sent[QC_PNS_APP].count, 0);
    CHECK_U64(qc_recovery_timer(&r, true, true, true), QC_TS_NONE);
    /* A late ACK for lost packets reports nothing again. */
    CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 4, 0, true, 200 * MS), 0);
    CHECK_EQ(nevents, 5);
    qc_recovery_free(&r);
}

static void test_pto(void) {
    qc_recovery r;
    setup(&r, true, 100 * MS); /* PTO = 100 + 4 * 50 = 300 ms (+25 in APP) */
    CHECK_U64(qc_recovery_pto(&r, false), 300 * MS);
    CHECK_U64(qc_recovery_pto(&r, true), 325 * MS);
    send_pkt(&r, QC_PNS_APP, 0, 10 * MS);
    CHECK_U64(qc_recovery_timer(&r, true, true, true), 335 * MS);
    /* No application PTO before handshake confirmation. */
    CHECK_U64(qc_recovery_timer(&r, false, true, true), QC_TS_NONE);
    enum qc_pn_space ps = QC_PNS_INITIAL;
    CHECK_EQ(qc_recovery_on_timeout(&r, false, true, true, QC_SEC, &ps), 0);
    CHECK_EQ(r.pto_count, 0);
    /* Initial sent later but expiring earlier wins. */
    send_pkt(&r, QC_PNS_INITIAL, 0, 20 * MS);
    CHECK_U64(qc_recovery_timer(&r, true, true, true), 320 * MS);
    CHECK_U64(qc_recovery_timer(&r, false, true, true), 320 * MS);
    CHECK_EQ(qc_recovery_on_timeout(&r, true, true, true, 320 * MS - 1, &ps), 0);
    CHECK_EQ(r.pto_count, 0);
    ps = QC_PNS_APP;
    CHECK_EQ(qc_recovery_on_timeout(&r, true, true, true, 320 * MS, &ps), 1);
    CHECK_EQ(ps, QC_PNS_INITIAL);
    CHECK_EQ(r.pto_count, 1);
    CHECK_EQ(nevents, 0); /* a PTO declares nothing lost */
    CHECK_U64(qc_recovery_in_flight(&r), 2 * MDS);
    /* Backoff: the PTO doubles; APP is now 10 + 650 = 660, Initial 20 + 600 = 620. */
    CHECK_U64(qc_recovery_pto(&r, false), 600 * MS);
    CHECK_U64(qc_recovery_timer(&r, true, true, true), 620 * MS);
    CHECK_EQ(qc_recovery_on_timeout(&r, true, true, true, 620 * MS, &ps), 1);
    CHECK_EQ(r.pto_count, 2);
    /* Initial 20 + 1200 = 1220, APP 10 + 1300 = 1310. */
    CHECK_U64(qc_recovery_timer(&r, true, true, true), 1220 * MS);
    CHECK_EQ(qc_recovery_on_timeout(&r, true, true, true, 1220 * MS, &ps), 1);
    CHECK_EQ(ps, QC_PNS_INITIAL);
    CHECK_EQ(r.pto_count, 3);
    CHECK_U64(qc_recovery_pto(&r, true), 2600 * MS);
    /* An ACK resets the backoff (server). */
    CHECK_EQ(ack1(&r, QC_PNS_INITIAL, 0, 0, 0, false, 1300 * MS), 0);
    CHECK_EQ(r.pto_count, 0);
    qc_recovery_free(&r);
}

static void test_anti_deadlock_client(void) {
    qc_recovery r;
    setup(&r, false, 0);
    send_pkt(&r, QC_PNS_INITIAL, 0, 0);
    CHECK_EQ(ack1(&r, QC_PNS_INITIAL, 0, 0, 0, false, 50 * MS), 0);
    /* smoothed 50, rttvar 25: PTO 150 ms counted from the ACK. */
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    CHECK_U64(qc_recovery_timer(&r, false, false, false), 200 * MS);
    CHECK_U64(qc_recovery_timer(&r, false, false, true), 200 * MS);
    /* Validated, or a server: nothing to time. */
    CHECK_U64(qc_recovery_timer(&r, false, true, true), QC_TS_NONE);
    CHECK_U64(qc_recovery_timer(&r, true, false, true), QC_TS_NONE);
    enum qc_pn_space ps = QC_PNS_APP;
    CHECK_EQ(qc_recovery_on_timeout(&r, false, false, true, 199 * MS, &ps), 0);
    CHECK_EQ(qc_recovery_on_timeout(&r, false, false, true, 200 * MS, &ps), 1);
    CHECK_EQ(ps, QC_PNS_HANDSHAKE);
    CHECK_EQ(r.pto_count, 1);
    /* Backed off from the timeout. */
    CHECK_U64(qc_recovery_timer(&r, false, false, false), 500 * MS);
    ps = QC_PNS_APP;
    CHECK_EQ(qc_recovery_on_timeout(&r, false, false, false, 500 * MS, &ps), 1);
    CHECK_EQ(ps, QC_PNS_INITIAL);
    CHECK_EQ(r.pto_count, 2);
    /* An Initial ACK does not reset pto_count while the client is unvalidated... */
    send_pkt(&r, QC_PNS_INITIAL, 1, 500 * MS);
    CHECK_EQ(ack1(&r, QC_PNS_INITIAL, 1, 1, 0, false, 550 * MS), 0);
    CHECK_EQ(r.pto_count, 2);
    /* ...a Handshake ACK does. */
    send_pkt(&r, QC_PNS_HANDSHAKE, 0, 600 * MS);
    CHECK_EQ(ack1(&r, QC_PNS_HANDSHAKE, 0, 0, 0, false, 650 * MS), 0);
    CHECK_EQ(r.pto_count, 0);
    CHECK(r.handshake_acked);
    CHECK_U64(qc_recovery_timer(&r, false, false, true), QC_TS_NONE);
    qc_recovery_free(&r);
}

static void test_discard_space(void) {
    qc_recovery r;
    setup(&r, false, 0);
    for (uint64_t pn = 0; pn < 3; pn++)
        send_pkt(&r, QC_PNS_INITIAL, pn, pn * MS);
    send_ack_only(&r, QC_PNS_INITIAL, 3, 3 * MS);
    send_pkt(&r, QC_PNS_HANDSHAKE, 0, 4 * MS);
    CHECK_U64(qc_recovery_in_flight(&r), 4 * MDS);
    CHECK_EQ(ack1(&r, QC_PNS_INITIAL, 2, 2, 0, false, 100 * MS), 0);
    CHECK_EQ(nevents, 1);
    CHECK_U64(qc_recovery_in_flight(&r), 3 * MDS);
    CHECK(r.loss_time[QC_PNS_INITIAL] != QC_TS_NONE);
    qc_recovery_discard_space(&r, QC_PNS_INITIAL);
    CHECK_EQ(nevents, 1); /* no callbacks */
    CHECK_U64(qc_recovery_in_flight(&r), MDS);
    CHECK_U64(r.ack_eliciting_in_flight[QC_PNS_INITIAL], 0);
    CHECK_U64(r.loss_time[QC_PNS_INITIAL], QC_TS_NONE);
    CHECK_U64(r.last_ack_eliciting[QC_PNS_INITIAL], QC_TS_NONE);
    CHECK(r.discarded[QC_PNS_INITIAL]);
    CHECK_EQ(r.sent[QC_PNS_INITIAL].count, 0);
    CHECK(r.sent[QC_PNS_INITIAL].pkts == NULL);
    CHECK_EQ(r.pto_count, 0);
    CHECK_U64(r.cc.cwnd, 12000 + MDS); /* slow start from the ACK of pn 2 */
    /* The PTO now follows the Handshake packet only. */
    CHECK_U64(qc_recovery_timer(&r, false, false, true), 4 * MS + qc_recovery_pto(&r, false));
    /* ACKs in a discarded space are ignored. */
    CHECK_EQ(ack1(&r, QC_PNS_INITIAL, 0, 3, 0, false, 200 * MS), 0);
    CHECK_EQ(nevents, 1);
    CHECK_U64(qc_recovery_in_flight(&r), MDS);
    qc_recovery_free(&r);
}

static void test_ack_unsent(void) {
    qc_recovery r;
    setup(&r, true, 0);
    for (uint64_t pn = 0; pn < 3; pn++)
        send_pkt(&r, QC_PNS_APP, pn, pn * MS);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 3, 0, true, 10 * MS), QC_ERR_PROTO);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 3, 3, 0, true, 10 * MS), QC_ERR_PROTO);
    CHECK_EQ(ack1(&r, QC_PNS_HANDSHAKE, 0, 0, 0, true, 10 * MS), QC_ERR_PROTO);
    CHECK(!r.handshake_acked);
    /* Malformed ranges: first range below zero, gap below zero, truncated pair. */
    uint8_t buf[16];
    qc_range rg = {0, 2};
    qc_frame f = mk_ack(buf, &rg, 1);
    f.u.ack.first_range = 3;
    CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_APP, &f, 0, true, 10 * MS), QC_ERR_FRAME_ENCODING);
    f.u.ack.first_range = 0;
    f.u.ack.range_count = 1;
    buf[0] = 1; /* gap 1 below 2 would end at -1 */
    buf[1] = 0;
    f.u.ack.ranges_len = 2;
    CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_APP, &f, 0, true, 10 * MS), QC_ERR_FRAME_ENCODING);
    buf[0] = 0;
    f.u.ack.ranges_len = 1;
    CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_APP, &f, 0, true, 10 * MS), QC_ERR_FRAME_ENCODING);
    CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_COUNT, &f, 0, true, 10 * MS), QC_ERR_INVAL);
    /* Nothing changed. */
    CHECK_EQ(nevents, 0);
    CHECK_U64(qc_recovery_in_flight(&r), 3 * MDS);
    CHECK_U64(r.largest_acked[QC_PNS_APP], UINT64_MAX);
    CHECK_U64(r.rtt.first_sample_time, QC_TS_NONE);
    qc_recovery_free(&r);
}

static void test_callbacks_once(void) {
    qc_recovery r;
    setup(&r, true, 0);
    for (uint64_t pn = 0; pn < 10; pn++)
        send_pkt(&r, QC_PNS_APP, pn, 0);
    /* Ranges 8-9 and 5-6. */
    uint8_t buf[16];
    qc_range rg[2] = {{8, 9}, {5, 6}};
    qc_frame f = mk_ack(buf, rg, 2);
    CHECK_EQ(f.u.ack.ranges_len, 2);
    CHECK_EQ(buf[0], 0); /* gap 8 - 6 - 2 */
    CHECK_EQ(buf[1], 1);
    CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_APP, &f, 0, true, 10 * MS), 0);
    /* Acked 5, 6, 8, 9 in order; 0-4 are lost (packet threshold from 9, 10 ms later). */
    static const uint64_t want_acked[] = {5, 6, 8, 9};
    CHECK_EQ(nevents, 9);
    for (size_t i = 0; i < 4 && i < nevents; i++) {
        CHECK_EQ(events[i].lost, 0);
        CHECK_U64(events[i].pn, want_acked[i]);
        CHECK_EQ(events[i].kind, QC_SK_STREAM);
        CHECK_EQ(events[i].nframes, 1);
        CHECK_U64(events[i].frame_id, want_acked[i] * 4);
        CHECK_U64(events[i].frame_offset, want_acked[i] * 1000);
    }
    for (size_t i = 4; i < 9 && i < nevents; i++) {
        CHECK_EQ(events[i].lost, 1);
        CHECK_U64(events[i].pn, i - 4);
        CHECK_U64(events[i].frame_id, (i - 4) * 4);
    }
    CHECK_U64(qc_recovery_in_flight(&r), MDS); /* pn 7 */
    /* Everything acknowledged again: only 7 is new. */
    CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 9, 0, true, 11 * MS), 0);
    CHECK_EQ(nevents, 10);
    CHECK_EQ(events[9].lost, 0);
    CHECK_U64(events[9].pn, 7);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 9, 0, true, 12 * MS), 0);
    CHECK_EQ(nevents, 10);
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    CHECK_EQ(r.sent[QC_PNS_APP].count, 0);
    qc_recovery_free(&r);
}

static void test_sender_gaps(void) {
    /* Skipped packet numbers (sender-induced gaps) and ACK-only packets. */
    qc_recovery r;
    setup(&r, true, 0);
    send_pkt(&r, QC_PNS_APP, 0, 0);
    send_ack_only(&r, QC_PNS_APP, 2, 0);
    send_pkt(&r, QC_PNS_APP, 5, 0);
    CHECK_U64(qc_recovery_in_flight(&r), 2 * MDS);
    CHECK_U64(r.ack_eliciting_in_flight[QC_PNS_APP], 2);
    /* Packet numbers must increase: this one is not recorded. */
    send_pkt(&r, QC_PNS_APP, 5, 0);
    CHECK_U64(qc_recovery_in_flight(&r), 2 * MDS);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 1, 5, 0, true, 10 * MS), 0);
    /* 2 and 5 acknowledged; 0 is lost (5 >= 0 + 3, whatever the gaps). */
    CHECK_EQ(nevents, 3);
    CHECK_EQ(events[0].lost, 0);
    CHECK_U64(events[0].pn, 2);
    CHECK_EQ(events[0].kind, QC_SK_ACK);
    CHECK_U64(events[0].frame_id, 7);
    CHECK_EQ(events[1].lost, 0);
    CHECK_U64(events[1].pn, 5);
    CHECK_EQ(events[2].lost, 1);
    CHECK_U64(events[2].pn, 0);
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    CHECK_EQ(r.sent[QC_PNS_APP].count, 0);
    qc_recovery_free(&r);
}

static void test_persistent_congestion(void) {
    for (int broken = 0; broken < 2; broken++) {
        qc_recovery r;
        setup(&r, true, 0);
        send_pkt(&r, QC_PNS_APP, 0, 0);
        CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 0, 0, true, 100 * MS), 0);
        CHECK_U64(r.cc.cwnd, 12000 + MDS);
        send_pkt(&r, QC_PNS_APP, 1, 200 * MS);
        send_pkt(&r, QC_PNS_APP, 2, 600 * MS);
        send_pkt(&r, QC_PNS_APP, 3, 1200 * MS);
        send_pkt(&r, QC_PNS_APP, 4, 1300 * MS);
        send_pkt(&r, QC_PNS_APP, 5, 1301 * MS);
        /*
         * Sample 99 ms: smoothed 99.875, rttvar 37.75, so the persistent
         * congestion duration is (99.875 + 151 + 25) * 3 = 827.625 ms, and
         * packets sent before 1400 - 112.36 ms are lost: 1, 2 and 3 (1000 ms
         * apart), unless 2 is acknowledged in between.
         */
        uint8_t buf[16];
        qc_range rg[2] = {{5, 5}, {2, 2}};
        qc_frame f = mk_ack(buf, rg, broken ? 2 : 1);
        CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_APP, &f, 0, true, 1400 * MS), 0);
        CHECK_U64(r.rtt.smoothed, 99875 * QC_US);
        CHECK_U64(r.rtt.rttvar, 37750 * QC_US);
        CHECK_U64(qc_recovery_in_flight(&r), MDS); /* pn 4 */
        CHECK_U64(r.cc.ssthresh, 6600);
        if (broken) {
            CHECK_EQ(nevents, 5); /* with the ACK of pn 0 */
            static const int lost[] = {0, 0, 1, 1};
            static const uint64_t pns[] = {2, 5, 1, 3};
            for (size_t i = 0; i < 4 && i + 1 < nevents; i++) {
                CHECK_EQ(events[i + 1].lost, lost[i]);
                CHECK_U64(events[i + 1].pn, pns[i]);
            }
            CHECK_U64(r.cc.cwnd, 6600);
            CHECK_U64(r.cc.recovery_start, 1400 * MS);
        } else {
            /* Minimum window, out of recovery: the ACK of pn 5 then grows it. */
            CHECK_EQ(nevents, 5); /* with the ACK of pn 0 */
            static const int lost[] = {0, 1, 1, 1};
            static const uint64_t pns[] = {5, 1, 2, 3};
            for (size_t i = 0; i < 4 && i + 1 < nevents; i++) {
                CHECK_EQ(events[i + 1].lost, lost[i]);
                CHECK_U64(events[i + 1].pn, pns[i]);
            }
            CHECK_U64(r.cc.cwnd, 2 * MDS + MDS);
            CHECK_U64(r.cc.recovery_start, QC_TS_NONE);
        }
        qc_recovery_free(&r);
    }
}

static void test_ecn_ce(void) {
    qc_recovery r;
    setup(&r, true, 0);
    send_pkt(&r, QC_PNS_APP, 0, 0);
    send_pkt(&r, QC_PNS_APP, 1, MS);
    uint8_t buf[16];
    qc_range rg = {0, 0};
    qc_frame f = mk_ack(buf, &rg, 1);
    f.type = QC_FT_ACK_ECN;
    f.u.ack.ecn = true;
    f.u.ack.ect0 = 1;
    f.u.ack.ce = 1;
    CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_APP, &f, 0, true, 50 * MS), 0);
    CHECK_U64(r.cc.cwnd, 6000);
    CHECK_U64(r.cc.recovery_start, 50 * MS);
    CHECK_U64(r.ecn_ce[QC_PNS_APP], 1);
    /* Same CE count: no new event. */
    send_pkt(&r, QC_PNS_APP, 2, 60 * MS);
    rg = (qc_range){1, 2};
    f = mk_ack(buf, &rg, 1);
    f.u.ack.ecn = true;
    f.u.ack.ce = 1;
    CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_APP, &f, 0, true, 100 * MS), 0);
    CHECK_U64(r.cc.recovery_start, 50 * MS);
    CHECK_U64(r.cc.cwnd, 6000);
    CHECK_U64(r.cc.acked_in_ca, MDS); /* only pn 2 was sent after the recovery started */
    /* A higher CE count for a packet sent after the recovery start: new event. */
    send_pkt(&r, QC_PNS_APP, 3, 110 * MS);
    rg = (qc_range){3, 3};
    f = mk_ack(buf, &rg, 1);
    f.u.ack.ecn = true;
    f.u.ack.ce = 2;
    CHECK_EQ(qc_recovery_on_ack(&r, QC_PNS_APP, &f, 0, true, 150 * MS), 0);
    CHECK_U64(r.cc.cwnd, 3000);
    CHECK_U64(r.cc.recovery_start, 150 * MS);
    CHECK_U64(r.ecn_ce[QC_PNS_APP], 2);
    qc_recovery_free(&r);
}

static void test_many_packets_bounded(void) {
    qc_recovery r;
    setup(&r, true, 0);
    qc_ts now = 0;
    for (uint64_t pn = 0; pn < 100000; pn++) {
        send_pkt(&r, QC_PNS_APP, pn, now);
        now += 10 * QC_US;
        if (pn % 2 == 1) CHECK_EQ(ack1(&r, QC_PNS_APP, pn - 1, pn, 0, true, now + MS), 0);
    }
    CHECK_U64(nacked_total, 100000);
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    CHECK_EQ(r.sent[QC_PNS_APP].count, 0);
    CHECK_EQ(r.sent[QC_PNS_APP].cap, 16);
    CHECK_U64(r.ack_eliciting_in_flight[QC_PNS_APP], 0);
    CHECK_U64(qc_recovery_timer(&r, true, true, true), QC_TS_NONE);
    qc_recovery_free(&r);

    /* Growth when many are outstanding: 1000 in flight, then all acknowledged. */
    setup(&r, true, 0);
    for (uint64_t pn = 0; pn < 1000; pn++)
        send_pkt(&r, QC_PNS_APP, pn, 0);
    CHECK_EQ(r.sent[QC_PNS_APP].count, 1000);
    CHECK_EQ(r.sent[QC_PNS_APP].cap, 1024);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 0, 999, 0, true, 10 * MS), 0);
    CHECK_U64(nacked_total, 1000);
    CHECK_EQ(r.sent[QC_PNS_APP].count, 0);
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    qc_recovery_free(&r);
}

/* on_lost retransmits at once (growing the ring while recovery walks it). */
static qc_recovery *reent_r;
static uint64_t reent_next_pn;
static void reent_lost(void *user, enum qc_pn_space space, const qc_sent_pkt *p) {
    on_lost(user, space, p);
    for (int i = 0; i < 2; i++)
        send_pkt(reent_r, space, reent_next_pn++, 20 * MS);
}

static void test_callback_sends(void) {
    qc_recovery r;
    static const qc_recovery_cbs rcbs = {NULL, on_acked, reent_lost};
    nevents = 0;
    nacked_total = 0;
    qc_recovery_init(&r, &rcbs, true, MDS, 0);
    reent_r = &r;
    for (uint64_t pn = 0; pn < 16; pn++)
        send_pkt(&r, QC_PNS_APP, pn, 0);
    CHECK_EQ(r.sent[QC_PNS_APP].cap, 16);
    reent_next_pn = 16;
    CHECK_EQ(ack1(&r, QC_PNS_APP, 15, 15, 0, true, 10 * MS), 0);
    /* 15 acked, 0..12 lost, each retransmitted twice. */
    CHECK_EQ(nevents, 14);
    CHECK_EQ(events[0].lost, 0);
    CHECK_U64(events[0].pn, 15);
    for (size_t i = 1; i < 14 && i < nevents; i++) {
        CHECK_EQ(events[i].lost, 1);
        CHECK_U64(events[i].pn, i - 1);
    }
    CHECK_U64(reent_next_pn, 16 + 26);
    CHECK_EQ(r.sent[QC_PNS_APP].count, 3 + 26); /* 13, 14, acked 15 behind them, new ones */
    CHECK_U64(qc_recovery_in_flight(&r), (2 + 26) * MDS);
    CHECK_U64(r.ack_eliciting_in_flight[QC_PNS_APP], 28);
    CHECK_EQ(ack1(&r, QC_PNS_APP, 13, 41, 0, true, 40 * MS), 0);
    CHECK_EQ(nevents, 14 + 28);
    CHECK_U64(qc_recovery_in_flight(&r), 0);
    qc_recovery_free(&r);
}

int main(void) {
    TEST_RUN(test_init);
    TEST_RUN(test_rtt_estimator);
    TEST_RUN(test_ack_delay_cap);
    TEST_RUN(test_packet_threshold_and_time_loss);
    TEST_RUN(test_pto);
    TEST_RUN(test_anti_deadlock_client);
    TEST_RUN(test_discard_space);
    TEST_RUN(test_ack_unsent);
    TEST_RUN(test_callbacks_once);
    TEST_RUN(test_sender_gaps);
    TEST_RUN(test_persistent_congestion);
    TEST_RUN(test_ecn_ce);
    TEST_RUN(test_many_packets_bounded);
    TEST_RUN(test_callback_sends);
    return test_summary();
}
