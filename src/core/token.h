/*
 * token.h: address-validation tokens (Retry and NEW_TOKEN, RFC 9000 §8.1)
 * and stateless reset tokens (§10.3) for a server, derived from one secret.
 *
 * A token is nonce (12 bytes) || AES-128-GCM(kind, time, odcid, retry scid)
 * with the client's address as associated data, so a token only opens for
 * the address it was issued to. Stateless reset tokens are HKDF-Extract
 * (HMAC-SHA256) of the connection ID keyed by the secret, so any process
 * holding the secret computes the same token for a CID. Randomness (the
 * nonce) and time come in as arguments.
 */
#ifndef QC_TOKEN_H
#define QC_TOKEN_H

#include "core/crypto.h"

enum qc_token_kind { QC_TOKEN_RETRY = 1, QC_TOKEN_NEW = 2 };

#define QC_TOKEN_MAX_LEN 96

typedef struct qc_token_key {
    const qc_crypto_provider *cp;
    uint8_t secret[32];
    qc_keys aead;
} qc_token_key;

int qc_token_key_init(qc_token_key *k, const qc_crypto_provider *cp, const uint8_t secret[32]);
void qc_token_key_free(qc_token_key *k);

/*
 * Mints a token. addr identifies the client address (any bytes, e.g. family,
 * IP and port). Retry tokens carry the client's original DCID and our Retry
 * SCID. Returns the token length, or QC_ERR_NOBUF / QC_ERR_CRYPTO.
 */
int qc_token_mint(qc_token_key *k, enum qc_token_kind kind, const uint8_t *addr, size_t addr_len,
                  const qc_cid *odcid, const qc_cid *retry_scid, qc_ts now, const uint8_t nonce[12],
                  uint8_t *out, size_t cap);

/*
 * Checks a token from a client at addr: it must open with addr, be no older
 * than max_age and not from the future. Fills *kind and, for Retry tokens,
 * odcid and retry_scid. Returns 0 or QC_ERR_INVALID_TOKEN.
 */
int qc_token_check(qc_token_key *k, const uint8_t *tok, size_t len, const uint8_t *addr,
                   size_t addr_len, qc_ts now, qc_ts max_age, enum qc_token_kind *kind,
                   qc_cid *odcid, qc_cid *retry_scid);

/* The stateless reset token of a connection ID. */
int qc_token_stateless_reset(qc_token_key *k, const qc_cid *cid, uint8_t out[16]);

#endif
