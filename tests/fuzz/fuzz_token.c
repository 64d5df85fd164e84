/*
 * fuzz_token: address-validation tokens (core/token.c). The first byte picks
 * a mode:
 *   0: the rest is a token checked under a real (GnuTLS) key (the seed holds
 *      one really minted, which opens; anything else is refused);
 *   1: the same under the null-crypto provider, whose AEAD accepts any
 *      plaintext with a zero tag, so the parser behind the AEAD sees the bytes;
 *   2: the rest gives the fields of a token (kind, time, IDs, address); it is
 *      minted and checked, and must come back with the same fields, and be
 *      refused from another address and when too old.
 */
#include "fuzz/fuzz.h"

#include "core/token.h"
#include "support/nullcrypto.h"
#include "tls/tls.h"

static const uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void check_any(const qc_crypto_provider *cp, fz_in *in) {
    qc_token_key k;
    FZ_CHECK(qc_token_key_init(&k, cp, secret) == 0);
    uint8_t addr[19];
    size_t addr_len = fz_u8(in) % sizeof(addr);
    for (size_t i = 0; i < addr_len; i++)
        addr[i] = fz_u8(in);
    qc_ts now = (qc_ts)fz_u64(in);
    uint8_t *tok = fz_dup(in->p, in->n);
    enum qc_token_kind kind;
    qc_cid odcid, rscid;
    int rv =
        qc_token_check(&k, tok, in->n, addr, addr_len, now, 10 * QC_SEC, &kind, &odcid, &rscid);
    free(tok);
    FZ_CHECK(rv == 0 || rv == QC_ERR_INVALID_TOKEN);
    if (rv == 0) {
        FZ_CHECK(kind == QC_TOKEN_RETRY || kind == QC_TOKEN_NEW);
        if (kind == QC_TOKEN_RETRY) FZ_CHECK(odcid.len <= 20 && rscid.len <= 20);
    }
    qc_token_key_free(&k);
}

static void round_trip(fz_in *in) {
    qc_token_key k;
    FZ_CHECK(qc_token_key_init(&k, &qc_gnutls_crypto, secret) == 0);
    enum qc_token_kind kind = (fz_u8(in) & 1) ? QC_TOKEN_RETRY : QC_TOKEN_NEW;
    qc_ts now = (qc_ts)(fz_u64(in) >> 2) + QC_SEC;
    qc_cid odcid = {.len = (uint8_t)(fz_u8(in) % 21)}, rscid = {.len = (uint8_t)(fz_u8(in) % 21)};
    for (size_t i = 0; i < odcid.len; i++)
        odcid.id[i] = fz_u8(in);
    for (size_t i = 0; i < rscid.len; i++)
        rscid.id[i] = fz_u8(in);
    uint8_t nonce[12], addr[19];
    for (size_t i = 0; i < sizeof(nonce); i++)
        nonce[i] = fz_u8(in);
    size_t addr_len = 1 + fz_u8(in) % (sizeof(addr) - 1);
    for (size_t i = 0; i < addr_len; i++)
        addr[i] = fz_u8(in);
    uint8_t tok[QC_TOKEN_MAX_LEN];
    int n = qc_token_mint(&k, kind, addr, addr_len, &odcid, &rscid, now, nonce, tok, sizeof(tok));
    FZ_CHECK(n > 0 && n <= QC_TOKEN_MAX_LEN);
    enum qc_token_kind k2;
    qc_cid o2, r2;
    FZ_CHECK(qc_token_check(&k, tok, (size_t)n, addr, addr_len, now, QC_SEC, &k2, &o2, &r2) == 0);
    FZ_CHECK(k2 == kind);
    if (kind == QC_TOKEN_RETRY) FZ_CHECK(qc_cid_eq(&o2, &odcid) && qc_cid_eq(&r2, &rscid));
    FZ_CHECK(qc_token_check(&k, tok, (size_t)n, addr, addr_len, now + 2 * QC_SEC, QC_SEC, &k2, &o2,
                            &r2) == QC_ERR_INVALID_TOKEN);
    addr[0] ^= 1;
    FZ_CHECK(qc_token_check(&k, tok, (size_t)n, addr, addr_len, now, QC_SEC, &k2, &o2, &r2) ==
             QC_ERR_INVALID_TOKEN);
    qc_token_key_free(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    switch (fz_u8(&in) % 3) {
    case 0:
        check_any(&qc_gnutls_crypto, &in);
        break;
    case 1:
        check_any(&qc_null_crypto, &in);
        break;
    default:
        round_trip(&in);
        break;
    }
    return 0;
}
