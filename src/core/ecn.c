/*
 * ecn.c: ECN validation (ecn.h). Every change of state happens in set_state, and only
 * these moves are legal: TESTING -> CAPABLE, TESTING or CAPABLE -> FAILED.
 */
#include "core/ecn.h"

#include <assert.h>

static void set_state(qc_ecn *e, enum qc_ecn_state to, const char *why) {
    assert((e->state == QC_ECN_TESTING && (to == QC_ECN_CAPABLE || to == QC_ECN_FAILED)) ||
           (e->state == QC_ECN_CAPABLE && to == QC_ECN_FAILED));
    e->state = to;
    e->why = why;
}

void qc_ecn_init(qc_ecn *e, bool enabled) {
    memset(e, 0, sizeof(*e));
    e->state = enabled ? QC_ECN_TESTING : QC_ECN_DISABLED;
}

unsigned qc_ecn_mark(const qc_ecn *e) {
    return e->state == QC_ECN_TESTING || e->state == QC_ECN_CAPABLE ? QC_ECN_ECT0 : QC_ECN_NOT_ECT;
}

void qc_ecn_on_sent(qc_ecn *e, bool marked) {
    if (marked) e->marked_sent++;
}

void qc_ecn_on_lost(qc_ecn *e, bool marked) {
    if (!marked) return;
    e->marked_lost++;
    /* Every marked packet lost, none acknowledged: a path that drops ECT packets. */
    if (e->state == QC_ECN_TESTING && e->marked_acked == 0 && e->marked_lost >= QC_ECN_TEST_LOSSES)
        set_state(e, QC_ECN_FAILED, "every ECT(0) packet lost");
}

void qc_ecn_on_ack(qc_ecn *e, enum qc_pn_space sp, uint64_t newly_marked, const uint64_t *counts) {
    if (e->state == QC_ECN_FAILED || e->state == QC_ECN_DISABLED) return;
    e->marked_acked += newly_marked;
    uint64_t *have = e->peer[sp];
    if (!counts) {
        /* Marked packets acknowledged without counts: the marks were bleached, or the
         * peer does not report them. Either way ECN cannot work here. */
        if (newly_marked) set_state(e, QC_ECN_FAILED, "ACK without ECN counts");
        return;
    }
    if (counts[0] < have[0] || counts[1] < have[1] || counts[2] < have[2]) {
        set_state(e, QC_ECN_FAILED, "ECN counts went down");
        return;
    }
    uint64_t d_ect0 = counts[0] - have[0], d_ect1 = counts[1] - have[1], d_ce = counts[2] - have[2];
    memcpy(have, counts, sizeof(e->peer[sp]));
    if (d_ect1) {
        set_state(e, QC_ECN_FAILED, "ECT(1) counted, never sent");
        return;
    }
    if (d_ect0 + d_ce < newly_marked) {
        set_state(e, QC_ECN_FAILED, "fewer ECN marks counted than ECT(0) packets acknowledged");
        return;
    }
    if (newly_marked && e->state == QC_ECN_TESTING) set_state(e, QC_ECN_CAPABLE, NULL);
}
