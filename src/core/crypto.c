/*
 * crypto.c: QUIC packet protection (RFC 9001 §5) over a crypto provider:
 * Initial secrets, key/IV/HP derivation, key update, AEAD nonce
 * construction, header protection, and the Retry integrity tag.
 */
#include "core/crypto.h"

size_t qc_suite_secret_len(enum qc_suite s) {
    switch (s) {
    case QC_SUITE_AES_128_GCM_SHA256:
    case QC_SUITE_CHACHA20_POLY1305_SHA256:
        return 32;
    case QC_SUITE_AES_256_GCM_SHA384:
        return 48;
    default:
        return 0;
    }
}

uint64_t qc_suite_confidentiality_limit(enum qc_suite s) {
    /* AES-GCM: 2^23 packets; ChaCha20-Poly1305: larger than any packet number space. */
    return s == QC_SUITE_CHACHA20_POLY1305_SHA256 ? (1ull << 62) : (1ull << 23);
}

uint64_t qc_suite_integrity_limit(enum qc_suite s) {
    return s == QC_SUITE_CHACHA20_POLY1305_SHA256 ? (1ull << 36) : (1ull << 52);
}

size_t qc_suite_key_len(enum qc_suite s) {
    switch (s) {
    case QC_SUITE_AES_128_GCM_SHA256:
        return 16;
    case QC_SUITE_AES_256_GCM_SHA384:
    case QC_SUITE_CHACHA20_POLY1305_SHA256:
        return 32;
    default:
        return 0;
    }
}

int qc_initial_secrets(const qc_crypto_provider *cp, uint32_t version, const qc_cid *dcid,
                       uint8_t client_secret[32], uint8_t server_secret[32]) {
    const qc_version *v = qc_version_find(version);
    if (!v) return QC_ERR_VERSION;
    uint8_t initial[32];
    int rv = cp->hkdf_extract(QC_SUITE_AES_128_GCM_SHA256, v->initial_salt, sizeof(v->initial_salt),
                              dcid->id, dcid->len, initial);
    if (!rv)
        rv = cp->hkdf_expand_label(QC_SUITE_AES_128_GCM_SHA256, initial, 32, "client in",
                                   client_secret, 32);
    if (!rv)
        rv = cp->hkdf_expand_label(QC_SUITE_AES_128_GCM_SHA256, initial, 32, "server in",
                                   server_secret, 32);
    memset(initial, 0, sizeof(initial));
    return rv;
}

/* Derives key and IV (and, with hp_out, the HP key) of secret into k (not yet initialised). */
static int derive(const qc_crypto_provider *cp, qc_keys *k, const qc_version *ver,
                  enum qc_suite suite, const uint8_t *secret, size_t secret_len, uint8_t *key,
                  uint8_t *hp_out) {
    size_t klen = qc_suite_key_len(suite);
    if (!klen || !ver || secret_len != qc_suite_secret_len(suite)) return QC_ERR_INVAL;
    memset(k, 0, sizeof(*k));
    k->ver = ver;
    k->suite = suite;
    memcpy(k->secret, secret, secret_len);
    k->secret_len = secret_len;
    int rv = cp->hkdf_expand_label(suite, secret, secret_len, ver->label_key, key, klen);
    if (!rv) rv = cp->hkdf_expand_label(suite, secret, secret_len, ver->label_iv, k->iv, QC_IV_LEN);
    if (!rv && hp_out)
        rv = cp->hkdf_expand_label(suite, secret, secret_len, ver->label_hp, hp_out, klen);
    return rv;
}

int qc_keys_from_secret(const qc_crypto_provider *cp, qc_keys *k, const qc_version *ver,
                        enum qc_suite suite, const uint8_t *secret, size_t secret_len) {
    uint8_t key[QC_MAX_KEY_LEN], hp[QC_MAX_KEY_LEN];
    int rv = derive(cp, k, ver, suite, secret, secret_len, key, hp);
    if (!rv) rv = cp->keys_init(k, key, hp);
    memset(key, 0, sizeof(key));
    memset(hp, 0, sizeof(hp));
    return rv;
}

