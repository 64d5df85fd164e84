/* Unit tests for packet.c: header parsing and writing for every packet type, packet-number
 * encoding and decoding (RFC 9000 Appendix A), coalesced packets, VN and Retry, truncation. */
#include "core/packet.h"
#include "unit/test.h"

static qc_cid cid(const char *hex) {
    qc_cid c;
    c.len = (uint8_t)test_unhex(hex, c.id, sizeof(c.id));
    return c;
}

/* Builds a long-header packet of type t with a payload of plen bytes (tag included). */
static size_t build_long(uint8_t *buf, size_t cap, enum qc_pkt_type t, uint64_t pn, size_t pn_len,
                         size_t plen, const uint8_t *token, size_t token_len) {
    qc_cid d = cid("0102030405060708"), s = cid("a1a2a3a4");
    qc_pkt_out out = {.type = t,
                      .version = QC_VERSION_1,
                      .dcid = &d,
                      .scid = &s,
                      .token = token,
                      .token_len = token_len,
                      .pn = pn,
                      .pn_len = pn_len};
    size_t pn_off;
    size_t h = qc_pkt_write_hdr(buf, cap, &out, &pn_off);
    CHECK(h > 0);
    memset(buf + h, 0xee, plen);
    qc_pkt_set_length(buf, pn_off, pn_len + plen);
    return h + plen;
}

static void test_long_header_roundtrip(void) {
    enum qc_pkt_type types[] = {QC_PT_INITIAL, QC_PT_0RTT, QC_PT_HANDSHAKE};
    uint8_t tok[5] = {9, 8, 7, 6, 5};
    for (size_t i = 0; i < QC_ARRAY_LEN(types); i++) {
        for (size_t pnl = 1; pnl <= 4; pnl++) {
            uint8_t buf[256];
            bool init = types[i] == QC_PT_INITIAL;
            size_t n = build_long(buf, sizeof(buf), types[i], 0x1234, pnl, 40, init ? tok : NULL,
                                  init ? 5 : 0);
            qc_pkt_hdr h;
            CHECK_EQ(qc_pkt_parse(buf, n, 8, &h), 0);
            CHECK_EQ(h.type, types[i]);
            CHECK_U64(h.version, QC_VERSION_1);
            qc_cid d = cid("0102030405060708"), s = cid("a1a2a3a4");
            CHECK(qc_cid_eq(&h.dcid, &d));
            CHECK(qc_cid_eq(&h.scid, &s));
            CHECK_EQ(h.pkt_len, n);
            CHECK_EQ((h.first & 3) + 1, pnl);
            if (init) {
                CHECK_EQ(h.token_len, 5);
                CHECK_MEM(h.token, tok, 5);
            }
            /* Every truncation is refused. */
            for (size_t cut = 0; cut < n; cut++)
                CHECK_EQ(qc_pkt_parse(buf, cut, 8, &h), QC_ERR_DECODE);
        }
    }
}

