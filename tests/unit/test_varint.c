/* Unit tests for varint.h: boundaries, round trips, truncation, non-minimal encodings. */
#include "core/varint.h"
#include "unit/test.h"

static const uint64_t values[] = {
    0, 1, 63, 64, 16383, 16384, 1073741823, 1073741824, QC_MAX_VARINT - 1, QC_MAX_VARINT};
static const size_t lens[] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 8};

static void test_roundtrip_and_lengths(void) {
    for (size_t i = 0; i < QC_ARRAY_LEN(values); i++) {
        uint8_t buf[8];
        CHECK_EQ(qc_varint_len(values[i]), lens[i]);
        qc_wr w = qc_wr_init(buf, sizeof(buf));
        CHECK_EQ(qc_wr_varint(&w, values[i]), 0);
        CHECK_EQ(w.p - buf, lens[i]);
        qc_rd r = qc_rd_init(buf, lens[i]);
        uint64_t v = 0;
        size_t n = 0;
        CHECK_EQ(qc_rd_varint_len(&r, &v, &n), 0);
        CHECK_U64(v, values[i]);
        CHECK_EQ(n, lens[i]);
        CHECK_EQ(qc_rd_left(&r), 0);
        /* Every truncation fails and leaves the cursor where it was. */
        for (size_t cut = 0; cut < lens[i]; cut++) {
            qc_rd t = qc_rd_init(buf, cut);
            CHECK_EQ(qc_rd_varint(&t, &v), QC_ERR_DECODE);
            CHECK(t.p == buf);
        }
        /* A buffer one byte too small refuses to write. */
        qc_wr small = qc_wr_init(buf, lens[i] - 1);
        CHECK_EQ(qc_wr_varint(&small, values[i]), QC_ERR_NOBUF);
        CHECK(small.p == buf);
    }
    CHECK_EQ(qc_varint_len(QC_MAX_VARINT + 1), 0);
    uint8_t buf[8];
    qc_wr w = qc_wr_init(buf, 8);
    CHECK_EQ(qc_wr_varint(&w, QC_MAX_VARINT + 1), QC_ERR_INVAL);
}

/* RFC 9000 §A.1 examples, and non-minimal encodings decode to the same value. */
static void test_rfc_examples(void) {
    struct {
        const char *hex;
        uint64_t v;
    } ex[] = {{"c2197c5eff14e88c", 151288809941952652ull},
              {"9d7f3e7d", 494878333},
              {"7bbd", 15293},
              {"25", 37},
              {"4025", 37},
              {"80000025", 37},
              {"c000000000000025", 37}};
    for (size_t i = 0; i < QC_ARRAY_LEN(ex); i++) {
        uint8_t buf[8];
        size_t n = test_unhex(ex[i].hex, buf, sizeof(buf));
        qc_rd r = qc_rd_init(buf, n);
        uint64_t v = 0;
        size_t len = 0;
        CHECK_EQ(qc_rd_varint_len(&r, &v, &len), 0);
        CHECK_U64(v, ex[i].v);
        CHECK_EQ(len, n);
    }
}

static void test_fixed_width(void) {
    uint8_t buf[8];
    qc_wr w = qc_wr_init(buf, sizeof(buf));
    CHECK_EQ(qc_wr_u16(&w, 0xbeef), 0);
    CHECK_EQ(qc_wr_u32(&w, 0x01020304), 0);
    CHECK_EQ(qc_wr_u8(&w, 0x7f), 0);
    CHECK_EQ(qc_wr_u16(&w, 1), QC_ERR_NOBUF);
    qc_rd r = qc_rd_init(buf, 7);
    uint16_t a;
    uint32_t b;
    uint8_t c;
    CHECK_EQ(qc_rd_u16(&r, &a), 0);
    CHECK_EQ(qc_rd_u32(&r, &b), 0);
    CHECK_EQ(qc_rd_u8(&r, &c), 0);
    CHECK_U64(a, 0xbeef);
    CHECK_U64(b, 0x01020304);
    CHECK_U64(c, 0x7f);
    CHECK_EQ(qc_rd_u8(&r, &c), QC_ERR_DECODE);
    const uint8_t *p;
    r = qc_rd_init(buf, 2);
    CHECK_EQ(qc_rd_bytes(&r, 3, &p), QC_ERR_DECODE);
    CHECK_EQ(qc_rd_bytes(&r, 2, &p), 0);
    CHECK(p == buf);
}

int main(void) {
    TEST_RUN(test_roundtrip_and_lengths);
    TEST_RUN(test_rfc_examples);
    TEST_RUN(test_fixed_width);
    return test_summary();
}
