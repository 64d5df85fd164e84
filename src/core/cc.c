/*
 * cc.c: NewReno congestion control (RFC 9002 §7 and Appendix B).
 *
 * Slow start grows the window by the bytes acknowledged; congestion
 * avoidance grows it by one maximum datagram per window's worth of bytes
 * acknowledged (counted in acked_in_ca, no division). A loss or ECN-CE
 * starts a recovery period at the time it is detected; only packets sent
 * after that time can start another one or grow the window again.
 * bytes_in_flight is maintained by the caller (see cc.h).
 */
#include "core/cc.h"

static uint64_t min_window(const qc_cc *cc) {
    return 2 * (uint64_t)cc->max_datagram;
}

static bool in_recovery(const qc_cc *cc, qc_ts time_sent) {
    return cc->recovery_start != QC_TS_NONE && time_sent <= cc->recovery_start;
}

static void nr_init(qc_cc *cc, size_t max_datagram_size) {
    uint64_t mds = max_datagram_size;
    cc->max_datagram = max_datagram_size;
    cc->cwnd = QC_MIN(10 * mds, QC_MAX(14720, 2 * mds));
    cc->ssthresh = UINT64_MAX;
    cc->recovery_start = QC_TS_NONE;
    cc->acked_in_ca = 0;
}

static void nr_on_sent(qc_cc *cc, size_t bytes, qc_ts now) {
    (void)cc;
    (void)bytes;
    (void)now;
}

static void nr_on_acked(qc_cc *cc, size_t bytes, qc_ts time_sent, qc_ts now) {
    (void)now;
    if (cc->app_limited || in_recovery(cc, time_sent)) return;
    if (cc->cwnd < cc->ssthresh) {
        cc->cwnd += bytes;
        return;
    }
    cc->acked_in_ca += bytes;
    if (cc->acked_in_ca >= cc->cwnd) {
        cc->acked_in_ca -= cc->cwnd;
        cc->cwnd += cc->max_datagram;
    }
}

static void nr_on_congestion(qc_cc *cc, qc_ts time_sent, qc_ts now) {
    if (in_recovery(cc, time_sent)) return;
    cc->recovery_start = now;
    cc->ssthresh = cc->cwnd / 2;
    cc->cwnd = QC_MAX(cc->ssthresh, min_window(cc));
    cc->acked_in_ca = 0;
}

static void nr_on_persistent_congestion(qc_cc *cc) {
    cc->cwnd = min_window(cc);
    cc->recovery_start = QC_TS_NONE;
    cc->acked_in_ca = 0;
}

static void nr_on_discarded(qc_cc *cc, size_t bytes) {
    (void)cc;
    (void)bytes;
}

const qc_cc_ops qc_cc_newreno = {
    .name = "newreno",
    .init = nr_init,
    .on_sent = nr_on_sent,
    .on_acked = nr_on_acked,
    .on_congestion = nr_on_congestion,
    .on_persistent_congestion = nr_on_persistent_congestion,
    .on_discarded = nr_on_discarded,
};
