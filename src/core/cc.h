/*
 * cc.h: congestion control behind an interface (RFC 9002 §7). NewReno is
 * the default; other algorithms plug in by providing a qc_cc_ops and using
 * the state area.
 *
 * Ownership of bytes_in_flight: the caller (recovery.c) adjusts
 * cc->bytes_in_flight itself, BEFORE calling the matching op: it adds the
 * size of each in-flight packet sent, and subtracts it when that packet is
 * acknowledged, declared lost or discarded with its space. The ops are
 * notifications that only change the window (cwnd, ssthresh, recovery
 * state); they never touch bytes_in_flight.
 */
#ifndef QC_CC_H
#define QC_CC_H

#include "core/common.h"

typedef struct qc_cc qc_cc;

typedef struct qc_cc_ops {
    const char *name;
    void (*init)(qc_cc *cc, size_t max_datagram_size);
    void (*on_sent)(qc_cc *cc, size_t bytes, qc_ts now);
    /* A packet sent at time_sent with bytes was acknowledged. */
    void (*on_acked)(qc_cc *cc, size_t bytes, qc_ts time_sent, qc_ts now);
    /* Loss or ECN-CE of a packet sent at time_sent (RFC 9002 §7.3.2). */
    void (*on_congestion)(qc_cc *cc, qc_ts time_sent, qc_ts now);
    void (*on_persistent_congestion)(qc_cc *cc);
    /* bytes of in-flight packets were discarded with their space (§6.4). */
    void (*on_discarded)(qc_cc *cc, size_t bytes);
} qc_cc_ops;

struct qc_cc {
    const qc_cc_ops *ops;
    uint64_t cwnd;     /* bytes */
    uint64_t ssthresh; /* UINT64_MAX initially */
    uint64_t bytes_in_flight;
    qc_ts recovery_start; /* QC_TS_NONE when not in recovery */
    size_t max_datagram;
    uint64_t acked_in_ca; /* NewReno: bytes acked toward the next cwnd increase */
    bool app_limited;     /* set by the engine: the window is not the limit, do not grow it */
    uint64_t state[8];    /* for other algorithms */
};

extern const qc_cc_ops qc_cc_newreno;

static inline void qc_cc_init(qc_cc *cc, const qc_cc_ops *ops, size_t max_datagram) {
    memset(cc, 0, sizeof(*cc));
    cc->ops = ops;
    ops->init(cc, max_datagram);
}
/* Bytes that may be sent now. */
static inline uint64_t qc_cc_avail(const qc_cc *cc) {
    return cc->cwnd > cc->bytes_in_flight ? cc->cwnd - cc->bytes_in_flight : 0;
}

#endif
