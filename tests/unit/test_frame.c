/* Unit tests for frame.c: every frame type round-trips byte for byte, every truncation fails
 * with the exact error without moving the cursor, ACK ranges, the permission table. */
#include "core/frame.h"
#include "unit/test.h"

static const uint8_t data[] = "the quick brown fox jumps over the lazy dog";

static qc_frame mk(uint64_t type) {
    qc_frame f;
    memset(&f, 0, sizeof(f));
    f.type = type;
    return f;
}

/* One representative of every frame type (STREAM and DATAGRAM with lengths). */
static size_t all_frames(qc_frame *out) {
    size_t n = 0;
    qc_frame f;
    f = mk(QC_FT_PING);
    out[n++] = f;
    f = mk(QC_FT_RESET_STREAM);
    f.u.reset_stream.stream_id = 4;
    f.u.reset_stream.app_error = 0x1234;
    f.u.reset_stream.final_size = 1ull << 40;
    out[n++] = f;
    f = mk(QC_FT_STOP_SENDING);
    f.u.stop_sending.stream_id = 8;
    f.u.stop_sending.app_error = 77;
    out[n++] = f;
    f = mk(QC_FT_CRYPTO);
    f.u.crypto.offset = 1000;
    f.u.crypto.data = data;
    f.u.crypto.len = 20;
    out[n++] = f;
    f = mk(QC_FT_NEW_TOKEN);
    f.u.new_token.token = data;
    f.u.new_token.len = 9;
    out[n++] = f;
    for (uint64_t t = 0x08; t <= 0x0f; t++) {
        if (!(t & QC_STREAM_BIT_LEN)) continue;
        f = mk(t);
        f.u.stream.stream_id = 0x3fff;
        f.u.stream.offset = (t & QC_STREAM_BIT_OFF) ? 123456 : 0;
        f.u.stream.data = data;
        f.u.stream.len = 11;
        f.u.stream.fin = (t & QC_STREAM_BIT_FIN) != 0;
        out[n++] = f;
    }
    uint64_t simple[] = {QC_FT_MAX_DATA,     QC_FT_MAX_STREAMS_BIDI,     QC_FT_MAX_STREAMS_UNI,
                         QC_FT_DATA_BLOCKED, QC_FT_STREAMS_BLOCKED_BIDI, QC_FT_STREAMS_BLOCKED_UNI};
    for (size_t i = 0; i < QC_ARRAY_LEN(simple); i++) {
        f = mk(simple[i]);
        f.u.max.max = 1ull << 59;
        out[n++] = f;
    }
    f = mk(QC_FT_MAX_STREAM_DATA);
    f.u.stream_max.stream_id = 3;
    f.u.stream_max.max = 65536;
    out[n++] = f;
    f = mk(QC_FT_STREAM_DATA_BLOCKED);
    f.u.stream_max.stream_id = 7;
    f.u.stream_max.max = 1;
    out[n++] = f;
    f = mk(QC_FT_NEW_CONNECTION_ID);
    f.u.new_cid.seq = 5;
    f.u.new_cid.retire_prior_to = 2;
    f.u.new_cid.cid.len = 20;
    memcpy(f.u.new_cid.cid.id, data, 20);
    memcpy(f.u.new_cid.reset_token, data + 20, 16);
    out[n++] = f;
    f = mk(QC_FT_RETIRE_CONNECTION_ID);
    f.u.retire_cid.seq = 3;
    out[n++] = f;
    f = mk(QC_FT_PATH_CHALLENGE);
    memcpy(f.u.path.data, data, 8);
    out[n++] = f;
    f = mk(QC_FT_PATH_RESPONSE);
    memcpy(f.u.path.data, data + 8, 8);
    out[n++] = f;
    f = mk(QC_FT_CONNECTION_CLOSE);
    f.u.close.error_code = QC_TE_PROTOCOL_VIOLATION;
    f.u.close.frame_type = 0x08;
    f.u.close.reason = data;
    f.u.close.reason_len = 5;
    out[n++] = f;
    f = mk(QC_FT_CONNECTION_CLOSE_APP);
    f.u.close.error_code = 0x100;
    f.u.close.reason = data;
    f.u.close.reason_len = 0;
    out[n++] = f;
    f = mk(QC_FT_HANDSHAKE_DONE);
    out[n++] = f;
    f = mk(QC_FT_DATAGRAM_LEN);
    f.u.datagram.data = data;
    f.u.datagram.len = 7;
    out[n++] = f;
    return n;
}

