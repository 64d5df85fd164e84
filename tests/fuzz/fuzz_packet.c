/*
 * fuzz_packet: packet headers and coalesced packets (core/packet.c). The
 * first input byte gives the length of our connection IDs for short headers
 * (0..20); the rest is one datagram, parsed packet by packet the way the
 * receive path walks a coalesced datagram. Every parsed packet must lie
 * inside the datagram, and packet-number decoding must land within the
 * window RFC 9000 Appendix A.3 allows.
 */
#include "fuzz/fuzz.h"

#include "core/packet.h"

static void check_pn(uint64_t largest, uint64_t truncated, size_t pn_len) {
    truncated &= (pn_len == 4 ? 0xffffffffull : ((1ull << (8 * pn_len)) - 1));
    uint64_t pn = qc_pn_decode(largest, truncated, pn_len);
    uint64_t win = 1ull << (8 * pn_len);
    FZ_CHECK((pn & (win - 1)) == truncated);
    if (largest == UINT64_MAX) return;
    uint64_t expected = largest + 1;
    if (expected > win && expected + win < (1ull << 62))
        FZ_CHECK(pn + win / 2 >= expected && pn <= expected + win / 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t dcid_len = data[0] % 21;
    uint8_t *dg = fz_dup(data + 1, size - 1);
    size_t len = size - 1, off = 0;
    for (int i = 0; off < len && i < 64; i++) {
        qc_pkt_hdr h;
        int rv = qc_pkt_parse(dg + off, len - off, dcid_len, &h);
        if (rv == QC_ERR_VERSION) {
            FZ_CHECK(h.dcid.len <= 20 && h.scid.len <= 20);
            break;
        }
        if (rv) {
            FZ_CHECK(rv == QC_ERR_DECODE);
            break;
        }
        FZ_CHECK(h.pkt_len > 0 && h.pkt_len <= len - off);
        FZ_CHECK(h.dcid.len <= 20 && h.scid.len <= 20);
        if (h.type != QC_PT_VN && h.type != QC_PT_RETRY) FZ_CHECK(h.pn_offset <= h.pkt_len);
        if (h.token_len) FZ_CHECK(h.token >= dg + off && h.token + h.token_len <= dg + len);
        if (h.type == QC_PT_VN) FZ_CHECK(h.vn_versions + 4 * h.vn_count <= dg + len);
        if (h.type == QC_PT_RETRY) FZ_CHECK(h.retry_tag + 16 <= dg + len);
        if (h.pn_offset + 4 <= h.pkt_len) {
            const uint8_t *pn = dg + off + h.pn_offset;
            uint64_t t = (uint64_t)pn[0] << 24 | pn[1] << 16 | pn[2] << 8 | pn[3];
            uint64_t largest = size > 8 ? (uint64_t)data[size - 1] << 24 | data[size - 2] : 0;
            check_pn(largest, t, (size_t)(h.first & 3) + 1);
            check_pn(UINT64_MAX, t, (size_t)(h.first & 3) + 1);
        }
        if (!qc_pkt_is_long(h.type)) break; /* a short header runs to the datagram's end */
        off += h.pkt_len;
    }
    free(dg);
    return 0;
}
