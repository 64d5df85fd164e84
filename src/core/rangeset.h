/*
 * rangeset.h: a sorted set of disjoint, non-adjacent closed ranges of
 * uint64_t (packet numbers, byte offsets). Used by ACK tracking, send-buffer
 * acknowledgement and loss bookkeeping, and receive reassembly.
 *
 * Storage is a growable array (ascending order) owned by the set; ranges
 * that touch or overlap are merged on insert. A set may be capped: when
 * full, the lowest ranges are dropped (for ACK tracking).
 */
#ifndef QC_RANGESET_H
#define QC_RANGESET_H

#include "core/common.h"

typedef struct qc_rangeset {
    qc_range *r; /* ascending */
    size_t n, cap;
    size_t max; /* 0 = unbounded; otherwise the lowest ranges are dropped past max */
} qc_rangeset;

void qc_rangeset_init(qc_rangeset *s, size_t max);
void qc_rangeset_free(qc_rangeset *s);
/* Adds [lo, hi]. Returns 0 or QC_ERR_NOMEM. */
int qc_rangeset_add(qc_rangeset *s, uint64_t lo, uint64_t hi);
/* Removes [lo, hi] (may split a range). Returns 0 or QC_ERR_NOMEM. */
int qc_rangeset_remove(qc_rangeset *s, uint64_t lo, uint64_t hi);
bool qc_rangeset_contains(const qc_rangeset *s, uint64_t v);
/* Removes everything below v. */
void qc_rangeset_remove_below(qc_rangeset *s, uint64_t v);
/* Lowest range, or NULL if empty. */
static inline const qc_range *qc_rangeset_first(const qc_rangeset *s) {
    return s->n ? &s->r[0] : NULL;
}
static inline const qc_range *qc_rangeset_last(const qc_rangeset *s) {
    return s->n ? &s->r[s->n - 1] : NULL;
}
/* Number of values in [lo, hi] that are NOT covered by the set. */
uint64_t qc_rangeset_gap_len(const qc_rangeset *s, uint64_t lo, uint64_t hi);
/* Would adding [lo, hi] make one range more (it touches no range there is)? */
bool qc_rangeset_adds_range(const qc_rangeset *s, uint64_t lo, uint64_t hi);

#endif