static void test_roundtrip_and_truncation(void) {
    qc_frame frames[64];
    size_t n = all_frames(frames);
    CHECK_EQ(n, 25);
    for (size_t i = 0; i < n; i++) {
        uint8_t a[256], b[256];
        qc_wr w = qc_wr_init(a, sizeof(a));
        CHECK_EQ(qc_frame_encode(&w, &frames[i]), 0);
        size_t len = (size_t)(w.p - a);
        qc_rd r = qc_rd_init(a, len);
        qc_frame d;
        CHECK_EQ(qc_frame_decode(&r, &d), 0);
        CHECK_EQ(qc_rd_left(&r), 0);
        CHECK_U64(d.type, frames[i].type);
        /* Re-encoding the decoded frame gives the same bytes. */
        qc_wr w2 = qc_wr_init(b, sizeof(b));
        CHECK_EQ(qc_frame_encode(&w2, &d), 0);
        CHECK_EQ(w2.p - b, len);
        CHECK_MEM(a, b, len);
        /* Every truncation fails with FRAME_ENCODING and leaves the cursor in place. */
        for (size_t cut = 1; cut < len; cut++) {
            qc_rd t = qc_rd_init(a, cut);
            int rv = qc_frame_decode(&t, &d);
            if (rv != QC_ERR_FRAME_ENCODING)
                fprintf(stderr, "frame 0x%llx cut %zu: rv %d\n", (unsigned long long)frames[i].type,
                        cut, rv);
            CHECK_EQ(rv, QC_ERR_FRAME_ENCODING);
            CHECK(t.p == a);
        }
        /* Too small an output buffer: NOBUF, nothing written. */
        qc_wr small = qc_wr_init(b, len - 1);
        CHECK_EQ(qc_frame_encode(&small, &frames[i]), QC_ERR_NOBUF);
        CHECK(small.p == b);
    }
}

static void test_field_values(void) {
    qc_frame frames[64];
    size_t n = all_frames(frames);
    for (size_t i = 0; i < n; i++) {
        uint8_t a[256];
        qc_wr w = qc_wr_init(a, sizeof(a));
        qc_frame_encode(&w, &frames[i]);
        qc_rd r = qc_rd_init(a, (size_t)(w.p - a));
        qc_frame d;
        CHECK_EQ(qc_frame_decode(&r, &d), 0);
        const qc_frame *f = &frames[i];
        if (f->type >= 0x08 && f->type <= 0x0f) {
            CHECK_U64(d.u.stream.stream_id, f->u.stream.stream_id);
            CHECK_U64(d.u.stream.offset, f->u.stream.offset);
            CHECK_EQ(d.u.stream.len, f->u.stream.len);
            CHECK_MEM(d.u.stream.data, f->u.stream.data, f->u.stream.len);
            CHECK_EQ(d.u.stream.fin, f->u.stream.fin);
        } else if (f->type == QC_FT_NEW_CONNECTION_ID) {
            CHECK(qc_cid_eq(&d.u.new_cid.cid, &f->u.new_cid.cid));
            CHECK_MEM(d.u.new_cid.reset_token, f->u.new_cid.reset_token, 16);
            CHECK_U64(d.u.new_cid.retire_prior_to, 2);
        } else if (f->type == QC_FT_CONNECTION_CLOSE) {
            CHECK_U64(d.u.close.frame_type, 0x08);
            CHECK_EQ(d.u.close.reason_len, 5);
            CHECK_MEM(d.u.close.reason, data, 5);
        } else if (f->type == QC_FT_RESET_STREAM) {
            CHECK_U64(d.u.reset_stream.final_size, 1ull << 40);
        }
    }
}

