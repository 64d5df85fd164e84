/*
 * ecn.h: Explicit Congestion Notification for one path (RFC 9000 §13.4, RFC 9002 §7.1):
 * the codepoint our packets carry and the validation of the peer's ECN counts. Packets go
 * out ECT(0) while the path is being tested or has proven capable; the first ACK that
 * shows the marks did not arrive (no counts, counts that go down, fewer ECT(0)+CE than
 * the ECT(0) packets it newly acknowledges, ECT(1) we never sent), or the loss of every
 * marked packet while testing, turns marking off for good. Pure state; the connection
 * feeds it what it sends, what is acknowledged and lost, and every ACK's counts.
 */
#ifndef QC_ECN_H
#define QC_ECN_H

#include "core/common.h"

/* IP codepoints (the two low bits of the TOS / traffic class byte). */
enum { QC_ECN_NOT_ECT = 0, QC_ECN_ECT1 = 1, QC_ECN_ECT0 = 2, QC_ECN_CE = 3 };

/* Validation states (changed in ecn.c only). */
enum qc_ecn_state {
    QC_ECN_TESTING = 0, /* marking; no ACK has shown the marks yet */
    QC_ECN_CAPABLE,     /* marking; the peer's counts matched */
    QC_ECN_FAILED,      /* not marking: the path or the peer loses or bleaches the marks */
    QC_ECN_DISABLED,    /* not marking: turned off by configuration */
};

/* Marked packets lost while testing, with none acknowledged, that fail the path. */
#define QC_ECN_TEST_LOSSES 10

typedef struct qc_ecn {
    enum qc_ecn_state state;
    const char *why;                /* why validation failed (for logs and tests) */
    uint64_t peer[QC_PNS_COUNT][3]; /* the largest ECT(0), ECT(1), CE counts reported */
    uint64_t marked_sent, marked_acked, marked_lost;
} qc_ecn;

void qc_ecn_init(qc_ecn *e, bool enabled);
/* The codepoint for the packets we send now. */
unsigned qc_ecn_mark(const qc_ecn *e);
/* A packet we sent with the mark qc_ecn_mark gave (marked) was declared lost. */
void qc_ecn_on_lost(qc_ecn *e, bool marked);
void qc_ecn_on_sent(qc_ecn *e, bool marked);
/*
 * An ACK frame of space sp newly acknowledged newly_marked packets we sent ECT(0) (and
 * maybe others); counts are its ECT(0), ECT(1) and CE counts, or NULL for an ACK without
 * them. Validates them (RFC 9000 §13.4.2.1) and remembers the largest.
 */
void qc_ecn_on_ack(qc_ecn *e, enum qc_pn_space sp, uint64_t newly_marked, const uint64_t *counts);

#endif
