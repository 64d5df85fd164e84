/*
 * Deterministic fuzzing of every decoder and of the connection's receive path: random and
 * mutated inputs must be rejected cleanly (run under ASan+UBSan by make test, which catches
 * any out-of-bounds read). Each decoder must either fail with its documented error or
 * consume bytes within the input.
 */
#include "core/conn_internal.h"
#include "core/frame.h"
#include "core/packet.h"
#include "core/tparams.h"
#include "tls/tls.h"
#include "unit/test.h"

#include <stdlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)next();
}

static void test_frame_decoder(void) {
    uint8_t buf[96];
    size_t ok = 0;
    for (int iter = 0; iter < 300000; iter++) {
        size_t n = next() % sizeof(buf);
        fill(buf, n);
        /* Bias toward valid frame types so decoders get past the type byte. */
        if (n && (iter & 1)) buf[0] = (uint8_t)(next() % 0x20);
        uint8_t *copy = malloc(n ? n : 1); /* exact-size copy: ASan sees any overread */
        memcpy(copy, buf, n);
        qc_rd r = qc_rd_init(copy, n);
        while (qc_rd_left(&r) > 0) {
            qc_frame f;
            const uint8_t *before = r.p;
            int rv = qc_frame_decode(&r, &f);
            if (rv) {
                CHECK(rv == QC_ERR_FRAME_ENCODING || rv == QC_ERR_PROTO);
                CHECK(r.p == before);
                break;
            }
            ok++;
            CHECK(r.p > before && r.p <= copy + n);
            if (f.type == QC_FT_ACK || f.type == QC_FT_ACK_ECN) {
                qc_ack_iter it;
                qc_ack_iter_init(&it, &f);
                qc_range rg;
                uint64_t prev_lo = UINT64_MAX;
                while (qc_ack_iter_next(&it, &rg)) {
                    CHECK(rg.lo <= rg.hi);
                    CHECK(prev_lo == UINT64_MAX || rg.hi + 1 < prev_lo);
                    prev_lo = rg.lo;
                }
            }
        }
        free(copy);
    }
    CHECK(ok > 1000);
}

static void test_packet_and_tparams(void) {
    uint8_t buf[256];
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = next() % sizeof(buf);
        fill(buf, n);
        if (n && (iter & 1)) buf[0] |= 0xc0;
        if (n > 4 && (iter & 2)) {
            buf[1] = buf[2] = buf[3] = 0;
            buf[4] = 1;
        }
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, buf, n);
        qc_pkt_hdr h;
        int rv = qc_pkt_parse(copy, n, 8, &h);
        if (rv == 0) {
            CHECK(h.pkt_len <= n);
            if (h.type != QC_PT_VN && h.type != QC_PT_RETRY) CHECK(h.pn_offset < h.pkt_len);
        } else {
            CHECK(rv == QC_ERR_DECODE || rv == QC_ERR_VERSION);
        }
        qc_tparams tp;
        rv = qc_tparams_decode(&tp, iter & 1, copy, n);
        CHECK(rv == 0 || rv == QC_ERR_TPARAM);
        free(copy);
    }
}

/* Random datagrams and random payloads fed into a client connection. */
static void rnd_cb(void *u, uint8_t *b, size_t n) {
    fill(b, n);
}

static void test_conn_receive(void) {
    qc_conn_config cfg;
    qc_conn_config_default(&cfg, false);
    cfg.crypto = &qc_gnutls_crypto;
    cfg.rand = rnd_cb;
    for (int round = 0; round < 20; round++) {
        qc_cid d = {.len = 8}, s = {.len = 8};
        fill(d.id, 8);
        fill(s.id, 8);
        qc_conn *c;
        CHECK_EQ(qc_conn_new_client(&c, &cfg, &d, &s, 1), 0);
        for (int iter = 0; iter < 2000; iter++) {
            uint8_t dg[1300];
            size_t n = next() % sizeof(dg);
            fill(dg, n);
            if (n > 10 && (iter & 1)) {
                /* A long header addressed to us with version 1. */
                dg[0] = (uint8_t)(0xc0 | (next() & 0x3f));
                dg[1] = dg[2] = dg[3] = 0;
                dg[4] = 1;
                dg[5] = 8;
                if (n > 14) memcpy(dg + 6, s.id, 8);
            }
            qc_conn_recv(c, dg, n, 1 + (qc_ts)iter);
        }
        /* Nothing could be decrypted: the connection is untouched. */
        CHECK_EQ(qc_conn_state(c), QC_CONN_HANDSHAKING);
        qc_conn_free(c);
    }
}

int main(void) {
    TEST_RUN(test_frame_decoder);
    TEST_RUN(test_packet_and_tparams);
    TEST_RUN(test_conn_receive);
    return test_summary();
}
