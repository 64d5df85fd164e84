/*
 * fuzz_recovery: ACK processing, loss detection and PTO (core/recovery.c)
 * driven by arbitrary sends, ACK frames, timer firings and key discards,
 * checked against a model of every packet sent:
 *   - every packet is reported acknowledged or lost at most once, never
 *     after its space was discarded, and acknowledged only if the ACK
 *     covered it;
 *   - an ACK of a packet number above the largest sent is QC_ERR_PROTO, and
 *     any other ACK is accepted;
 *   - bytes in flight always equal the sizes of the in-flight packets the
 *     model still has outstanding.
 */
#include "fuzz/fuzz.h"

#include "core/recovery.h"

#define MAXPKT 512

typedef struct mpkt {
    uint32_t size;
    bool eliciting, in_flight, sent, done;
} mpkt;

typedef struct model {
    mpkt pk[QC_PNS_COUNT][MAXPKT];
    uint64_t next_pn[QC_PNS_COUNT];
    bool discarded[QC_PNS_COUNT];
    qc_range ranges[32];
    size_t nranges;
    enum qc_pn_space acking;
} model;

static bool covered(const model *m, uint64_t pn) {
    for (size_t i = 0; i < m->nranges; i++)
        if (pn >= m->ranges[i].lo && pn <= m->ranges[i].hi) return true;
    return false;
}

static void on_acked(void *user, enum qc_pn_space space, const qc_sent_pkt *p) {
    model *m = user;
    FZ_CHECK(!m->discarded[space] && p->pn < MAXPKT);
    mpkt *k = &m->pk[space][p->pn];
    FZ_CHECK(k->sent && !k->done && space == m->acking && covered(m, p->pn));
    FZ_CHECK(p->size == k->size);
    k->done = true;
}

static void on_lost(void *user, enum qc_pn_space space, const qc_sent_pkt *p) {
    model *m = user;
    FZ_CHECK(!m->discarded[space] && p->pn < MAXPKT);
    mpkt *k = &m->pk[space][p->pn];
    FZ_CHECK(k->sent && !k->done);
    k->done = true;
}

static uint64_t model_in_flight(const model *m) {
    uint64_t sum = 0;
    for (int s = 0; s < QC_PNS_COUNT; s++)
        for (uint64_t pn = 0; !m->discarded[s] && pn < m->next_pn[s]; pn++)
            if (m->pk[s][pn].sent && m->pk[s][pn].in_flight && !m->pk[s][pn].done)
                sum += m->pk[s][pn].size;
    return sum;
}

/* ACK ranges from the input, descending, non-overlapping and non-adjacent. */
static void read_ranges(model *m, fz_in *in, uint64_t top) {
    m->nranges = 0;
    uint64_t hi = top;
    size_t want = 1 + fz_u8(in) % 8;
    while (m->nranges < want) {
        uint64_t len = fz_u8(in) % 16;
        uint64_t lo = hi > len ? hi - len : 0;
        m->ranges[m->nranges++] = (qc_range){lo, hi};
        uint64_t gap = 2 + fz_u8(in) % 8;
        if (lo < gap) break;
        hi = lo - gap;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    model *m = calloc(1, sizeof(*m));
    qc_recovery_cbs cbs = {.user = m, .on_acked = on_acked, .on_lost = on_lost};
    qc_recovery r;
    qc_recovery_init(&r, &cbs, fz_u8(&in) & 1, 1200, 333 * QC_MS);
    qc_ts now = QC_SEC;
    bool confirmed = false, validated = false, hs_keys = false;
    for (int op = 0; in.n && op < 2000; op++) {
        uint8_t kind = fz_u8(&in);
        enum qc_pn_space sp = (enum qc_pn_space)((kind >> 4) % QC_PNS_COUNT);
        switch (kind % 7) {
        case 0:
        case 1: { /* send a packet */
            if (m->discarded[sp] || m->next_pn[sp] >= MAXPKT) break;
            qc_sent_pkt *p = qc_recovery_next(&r, sp);
            FZ_CHECK(p != NULL);
            uint64_t pn = m->next_pn[sp] + (kind & 8 ? 1 : 0); /* sometimes skip one */
            if (pn >= MAXPKT) break;
            p->pn = pn;
            p->size = 40 + fz_u8(&in) * 5u;
            p->ack_eliciting = (kind & 4) != 0;
            p->in_flight = p->ack_eliciting || (kind & 2);
            p->nframes = 1;
            p->frames[0] = (qc_sent_frame){.kind = QC_SK_PING};
            m->pk[sp][pn] = (mpkt){p->size, p->ack_eliciting, p->in_flight, true, false};
            m->next_pn[sp] = pn + 1;
            qc_recovery_on_sent(&r, sp, p, now);
            break;
        }
        case 2: { /* an ACK frame */
            if (m->discarded[sp]) break;
            uint64_t top = fz_u16(&in) % (m->next_pn[sp] + 4);
            read_ranges(m, &in, top);
            uint8_t buf[512];
            qc_wr w = qc_wr_init(buf, sizeof(buf));
            FZ_CHECK(qc_frame_encode_ack(&w, m->ranges, m->nranges, fz_u8(&in), NULL) == 0);
            qc_rd rd = qc_rd_init(buf, (size_t)(w.p - buf));
            qc_frame f;
            FZ_CHECK(qc_frame_decode(&rd, &f) == 0);
            m->acking = sp;
            bool never_sent = m->next_pn[sp] == 0 || top >= m->next_pn[sp];
            int rv = qc_recovery_on_ack(&r, sp, &f, (qc_ts)fz_u8(&in) * QC_MS, confirmed, now);
            FZ_CHECK(rv == (never_sent ? QC_ERR_PROTO : 0));
            break;
        }
        case 3: { /* time passes; the timer fires if due */
            now += (qc_ts)fz_u16(&in) * QC_MS / 8;
            qc_ts t = qc_recovery_timer(&r, confirmed, validated, hs_keys);
            if (t != QC_TS_NONE && t <= now) {
                enum qc_pn_space probe = QC_PNS_COUNT;
                int rv = qc_recovery_on_timeout(&r, confirmed, validated, hs_keys, now, &probe);
                FZ_CHECK(rv == 0 || (rv == 1 && probe < QC_PNS_COUNT));
            }
            break;
        }
        case 4: /* a key epoch ends */
            if (sp == QC_PNS_APP || m->discarded[sp]) break;
            qc_recovery_discard_space(&r, sp);
            m->discarded[sp] = true;
            break;
        case 5: /* handshake progress */
            hs_keys = hs_keys || (kind & 8);
            validated = validated || (kind & 16);
            confirmed = confirmed || (kind & 32);
            break;
        default: /* the timer itself is consistent */
            (void)qc_recovery_pto(&r, kind & 1);
            (void)qc_recovery_pto_base(&r);
            break;
        }
        FZ_CHECK(qc_recovery_in_flight(&r) == model_in_flight(m));
    }
    qc_recovery_free(&r);
    free(m);
    return 0;
}