static void test_short_header(void) {
    qc_cid d = cid("0102030405060708");
    qc_pkt_out out = {.type = QC_PT_1RTT, .dcid = &d, .pn = 77, .pn_len = 2, .key_phase = true};
    uint8_t buf[64];
    size_t pn_off;
    size_t h = qc_pkt_write_hdr(buf, sizeof(buf), &out, &pn_off);
    CHECK_EQ(h, 1 + 8 + 2);
    CHECK_EQ(pn_off, 9);
    CHECK_EQ(buf[0], 0x40 | 0x04 | 0x01);
    memset(buf + h, 0, 20);
    qc_pkt_hdr ph;
    CHECK_EQ(qc_pkt_parse(buf, h + 20, 8, &ph), 0);
    CHECK_EQ(ph.type, QC_PT_1RTT);
    CHECK(qc_cid_eq(&ph.dcid, &d));
    CHECK_EQ(ph.pn_offset, 9);
    CHECK_EQ(ph.pkt_len, h + 20);
    /* Too short for a packet number and a tag. */
    CHECK_EQ(qc_pkt_parse(buf, 9 + 16, 8, &ph), QC_ERR_DECODE);
    /* The QUIC bit clear: parsed, and acceptable only where grease_quic_bit was advertised
     * (RFC 9287). */
    buf[0] &= (uint8_t)~0x40;
    CHECK_EQ(qc_pkt_parse(buf, h + 20, 8, &ph), 0);
    CHECK(!qc_pkt_quic_bit_ok(&ph, false));
    CHECK(qc_pkt_quic_bit_ok(&ph, true));
    buf[0] |= 0x40;
    CHECK_EQ(qc_pkt_parse(buf, h + 20, 8, &ph), 0);
    CHECK(qc_pkt_quic_bit_ok(&ph, false));
    /* Written clear when asked: short and long headers. */
    out.clear_quic_bit = true;
    h = qc_pkt_write_hdr(buf, sizeof(buf), &out, &pn_off);
    CHECK_EQ(buf[0], 0x04 | 0x01);
    qc_cid s2 = cid("aabb");
    qc_pkt_out lo = {.type = QC_PT_HANDSHAKE,
                     .version = QC_VERSION_1,
                     .dcid = &d,
                     .scid = &s2,
                     .pn = 1,
                     .pn_len = 1,
                     .clear_quic_bit = true};
    h = qc_pkt_write_hdr(buf, sizeof(buf), &lo, &pn_off);
    CHECK(h > 0);
    CHECK_EQ(buf[0] & 0xc0, 0x80);
    qc_pkt_set_length(buf, pn_off, 1 + 16);
    memset(buf + h, 0, 16);
    CHECK_EQ(qc_pkt_parse(buf, h + 16, 8, &ph), 0);
    CHECK_EQ(ph.type, QC_PT_HANDSHAKE);
    CHECK(!qc_pkt_quic_bit_ok(&ph, false));
}

static void test_coalesced(void) {
    uint8_t buf[1500];
    size_t a = build_long(buf, sizeof(buf), QC_PT_INITIAL, 0, 1, 100, NULL, 0);
    size_t b = build_long(buf + a, sizeof(buf) - a, QC_PT_HANDSHAKE, 5, 2, 60, NULL, 0);
    qc_cid d = cid("0102030405060708");
    qc_pkt_out out = {.type = QC_PT_1RTT, .dcid = &d, .pn = 9, .pn_len = 1};
    size_t pn_off;
    size_t c = qc_pkt_write_hdr(buf + a + b, sizeof(buf) - a - b, &out, &pn_off);
    memset(buf + a + b + c, 0x11, 30);
    size_t total = a + b + c + 30;
    enum qc_pkt_type want[] = {QC_PT_INITIAL, QC_PT_HANDSHAKE, QC_PT_1RTT};
    size_t off = 0, k = 0;
    while (off < total && k < 3) {
        qc_pkt_hdr h;
        CHECK_EQ(qc_pkt_parse(buf + off, total - off, 8, &h), 0);
        CHECK_EQ(h.type, want[k]);
        off += h.pkt_len;
        k++;
    }
    CHECK_EQ(k, 3);
    CHECK_EQ(off, total);
    /* A Length beyond the datagram is refused. */
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(buf, a - 1, 8, &h), QC_ERR_DECODE);
}

static void test_pn_decode_rfc(void) {
    /* RFC 9000 A.3: largest 0xa82f30ea, truncated 0x9b32 (16 bits) -> 0xa82f9b32. */
    CHECK_U64(qc_pn_decode(0xa82f30ea, 0x9b32, 2), 0xa82f9b32);
    CHECK_U64(qc_pn_decode(UINT64_MAX, 0, 1), 0);
    CHECK_U64(qc_pn_decode(UINT64_MAX, 5, 1), 5);
    /* Wrap forward and backward around the window. */
    CHECK_U64(qc_pn_decode(0xff, 0x01, 1), 0x101);
    CHECK_U64(qc_pn_decode(0x101, 0xff, 1), 0xff);
    CHECK_U64(qc_pn_decode(1000000, 1000001 & 0xffffff, 3), 1000001);
    CHECK_U64(qc_pn_decode(0x3fffffffffffffffull - 1, 0xff, 1), 0x3fffffffffffffffull);
    /* Exhaustive for 1-byte numbers near a base. */
    for (uint64_t largest = 200; largest < 600; largest++)
        for (uint64_t pn = largest - 100; pn < largest + 100; pn++)
            CHECK_U64(qc_pn_decode(largest, pn & 0xff, 1), pn);
}