static void test_stream_without_length(void) {
    uint8_t a[64];
    uint8_t *p = qc_frame_stream_hdr_put(a, 4, 0, 10, false, true);
    CHECK_EQ(p - a, 2);
    memcpy(p, data, 10);
    qc_rd r = qc_rd_init(a, 12);
    qc_frame d;
    CHECK_EQ(qc_frame_decode(&r, &d), 0);
    CHECK_EQ(d.u.stream.len, 10); /* takes the rest of the packet */
    CHECK(d.u.stream.fin);
    CHECK_EQ(qc_frame_stream_hdr_len(4, 0, 10, false), 2);
    CHECK_EQ(qc_frame_stream_hdr_len(4, 100, 10, true), 1 + 1 + 2 + 1);
    /* DATAGRAM without length likewise. */
    uint8_t g[8] = {0x30, 1, 2, 3};
    r = qc_rd_init(g, 4);
    CHECK_EQ(qc_frame_decode(&r, &d), 0);
    CHECK_EQ(d.u.datagram.len, 3);
}

static void test_padding_run(void) {
    uint8_t a[10] = {0, 0, 0, 0, 0x01};
    qc_rd r = qc_rd_init(a, 5);
    qc_frame d;
    CHECK_EQ(qc_frame_decode(&r, &d), 0);
    CHECK_U64(d.type, QC_FT_PADDING);
    CHECK_EQ(d.u.padding.count, 4);
    CHECK_EQ(qc_frame_decode(&r, &d), 0);
    CHECK_U64(d.type, QC_FT_PING);
}

static void test_invalid_values(void) {
    struct {
        const char *hex;
        int err;
    } bad[] = {
        {"21", QC_ERR_FRAME_ENCODING},                       /* unknown type */
        {"4001", QC_ERR_PROTO},                              /* PING in two bytes */
        {"0205000006", QC_ERR_FRAME_ENCODING},               /* first range > largest */
        {"020a000104000a", QC_ERR_FRAME_ENCODING},           /* gap below zero */
        {"12d000000000000001", QC_ERR_FRAME_ENCODING},       /* MAX_STREAMS > 2^60 */
        {"16d000000000000001", QC_ERR_FRAME_ENCODING},       /* STREAMS_BLOCKED > 2^60 */
        {"0700", QC_ERR_FRAME_ENCODING},                     /* empty NEW_TOKEN */
        {"180100", QC_ERR_FRAME_ENCODING},                   /* NEW_CONNECTION_ID length 0 */
        {"1801021501", QC_ERR_FRAME_ENCODING},               /* retire_prior_to > seq */
        {"1801001501", QC_ERR_FRAME_ENCODING},               /* length 21 */
        {"0e00ffffffffffffffff01aa", QC_ERR_FRAME_ENCODING}, /* offset + len > 2^62-1 */
        {"06ffffffffffffffff01aa", QC_ERR_FRAME_ENCODING},   /* CRYPTO likewise */
    };
    for (size_t i = 0; i < QC_ARRAY_LEN(bad); i++) {
        uint8_t a[64];
        size_t n = test_unhex(bad[i].hex, a, sizeof(a));
        qc_rd r = qc_rd_init(a, n);
        qc_frame d;
        int rv = qc_frame_decode(&r, &d);
        if (rv != bad[i].err) fprintf(stderr, "case %s: %d\n", bad[i].hex, rv);
        CHECK_EQ(rv, bad[i].err);
        CHECK(r.p == a);
    }
}

