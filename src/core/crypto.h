/*
 * crypto.h: packet protection (RFC 9001 §5) on top of a crypto provider.
 *
 * The core never calls a crypto library: a qc_crypto_provider (implemented
 * by src/tls/crypto_gnutls.c) supplies HKDF, AEAD and header-protection
 * primitives through function pointers. Everything QUIC-specific (initial
 * secrets, key/iv/hp derivation labels, nonce construction, header
 * protection masking, key update, the Retry integrity tag) lives here.
 */
#ifndef QC_CRYPTO_H
#define QC_CRYPTO_H

#include "core/common.h"
#include "core/version.h"

enum qc_suite {
    QC_SUITE_NONE = 0,
    QC_SUITE_AES_128_GCM_SHA256 = 1,
    QC_SUITE_AES_256_GCM_SHA384 = 2,
    QC_SUITE_CHACHA20_POLY1305_SHA256 = 3,
};

#define QC_AEAD_TAG_LEN 16
#define QC_MAX_SECRET_LEN 48
#define QC_MAX_KEY_LEN 32
#define QC_IV_LEN 12
#define QC_HP_SAMPLE_LEN 16

typedef struct qc_crypto_provider qc_crypto_provider;

/* Keys for one direction of one epoch (one key phase for 1-RTT). */
typedef struct qc_keys {
    const qc_version *ver; /* whose labels derived these keys (key update uses them too) */
    enum qc_suite suite;
    uint8_t secret[QC_MAX_SECRET_LEN]; /* kept for key update */
    size_t secret_len;
    uint8_t iv[QC_IV_LEN];
    void *aead; /* provider handle, created by keys_init */
    void *hp;   /* provider handle */
} qc_keys;

struct qc_crypto_provider {
    /* HKDF-Extract with the hash of suite. */
    int (*hkdf_extract)(enum qc_suite suite, const uint8_t *salt, size_t salt_len,
                        const uint8_t *ikm, size_t ikm_len, uint8_t *prk);
    /* HKDF-Expand-Label (RFC 8446 §7.1) with an empty context. */
    int (*hkdf_expand_label)(enum qc_suite suite, const uint8_t *secret, size_t secret_len,
                             const char *label, uint8_t *out, size_t out_len);
    /* Creates the AEAD handle from key and, if hp_key is not NULL, the header-protection
     * handle. */
    int (*keys_init)(qc_keys *k, const uint8_t *key, const uint8_t *hp_key);
    /* Releases k's handles (the header-protection handle is reference counted). */
    void (*keys_free)(qc_keys *k);
    /* Takes one more reference on a header-protection handle (key update keeps it). */
    void *(*hp_ref)(void *hp);
    /* In-place AEAD: encrypts data[0..len) and writes the 16-byte tag at data+len. */
    int (*seal)(qc_keys *k, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, uint8_t *data,
                size_t len);
    /* In-place AEAD open of data[0..len) (tag included); returns QC_ERR_DECRYPT on failure. */
    int (*open)(qc_keys *k, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, uint8_t *data,
                size_t len);
    /* Header-protection mask (5 bytes) from a 16-byte sample. */
    int (*hp_mask)(qc_keys *k, const uint8_t *sample, uint8_t *mask);
    /* One-shot AES-128-GCM seal with a given key and nonce (Retry integrity tag). */
    int (*aes128gcm_tag)(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
                         uint8_t *tag);
};

/* Hash and key lengths of a suite. */
size_t qc_suite_secret_len(enum qc_suite s);
size_t qc_suite_key_len(enum qc_suite s);
/* AEAD usage limits of a suite (RFC 9001 §6.6): packets one key may protect
 * (confidentiality), and packets failing authentication a connection may see over all
 * its keys (integrity). */
uint64_t qc_suite_confidentiality_limit(enum qc_suite s);
uint64_t qc_suite_integrity_limit(enum qc_suite s);

/*
 * Derives the client and server Initial secrets (RFC 9001 §5.2, RFC 9369 §3.3.1) from
 * the client's first Destination Connection ID with the salt of version; QC_ERR_VERSION
 * for a version quicc does not speak.
 */
int qc_initial_secrets(const qc_crypto_provider *cp, uint32_t version, const qc_cid *dcid,
                       uint8_t client_secret[32], uint8_t server_secret[32]);

/* Derives key, iv and hp from secret with the labels of ver ("quic key", "quic iv",
 * "quic hp" for v1; "quicv2 ..." for v2) and fills k. */
int qc_keys_from_secret(const qc_crypto_provider *cp, qc_keys *k, const qc_version *ver,
                        enum qc_suite suite, const uint8_t *secret, size_t secret_len);
/* Next-generation keys for key update ("quic ku" or "quicv2 ku", as cur's version),
 * header protection kept from old. */
int qc_keys_update(const qc_crypto_provider *cp, qc_keys *next, const qc_keys *cur);
void qc_keys_clear(const qc_crypto_provider *cp, qc_keys *k);

/*
 * Protects a packet in place. pkt holds the header (pn_offset, pn_len) and
 * payload_len bytes of plaintext payload, with room for the 16-byte tag
 * after it. Applies AEAD, then header protection. Long-header Length must
 * already be set. Returns 0 or QC_ERR_CRYPTO.
 */
int qc_packet_protect(const qc_crypto_provider *cp, qc_keys *k, uint8_t *pkt, size_t pn_offset,
                      size_t pn_len, uint64_t pn, size_t payload_len);

/*
 * Removes header protection from pkt (pkt_len bytes, as qc_pkt_hdr.pkt_len)
 * in place and reports the truncated packet number and its length. Pure
 * given k: does not decrypt the payload. Returns 0 or QC_ERR_DECODE (too
 * short to sample).
 */
int qc_packet_unprotect_header(const qc_crypto_provider *cp, qc_keys *k, uint8_t *pkt,
                               size_t pkt_len, size_t pn_offset, uint64_t *truncated_pn,
                               size_t *pn_len);

/*
 * Decrypts the payload of a packet whose header protection was removed, in
 * place, with the full packet number pn. On success *payload points at the
 * plaintext inside pkt and *payload_len excludes the tag. Returns 0 or
 * QC_ERR_DECRYPT.
 */
int qc_packet_decrypt(const qc_crypto_provider *cp, qc_keys *k, uint8_t *pkt, size_t pkt_len,
                      size_t hdr_len, uint64_t pn, uint8_t **payload, size_t *payload_len);

/* Retry integrity tag (RFC 9001 §5.8; key and nonce of the version, RFC 9369 §3.3.3) over
 * the pseudo-packet built from odcid and retry; QC_ERR_VERSION for an unknown version. */
int qc_retry_tag(const qc_crypto_provider *cp, uint32_t version, const qc_cid *odcid,
                 const uint8_t *retry, size_t retry_len, uint8_t tag[16]);

#endif
