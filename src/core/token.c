/* token.c: Retry/NEW_TOKEN tokens and stateless reset tokens (see token.h). */
#include "core/token.h"

#include "core/varint.h"

int qc_token_key_init(qc_token_key *k, const qc_crypto_provider *cp, const uint8_t secret[32]) {
    memset(k, 0, sizeof(*k));
    k->cp = cp;
    memcpy(k->secret, secret, 32);
    uint8_t key[16];
    int rv = cp->hkdf_expand_label(QC_SUITE_AES_128_GCM_SHA256, secret, 32, "quicc token", key, 16);
    if (rv) return rv;
    k->aead.suite = QC_SUITE_AES_128_GCM_SHA256;
    rv = cp->keys_init(&k->aead, key, NULL);
    memset(key, 0, sizeof(key));
    return rv;
}

void qc_token_key_free(qc_token_key *k) {
    if (k->cp) qc_keys_clear(k->cp, &k->aead);
    memset(k->secret, 0, sizeof(k->secret));
}

int qc_token_mint(qc_token_key *k, enum qc_token_kind kind, const uint8_t *addr, size_t addr_len,
                  const qc_cid *odcid, const qc_cid *retry_scid, qc_ts now, const uint8_t nonce[12],
                  uint8_t *out, size_t cap) {
    qc_wr w = qc_wr_init(out, cap);
    if (qc_wr_bytes(&w, nonce, 12)) return QC_ERR_NOBUF;
    uint8_t *plain = w.p;
    int rv = qc_wr_u8(&w, (uint8_t)kind);
    if (!rv) rv = qc_wr_u32(&w, (uint32_t)(now >> 32));
    if (!rv) rv = qc_wr_u32(&w, (uint32_t)now);
    if (!rv && kind == QC_TOKEN_RETRY) {
        rv = qc_wr_u8(&w, odcid->len);
        if (!rv) rv = qc_wr_bytes(&w, odcid->id, odcid->len);
        if (!rv) rv = qc_wr_u8(&w, retry_scid->len);
        if (!rv) rv = qc_wr_bytes(&w, retry_scid->id, retry_scid->len);
    }
    if (rv || qc_wr_left(&w) < QC_AEAD_TAG_LEN) return QC_ERR_NOBUF;
    size_t plen = (size_t)(w.p - plain);
    if (k->cp->seal(&k->aead, nonce, addr, addr_len, plain, plen)) return QC_ERR_CRYPTO;
    return (int)(12 + plen + QC_AEAD_TAG_LEN);
}

int qc_token_check(qc_token_key *k, const uint8_t *tok, size_t len, const uint8_t *addr,
                   size_t addr_len, qc_ts now, qc_ts max_age, enum qc_token_kind *kind,
                   qc_cid *odcid, qc_cid *retry_scid) {
    uint8_t buf[QC_TOKEN_MAX_LEN];
    if (len < 12 + 9 + QC_AEAD_TAG_LEN || len > sizeof(buf)) return QC_ERR_INVALID_TOKEN;
    memcpy(buf, tok, len);
    if (k->cp->open(&k->aead, buf, addr, addr_len, buf + 12, len - 12)) return QC_ERR_INVALID_TOKEN;
    qc_rd r = qc_rd_init(buf + 12, len - 12 - QC_AEAD_TAG_LEN);
    uint8_t kb;
    uint32_t hi, lo;
    if (qc_rd_u8(&r, &kb) || qc_rd_u32(&r, &hi) || qc_rd_u32(&r, &lo)) return QC_ERR_INVALID_TOKEN;
    qc_ts issued = ((qc_ts)hi << 32) | lo;
    if (issued > now || now - issued > max_age) return QC_ERR_INVALID_TOKEN;
    if (kb != QC_TOKEN_RETRY && kb != QC_TOKEN_NEW) return QC_ERR_INVALID_TOKEN;
    *kind = (enum qc_token_kind)kb;
    if (kb == QC_TOKEN_RETRY) {
        uint8_t l;
        if (qc_rd_u8(&r, &l) || l > QC_MAX_CID_LEN || qc_rd_copy(&r, odcid->id, l))
            return QC_ERR_INVALID_TOKEN;
        odcid->len = l;
        if (qc_rd_u8(&r, &l) || l > QC_MAX_CID_LEN || qc_rd_copy(&r, retry_scid->id, l))
            return QC_ERR_INVALID_TOKEN;
        retry_scid->len = l;
    }
    return qc_rd_left(&r) == 0 ? 0 : QC_ERR_INVALID_TOKEN;
}

int qc_token_stateless_reset(qc_token_key *k, const qc_cid *cid, uint8_t out[16]) {
    uint8_t prk[32];
    int rv =
        k->cp->hkdf_extract(QC_SUITE_AES_128_GCM_SHA256, k->secret, 32, cid->id, cid->len, prk);
    if (!rv) memcpy(out, prk, 16);
    memset(prk, 0, sizeof(prk));
    return rv;
}
