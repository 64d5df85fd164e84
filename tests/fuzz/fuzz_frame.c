/*
 * fuzz_frame: the frame decoder (core/frame.c) on arbitrary payloads, with an
 * encode round trip. Every frame that decodes must stay inside the input,
 * re-encode, and decode from its encoding to a frame that encodes to the
 * same bytes; a failure leaves the cursor where it was.
 */
#include "fuzz/fuzz.h"

#include "core/frame.h"

static void round_trip(const qc_frame *f) {
    if (f->type == QC_FT_PADDING) return;
    uint8_t a[4096], b[4096];
    qc_wr w = qc_wr_init(a, sizeof(a));
    int rv = qc_frame_encode(&w, f);
    if (rv == QC_ERR_NOBUF) return; /* a frame longer than the scratch buffer */
    FZ_CHECK(rv == 0);
    size_t alen = (size_t)(w.p - a);
    qc_rd r = qc_rd_init(a, alen);
    qc_frame g;
    FZ_CHECK(qc_frame_decode(&r, &g) == 0);
    FZ_CHECK(qc_rd_left(&r) == 0);
    /* A STREAM frame at offset 0 loses its OFF bit when encoded; everything else keeps its type. */
    if (f->type >= QC_FT_STREAM && f->type <= 0x0f)
        FZ_CHECK((g.type | QC_STREAM_BIT_OFF) == (f->type | QC_STREAM_BIT_OFF));
    else
        FZ_CHECK(g.type == f->type);
    qc_wr w2 = qc_wr_init(b, sizeof(b));
    FZ_CHECK(qc_frame_encode(&w2, &g) == 0);
    FZ_CHECK((size_t)(w2.p - b) == alen && memcmp(a, b, alen) == 0);
}

static void check_ack(const qc_frame *f) {
    qc_ack_iter it;
    qc_ack_iter_init(&it, f);
    qc_range rg;
    uint64_t prev_lo = UINT64_MAX, n = 0;
    while (qc_ack_iter_next(&it, &rg)) {
        FZ_CHECK(rg.lo <= rg.hi && rg.hi <= f->u.ack.largest);
        FZ_CHECK(prev_lo == UINT64_MAX || rg.hi + 1 < prev_lo);
        prev_lo = rg.lo;
        n++;
    }
    FZ_CHECK(n == f->u.ack.range_count + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = fz_dup(data, size);
    qc_rd r = qc_rd_init(copy, size);
    while (qc_rd_left(&r) > 0) {
        qc_frame f;
        const uint8_t *before = r.p;
        int rv = qc_frame_decode(&r, &f);
        if (rv) {
            FZ_CHECK(rv == QC_ERR_FRAME_ENCODING || rv == QC_ERR_PROTO);
            FZ_CHECK(r.p == before);
            break;
        }
        FZ_CHECK(r.p > before && r.p <= copy + size);
        FZ_CHECK(qc_frame_name(f.type) != NULL);
        for (int pt = QC_PT_INITIAL; pt <= QC_PT_1RTT; pt++)
            (void)qc_frame_allowed(f.type, (enum qc_pkt_type)pt);
        if (f.type == QC_FT_ACK || f.type == QC_FT_ACK_ECN) check_ack(&f);
        round_trip(&f);
    }
    free(copy);
    return 0;
}
