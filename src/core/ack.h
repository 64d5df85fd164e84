/*
 * ack.h: received-packet tracking for one packet number space and ACK frame
 * generation (RFC 9000 §13.2): which packet numbers arrived, when an ACK
 * must go out (immediately for out-of-order or every second ack-eliciting
 * packet, else after max_ack_delay), and the ACK ranges to send.
 */
#ifndef QC_ACK_H
#define QC_ACK_H

#include "core/common.h"
#include "core/rangeset.h"
#include "core/varint.h"

#define QC_ACK_MAX_RANGES 64

typedef struct qc_ack_tracker {
    qc_rangeset received;       /* capped at QC_ACK_MAX_RANGES: oldest dropped */
    uint64_t largest;           /* UINT64_MAX until a packet arrived */
    qc_ts largest_time;         /* when the largest arrived (for ack_delay) */
    uint64_t floor;             /* packets below are treated as duplicates */
    unsigned unacked_eliciting; /* ack-eliciting packets since the last ACK sent */
    bool ack_now;               /* an ACK must go out without delay */
    bool ack_needed;            /* something new arrived since the last ACK sent */
    qc_ts ack_deadline;         /* QC_TS_NONE or when a delayed ACK is due */
    uint64_t ecn[3];            /* ECT(0), ECT(1), CE counts */
} qc_ack_tracker;

void qc_ack_init(qc_ack_tracker *t);
void qc_ack_free(qc_ack_tracker *t);
/* True if pn was already received (or is too old to tell). */
bool qc_ack_is_duplicate(const qc_ack_tracker *t, uint64_t pn);
/*
 * Records a received, authenticated packet. ack_delay_max is the local
 * max_ack_delay (ns); immediate forces an ACK now (e.g. Initial/Handshake
 * spaces). Returns 0 or QC_ERR_NOMEM.
 */
int qc_ack_on_packet(qc_ack_tracker *t, uint64_t pn, bool ack_eliciting, bool immediate, qc_ts now,
                     qc_ts ack_delay_max);
/*
 * When a packet must be built just to carry an ACK: the arrival time of the
 * packet that made it urgent if ack_now, the delayed deadline, or QC_TS_NONE.
 * Only ack-eliciting packets ever set it. Use this (deadline <= now) to
 * decide whether to send an ACK-only packet.
 */
qc_ts qc_ack_deadline(const qc_ack_tracker *t);
/*
 * Whether a packet being built at now anyway should carry an ACK frame:
 * true when one is due, or when anything arrived since the last ACK
 * (piggyback, which also acknowledges the peer's ACK-only packets). Never
 * build a packet only because this is true: that would answer ACK-only
 * packets with ACK-only packets.
 */
bool qc_ack_should_send(const qc_ack_tracker *t, qc_ts now);
/*
 * Writes an ACK frame for everything tracked; ack_delay_exp scales the
 * delay field. Resets the pending state. Returns 0, QC_ERR_NOBUF (nothing
 * written, state unchanged) or QC_ERR_INVAL if nothing was received. Sets
 * *largest to the largest pn acknowledged (for qc_ack_on_ack_acked).
 */
int qc_ack_write(qc_ack_tracker *t, qc_wr *w, qc_ts now, unsigned ack_delay_exp, uint64_t *largest);
/*
 * A packet carrying our ACK up to largest was acknowledged: ranges below
 * largest need no repeating. They are forgotten and the floor rises to
 * largest, so late packets below it count as duplicates (RFC 9000 §13.2.4).
 */
void qc_ack_on_ack_acked(qc_ack_tracker *t, uint64_t largest);

#endif