int qc_keys_update(const qc_crypto_provider *cp, qc_keys *next, const qc_keys *cur) {
    uint8_t secret[QC_MAX_SECRET_LEN], key[QC_MAX_KEY_LEN];
    if (!cur->ver) return QC_ERR_INVAL;
    int rv = cp->hkdf_expand_label(cur->suite, cur->secret, cur->secret_len, cur->ver->label_ku,
                                   secret, cur->secret_len);
    if (!rv) rv = derive(cp, next, cur->ver, cur->suite, secret, cur->secret_len, key, NULL);
    if (!rv) rv = cp->keys_init(next, key, NULL);
    if (!rv) next->hp = cp->hp_ref(cur->hp); /* header protection keys are not updated */
    memset(secret, 0, sizeof(secret));
    memset(key, 0, sizeof(key));
    return rv;
}

void qc_keys_clear(const qc_crypto_provider *cp, qc_keys *k) {
    if (k->aead || k->hp) cp->keys_free(k);
    memset(k, 0, sizeof(*k));
}

static void make_nonce(const qc_keys *k, uint64_t pn, uint8_t nonce[QC_IV_LEN]) {
    memcpy(nonce, k->iv, QC_IV_LEN);
    for (int i = 0; i < 8; i++)
        nonce[QC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
}

int qc_packet_protect(const qc_crypto_provider *cp, qc_keys *k, uint8_t *pkt, size_t pn_offset,
                      size_t pn_len, uint64_t pn, size_t payload_len) {
    size_t hdr_len = pn_offset + pn_len;
    /* The sample must lie inside the packet (RFC 9001 §5.4.2). */
    if (pn_offset + 4 + QC_HP_SAMPLE_LEN > hdr_len + payload_len + QC_AEAD_TAG_LEN)
        return QC_ERR_INVAL;
    uint8_t nonce[QC_IV_LEN];
    make_nonce(k, pn, nonce);
    if (cp->seal(k, nonce, pkt, hdr_len, pkt + hdr_len, payload_len)) return QC_ERR_CRYPTO;
    uint8_t mask[5];
    if (cp->hp_mask(k, pkt + pn_offset + 4, mask)) return QC_ERR_CRYPTO;
    pkt[0] ^= mask[0] & ((pkt[0] & 0x80) ? 0x0f : 0x1f);
    for (size_t i = 0; i < pn_len; i++)
        pkt[pn_offset + i] ^= mask[1 + i];
    return 0;
}

int qc_packet_unprotect_header(const qc_crypto_provider *cp, qc_keys *k, uint8_t *pkt,
                               size_t pkt_len, size_t pn_offset, uint64_t *truncated_pn,
                               size_t *pn_len) {
    if (pn_offset + 4 + QC_HP_SAMPLE_LEN > pkt_len) return QC_ERR_DECODE;
    uint8_t mask[5];
    if (cp->hp_mask(k, pkt + pn_offset + 4, mask)) return QC_ERR_DECODE;
    uint8_t first = pkt[0] ^ (mask[0] & ((pkt[0] & 0x80) ? 0x0f : 0x1f));
    size_t n = (size_t)(first & 3) + 1;
    pkt[0] = first;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        pkt[pn_offset + i] ^= mask[1 + i];
        v = (v << 8) | pkt[pn_offset + i];
    }
    *truncated_pn = v;
    *pn_len = n;
    return 0;
}

int qc_packet_decrypt(const qc_crypto_provider *cp, qc_keys *k, uint8_t *pkt, size_t pkt_len,
                      size_t hdr_len, uint64_t pn, uint8_t **payload, size_t *payload_len) {
    if (!k->aead || pkt_len < hdr_len + QC_AEAD_TAG_LEN) return QC_ERR_DECRYPT;
    uint8_t nonce[QC_IV_LEN];
    make_nonce(k, pn, nonce);
    if (cp->open(k, nonce, pkt, hdr_len, pkt + hdr_len, pkt_len - hdr_len)) return QC_ERR_DECRYPT;
    *payload = pkt + hdr_len;
    *payload_len = pkt_len - hdr_len - QC_AEAD_TAG_LEN;
    return 0;
}

int qc_retry_tag(const qc_crypto_provider *cp, uint32_t version, const qc_cid *odcid,
                 const uint8_t *retry, size_t retry_len, uint8_t tag[16]) {
    const qc_version *v = qc_version_find(version);
    if (!v) return QC_ERR_VERSION;
    uint8_t pseudo[1 + QC_MAX_CID_LEN + 1500];
    if (retry_len > 1500) return QC_ERR_INVAL;
    pseudo[0] = odcid->len;
    memcpy(pseudo + 1, odcid->id, odcid->len);
    memcpy(pseudo + 1 + odcid->len, retry, retry_len);
    return cp->aes128gcm_tag(v->retry_key, v->retry_nonce, pseudo, 1 + odcid->len + retry_len, tag);
}
