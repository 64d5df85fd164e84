/* rangeset.c: sorted disjoint range set (see rangeset.h). */
#include "core/rangeset.h"

#include <stdlib.h>

void qc_rangeset_init(qc_rangeset *s, size_t max) {
    s->r = NULL;
    s->n = s->cap = 0;
    s->max = max;
}

void qc_rangeset_free(qc_rangeset *s) {
    qc_free(s->r);
    s->r = NULL;
    s->n = s->cap = 0;
}

static int reserve(qc_rangeset *s, size_t need) {
    if (need <= s->cap) return 0;
    size_t cap = s->cap ? s->cap * 2 : 4;
    while (cap < need)
        cap *= 2;
    qc_range *r = qc_realloc(s->r, cap * sizeof(*r));
    if (!r) return QC_ERR_NOMEM;
    s->r = r;
    s->cap = cap;
    return 0;
}

/* Index of the first range whose hi + 1 >= v (i.e. that v could touch or precede). */
static size_t lower_bound(const qc_rangeset *s, uint64_t v) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->r[mid].hi != UINT64_MAX && s->r[mid].hi + 1 < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool qc_rangeset_adds_range(const qc_rangeset *s, uint64_t lo, uint64_t hi) {
    size_t i = lower_bound(s, lo);
    return i == s->n || (hi != UINT64_MAX && s->r[i].lo > hi + 1);
}

int qc_rangeset_add(qc_rangeset *s, uint64_t lo, uint64_t hi) {
    if (lo > hi) return QC_ERR_INVAL;
    /* Fast path: append after the last range (the common case for packet numbers). */
    if (s->n && s->r[s->n - 1].hi != UINT64_MAX && s->r[s->n - 1].hi + 1 < lo) {
        ;
    } else if (s->n && lo >= s->r[s->n - 1].lo && lo <= s->r[s->n - 1].hi + 1 &&
               s->r[s->n - 1].hi + 1 != 0) {
        if (hi > s->r[s->n - 1].hi) s->r[s->n - 1].hi = hi;
        return 0;
    }
    size_t i = lower_bound(s, lo);
    /* Ranges i..j-1 touch or overlap [lo, hi]. */
    size_t j = i;
    while (j < s->n && (hi == UINT64_MAX || s->r[j].lo <= hi + 1)) {
        if (s->r[j].lo < lo) lo = s->r[j].lo;
        if (s->r[j].hi > hi) hi = s->r[j].hi;
        j++;
    }
    if (j > i) {
        s->r[i].lo = lo;
        s->r[i].hi = hi;
        memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof(qc_range));
        s->n -= j - i - 1;
        return 0;
    }
    if (s->max && s->n >= s->max) {
        if (i == 0) return 0; /* older than everything kept: drop */
        memmove(&s->r[0], &s->r[1], (i - 1) * sizeof(qc_range));
        s->r[i - 1].lo = lo;
        s->r[i - 1].hi = hi;
        return 0;
    }
    int rv = reserve(s, s->n + 1);
    if (rv) return rv;
    memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(qc_range));
    s->r[i].lo = lo;
    s->r[i].hi = hi;
    s->n++;
    return 0;
}

int qc_rangeset_remove(qc_rangeset *s, uint64_t lo, uint64_t hi) {
    if (lo > hi) return QC_ERR_INVAL;
    size_t i = 0;
    /* First range with r.hi >= lo. */
    size_t a = 0, b = s->n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (s->r[mid].hi < lo)
            a = mid + 1;
        else
            b = mid;
    }
    i = a;
    while (i < s->n && s->r[i].lo <= hi) {
        qc_range cur = s->r[i];
        if (cur.lo < lo && cur.hi > hi) { /* split */
            int rv = reserve(s, s->n + 1);
            if (rv) return rv;
            memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(qc_range));
            s->n++;
            s->r[i].hi = lo - 1;
            s->r[i + 1].lo = hi + 1;
            return 0;
        }
        if (cur.lo < lo) {
            s->r[i].hi = lo - 1;
            i++;
        } else if (cur.hi > hi) {
            s->r[i].lo = hi + 1;
            return 0;
        } else {
            memmove(&s->r[i], &s->r[i + 1], (s->n - i - 1) * sizeof(qc_range));
            s->n--;
        }
    }
    return 0;
}

bool qc_rangeset_contains(const qc_rangeset *s, uint64_t v) {
    size_t a = 0, b = s->n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (s->r[mid].hi < v)
            a = mid + 1;
        else
            b = mid;
    }
    return a < s->n && s->r[a].lo <= v;
}

void qc_rangeset_remove_below(qc_rangeset *s, uint64_t v) {
    if (v == 0) return;
    (void)qc_rangeset_remove(s, 0, v - 1); /* never splits, so never allocates */
}

uint64_t qc_rangeset_gap_len(const qc_rangeset *s, uint64_t lo, uint64_t hi) {
    if (lo > hi) return 0;
    uint64_t covered = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->r[i].hi < lo) continue;
        if (s->r[i].lo > hi) break;
        uint64_t a = QC_MAX(s->r[i].lo, lo), b = QC_MIN(s->r[i].hi, hi);
        covered += b - a + 1;
    }
    return (hi - lo + 1) - covered;
}