static void test_ack_ranges(void) {
    qc_range in[] = {{95, 100}, {80, 90}, {50, 50}, {0, 10}};
    uint8_t a[128];
    qc_wr w = qc_wr_init(a, sizeof(a));
    CHECK_EQ(qc_frame_encode_ack(&w, in, 4, 17, NULL), 0);
    qc_rd r = qc_rd_init(a, (size_t)(w.p - a));
    qc_frame d;
    CHECK_EQ(qc_frame_decode(&r, &d), 0);
    CHECK_U64(d.type, QC_FT_ACK);
    CHECK_U64(d.u.ack.largest, 100);
    CHECK_U64(d.u.ack.ack_delay, 17);
    qc_ack_iter it;
    qc_ack_iter_init(&it, &d);
    qc_range got;
    size_t k = 0;
    while (qc_ack_iter_next(&it, &got)) {
        CHECK(k < 4);
        if (k < 4) {
            CHECK_U64(got.lo, in[k].lo);
            CHECK_U64(got.hi, in[k].hi);
        }
        k++;
    }
    CHECK_EQ(k, 4);
    /* ECN counts. */
    uint64_t ecn[3] = {5, 6, 7};
    w = qc_wr_init(a, sizeof(a));
    CHECK_EQ(qc_frame_encode_ack(&w, in, 1, 0, ecn), 0);
    r = qc_rd_init(a, (size_t)(w.p - a));
    CHECK_EQ(qc_frame_decode(&r, &d), 0);
    CHECK_U64(d.type, QC_FT_ACK_ECN);
    CHECK_U64(d.u.ack.ce, 7);
    /* A short buffer keeps the newest ranges only. */
    w = qc_wr_init(a, 9);
    CHECK_EQ(qc_frame_encode_ack(&w, in, 4, 17, NULL), 0);
    r = qc_rd_init(a, (size_t)(w.p - a));
    CHECK_EQ(qc_frame_decode(&r, &d), 0);
    CHECK(d.u.ack.range_count < 3);
    w = qc_wr_init(a, 3);
    CHECK_EQ(qc_frame_encode_ack(&w, in, 4, 17, NULL), QC_ERR_NOBUF);
    CHECK(w.p == a);
}

static void test_permissions(void) {
    /* RFC 9000 Table 3. */
    CHECK(qc_frame_allowed(QC_FT_PADDING, QC_PT_INITIAL));
    CHECK(qc_frame_allowed(QC_FT_CRYPTO, QC_PT_HANDSHAKE));
    CHECK(!qc_frame_allowed(QC_FT_CRYPTO, QC_PT_0RTT));
    CHECK(qc_frame_allowed(QC_FT_ACK, QC_PT_INITIAL));
    CHECK(!qc_frame_allowed(QC_FT_ACK, QC_PT_0RTT));
    CHECK(!qc_frame_allowed(0x0b, QC_PT_INITIAL));
    CHECK(!qc_frame_allowed(0x0b, QC_PT_HANDSHAKE));
    CHECK(qc_frame_allowed(0x0b, QC_PT_1RTT));
    CHECK(qc_frame_allowed(QC_FT_CONNECTION_CLOSE, QC_PT_HANDSHAKE));
    CHECK(!qc_frame_allowed(QC_FT_CONNECTION_CLOSE_APP, QC_PT_INITIAL));
    CHECK(!qc_frame_allowed(QC_FT_HANDSHAKE_DONE, QC_PT_HANDSHAKE));
    CHECK(qc_frame_allowed(QC_FT_HANDSHAKE_DONE, QC_PT_1RTT));
    CHECK(!qc_frame_allowed(QC_FT_NEW_TOKEN, QC_PT_0RTT));
    CHECK(!qc_frame_allowed(QC_FT_PATH_RESPONSE, QC_PT_0RTT));
    CHECK(qc_frame_allowed(QC_FT_PATH_CHALLENGE, QC_PT_0RTT));
    CHECK(qc_frame_allowed(QC_FT_DATAGRAM, QC_PT_1RTT));
    CHECK(!qc_frame_allowed(0x21, QC_PT_1RTT));
    CHECK(!qc_frame_ack_eliciting(QC_FT_ACK));
    CHECK(!qc_frame_ack_eliciting(QC_FT_PADDING));
    CHECK(!qc_frame_ack_eliciting(QC_FT_CONNECTION_CLOSE));
    CHECK(qc_frame_ack_eliciting(QC_FT_PING));
    CHECK(qc_frame_ack_eliciting(0x08));
    CHECK(qc_frame_probing(QC_FT_PATH_CHALLENGE));
    CHECK(qc_frame_probing(QC_FT_NEW_CONNECTION_ID));
    CHECK(!qc_frame_probing(QC_FT_PING));
    CHECK(strcmp(qc_frame_name(0x0d), "STREAM") == 0);
    CHECK(strcmp(qc_frame_name(0x99), "UNKNOWN") == 0);
}

int main(void) {
    TEST_RUN(test_roundtrip_and_truncation);
    TEST_RUN(test_field_values);
    TEST_RUN(test_stream_without_length);
    TEST_RUN(test_padding_run);
    TEST_RUN(test_invalid_values);
    TEST_RUN(test_ack_ranges);
    TEST_RUN(test_permissions);
    return test_summary();
}
