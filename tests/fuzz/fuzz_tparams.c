/*
 * fuzz_tparams: the transport-parameter decoder (core/tparams.c) in both
 * roles. The first input byte picks the sender's role; the rest is the
 * extension body. Parameters that decode must encode again, and their
 * encoding must decode to parameters that encode to the same bytes.
 */
#include "fuzz/fuzz.h"

#include "core/tparams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool from_server = data[0] & 1;
    uint8_t *body = fz_dup(data + 1, size - 1);
    qc_tparams tp;
    qc_tparams_default(&tp);
    int rv = qc_tparams_decode(&tp, from_server, body, size - 1);
    free(body);
    if (rv) {
        FZ_CHECK(rv == QC_ERR_TPARAM);
        return 0;
    }
    FZ_CHECK(tp.max_udp_payload_size >= 1200);
    FZ_CHECK(tp.ack_delay_exponent <= 20);
    FZ_CHECK(tp.max_ack_delay_ms < (1u << 14));
    FZ_CHECK(tp.active_connection_id_limit >= 2);
    FZ_CHECK(tp.initial_max_streams_bidi <= (1ull << 60));
    FZ_CHECK(tp.initial_max_streams_uni <= (1ull << 60));
    FZ_CHECK(from_server || (!tp.has_original_dcid && !tp.has_retry_scid && !tp.has_reset_token &&
                             !tp.has_preferred_address));
    uint8_t a[2048], b[2048];
    int alen = qc_tparams_encode(&tp, from_server, a, sizeof(a));
    FZ_CHECK(alen >= 0); /* nothing to send is an empty extension */
    qc_tparams tp2;
    qc_tparams_default(&tp2);
    FZ_CHECK(qc_tparams_decode(&tp2, from_server, a, (size_t)alen) == 0);
    int blen = qc_tparams_encode(&tp2, from_server, b, sizeof(b));
    FZ_CHECK(blen == alen && memcmp(a, b, (size_t)alen) == 0);
    return 0;
}