static void test_pn_encode_len(void) {
    /* RFC 9000 A.2: largest acked 0xabe8b3, sending 0xac5c02 -> 2 bytes; 0xace8fe -> 3. */
    CHECK_EQ(qc_pn_encode_len(0xac5c02, 0xabe8b3), 2);
    CHECK_EQ(qc_pn_encode_len(0xace8fe, 0xabe8b3), 3);
    CHECK_EQ(qc_pn_encode_len(0, UINT64_MAX), 1);
    CHECK_EQ(qc_pn_encode_len(200, UINT64_MAX), 2);
    CHECK_EQ(qc_pn_encode_len(1u << 30, 0), 4);
    /* Whatever length is chosen, decoding with the peer's view gives the number back. */
    for (uint64_t la = 0; la < 5000; la += 37)
        for (uint64_t pn = la + 1; pn < la + 3000; pn += 13) {
            size_t n = qc_pn_encode_len(pn, la);
            uint64_t mask = (1ull << (8 * n)) - 1;
            CHECK_U64(qc_pn_decode(la, pn & mask, n), pn);
        }
}

static void test_version_negotiation(void) {
    qc_cid d = cid("0102"), s = cid("a1a2a3a4a5");
    uint32_t versions[] = {0x00000001, 0x6b3343cf};
    uint8_t buf[64];
    size_t n = qc_pkt_write_vn(buf, sizeof(buf), &d, &s, versions, 2, 0x2a);
    CHECK_EQ(n, 1 + 4 + 1 + 2 + 1 + 5 + 8);
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(buf, n, 8, &h), 0);
    CHECK_EQ(h.type, QC_PT_VN);
    CHECK_EQ(h.vn_count, 2);
    CHECK_EQ(h.vn_versions[3], 1);
    CHECK(qc_cid_eq(&h.scid, &s));
    /* A version list not a multiple of 4 bytes, or empty, is malformed. */
    CHECK_EQ(qc_pkt_parse(buf, n - 1, 8, &h), QC_ERR_DECODE);
    CHECK_EQ(qc_pkt_parse(buf, n - 8, 8, &h), QC_ERR_DECODE);
    CHECK_EQ(qc_pkt_write_vn(buf, 10, &d, &s, versions, 2, 0), 0);
}

static void test_unknown_version(void) {
    uint8_t buf[64] = {0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 4, 1, 2, 3, 4, 2, 9, 9};
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(buf, 40, 8, &h), QC_ERR_VERSION);
    CHECK_U64(h.version, 0x1a2a3a4a);
    CHECK_EQ(h.dcid.len, 4);
    CHECK_EQ(h.scid.len, 2);
}

static void test_retry(void) {
    qc_cid d = cid("a1a2a3a4"), s = cid("0102030405060708");
    uint8_t token[] = "opaque token";
    uint8_t buf[128];
    size_t n = qc_pkt_write_retry_body(buf, sizeof(buf), QC_VERSION_1, &d, &s, token, 12, 0);
    CHECK(n > 0);
    memset(buf + n, 0x77, 16); /* tag */
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(buf, n + 16, 8, &h), 0);
    CHECK_EQ(h.type, QC_PT_RETRY);
    CHECK_EQ(h.token_len, 12);
    CHECK_MEM(h.token, token, 12);
    CHECK(h.retry_tag == buf + n);
    CHECK(qc_cid_eq(&h.scid, &s));
    CHECK_EQ(qc_pkt_parse(buf, n, 8, &h), QC_ERR_DECODE); /* no room for token + tag */
    CHECK_EQ(qc_pkt_write_retry_body(buf, sizeof(buf), QC_VERSION_1, &d, &s, token, 0, 0), 0);
}

static void test_cid_too_long(void) {
    uint8_t buf[80] = {0xc0, 0, 0, 0, 1, 21};
    qc_pkt_hdr h;
    CHECK_EQ(qc_pkt_parse(buf, sizeof(buf), 8, &h), QC_ERR_DECODE);
}

int main(void) {
    TEST_RUN(test_long_header_roundtrip);
    TEST_RUN(test_short_header);
    TEST_RUN(test_coalesced);
    TEST_RUN(test_pn_decode_rfc);
    TEST_RUN(test_pn_encode_len);
    TEST_RUN(test_version_negotiation);
    TEST_RUN(test_unknown_version);
    TEST_RUN(test_retry);
    TEST_RUN(test_cid_too_long);
    return test_summary();
}
